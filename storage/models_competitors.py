"""Competitive listening: groups comparing the brand's watches with competitors' watches, and
conquest opportunities (a competitor's unhappy customer, offered to the brand's team).

Registered on ``Base.metadata`` by the imports of ``storage.models``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow

WATCH_BRAND = "brand"
WATCH_COMPETITOR = "competitor"
WATCH_KINDS = (WATCH_BRAND, WATCH_COMPETITOR)


class WatchGroup(Base):
    """A comparison: the brand's watches and its competitors' (``watch_group_members``).

    ``conquest`` turns on conquest opportunities for the group's competitors' mentions.
    """

    __tablename__ = "watch_groups"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        # Lookups compare lower(name), as for watches (migration 0036; see Watch for
        # batch migrations on SQLite).
        Index("uq_watch_groups_workspace_id_lower_name", "workspace_id", text("lower(name)"),
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    conquest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchGroupMember(Base):
    """A watch in a group; a watch belongs to one group at most (unique ``watch_id``), so
    an opportunity always knows which brand channel it goes to."""

    __tablename__ = "watch_group_members"
    __table_args__ = (UniqueConstraint("watch_id"), Index(None, "group_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("watch_groups.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))


class Opportunity(Base):
    """A competitor's mention offered to the brand's team as a conquest opportunity.

    ``reason`` is ``alternative`` (the author asks for one or says they are leaving) or
    ``unhappy`` (a complaint or a negative mention). ``status`` moves open -> assigned ->
    drafted -> contacted, or to dismissed; nothing is ever posted to the network by Vigie.
    """

    __tablename__ = "opportunities"
    __table_args__ = (
        UniqueConstraint("mention_id", "group_id"),
        Index(None, "workspace_id", "published_at"),
        Index(None, "workspace_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("watch_groups.id", ondelete="CASCADE"))
    competitor_watch_id: Mapped[int | None] = mapped_column(
        ForeignKey("watches.id", ondelete="SET NULL"))
    channel_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_user_id: Mapped[str | None] = mapped_column(String(32))
    draft: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(32))
