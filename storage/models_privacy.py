"""Daily aggregates kept when old mentions are purged by the retention policy."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base


class MentionRollup(Base):
    """How many mentions (and how many answered) a watch had per published day, network
    and sentiment, folded from the watch's links when retention purges them.

    A mention counts once in each watch it belonged to; ``is_first`` marks the rows folded
    from mentions' first links, which a workspace-wide sum reads (each mention once), as
    the hourly count tables do.
    """

    __tablename__ = "mention_rollups"
    __table_args__ = (UniqueConstraint("workspace_id", "watch_id", "network", "sentiment",
                                       "day", "is_first", name="uq_mention_rollups_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    network: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16))
    day: Mapped[str] = mapped_column(String(10))
    is_first: Mapped[bool] = mapped_column(Boolean, default=True)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)
