"""The brand's own accounts, cases (a customer's conversation with the brand) and the
quiet backfill of new sources.

Uniqueness lives in the database so several workers never create a case, or file a post
in one, twice: a case is unique per workspace, network, thread and customer, and a post
belongs to at most one case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class BrandAccount(Base):
    """A handle the brand posts from on one network (normalised, lower case)."""

    __tablename__ = "brand_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A customer's conversation with the brand: its first mention carries the card, the
    SLA and the workflow state; follow-ups and the brand's replies are its posts."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "thread_key", "customer"),
                      # The SLA checks read the cases whose wait restarted lately.
                      Index(None, "sla_started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    thread_key: Mapped[str] = mapped_column(String(500))
    """The conversation's root post id (X conversation id, Bluesky thread root, or the
    first stored post of a reply chain)."""
    customer: Mapped[str] = mapped_column(String(200))
    """The customer's handle, lower case; ``ANONYMOUS:<root mention id>`` (upper case, no
    handle's) when its first mention has no author (``Author.anonymous``): each such post
    is a customer of its own (cases before this key used ``unknown``)."""
    root_mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    """``open`` (waiting on the brand) or ``replied`` (the brand answered last)."""
    sla_started_at: Mapped[datetime | None]
    """When the current wait for the brand began (when the last customer post that reopened
    it reached Vigie); None: the root mention's own received time."""
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CasePost(Base):
    """One post of a case, from the customer (a stored mention) or from the brand."""

    __tablename__ = "case_posts"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "external_id"),
                      Index(None, "case_id", "published_at"),
                      Index(None, "workspace_id", "network", "parent_external_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    """None for a brand post whose customer mention is not stored (yet)."""
    mention_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(500))
    parent_external_id: Mapped[str | None] = mapped_column(String(500))
    by_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuietMention(Base):
    """A mention stored without alert and without SLA (older than the backfill window)."""

    __tablename__ = "quiet_mentions"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            primary_key=True)
    reason: Mapped[str] = mapped_column(String(16), default="backfill")


class SourceBackfill(Base):
    """A source's quiet backfill: pending until its next successful poll (new or resumed),
    and how many old posts that poll stored quietly."""

    __tablename__ = "source_backfills"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           primary_key=True)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    backfilled: Mapped[int] = mapped_column(Integer, default=0)
    window_hours: Mapped[int | None] = mapped_column(Integer)
    polled_at: Mapped[datetime | None]


class PostAlias(Base):
    """Another name a network gives a stored post: a Mastodon status's id local to the
    instance it was fetched through (``{instance}/statuses/{id}``), which replies fetched
    through that instance use for their parent, mapped to the status URI Vigie keys it by."""

    __tablename__ = "post_aliases"
    __table_args__ = (
        UniqueConstraint("workspace_id", "network", "alias"),
        # Deleting a mention's aliases by its key, and the hourly sweep's keyset walk.
        Index("ix_post_aliases_workspace_id_network_external_id",
              "workspace_id", "network", "external_id"),
        Index("ix_post_aliases_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    alias: Mapped[str] = mapped_column(String(500))
    external_id: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
