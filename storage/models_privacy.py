"""What retention keeps of the mentions it purges (``purged_links``), and what ``forget``
erased and retention purged (keyed hashes only), so that it is never stored again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class PurgedLink(Base):
    """A link of a mention retention deleted that belonged to several watches: its watch,
    whether it was the mention's first, and the columns the count tables key it by (no
    text, author or card). A report over several watches takes a post they share off its
    sum of their counts once per watch beyond the first (``storage.reporting_counts``); for
    stored mentions it reads that from their links, for purged ones from these rows, which
    ``mention_id`` (the id the mention had) and ``published_at`` group.
    """

    __tablename__ = "purged_links"
    __table_args__ = (
        Index("ix_purged_links_watch_id_published_at", "watch_id", "published_at"),
        Index("ix_purged_links_mention_id", "mention_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(Integer)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    is_first: Mapped[bool] = mapped_column(Boolean)
    network: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(Integer)
    competitor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The link's ``competitor`` (migration 0068): a removed competitor's link."""


class ForgetKey(Base):
    """A workspace's key for the keyed hashes of ``forgotten`` and ``purged_posts`` (random,
    made at its first forget or purge), stored like a source token: encrypted by the secret
    box when a key is set, so the hashes cannot be tried against a list of handles (or of
    post ids) by whoever reads the database."""

    __tablename__ = "forget_keys"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Forgotten(Base):
    """What ``forget`` erased, so that it never comes back: a keyed hash of the handle
    (``kind`` ``handle``, in lower case; ``exact``, as typed, for the networks whose names
    have case) and of each deleted post's network and id (``post``), never the
    handle or the post itself. ``subject`` is the handle's hash on every row of one forget,
    which an undo deletes together."""

    __tablename__ = "forgotten"
    __table_args__ = (
        UniqueConstraint("workspace_id", "digest", name="uq_forgotten_workspace_id_digest"),
        Index("ix_forgotten_workspace_id_subject", "workspace_id", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurgedPost(Base):
    """A post retention deleted, as a keyed hash of its network and id (the workspace's
    ``forget_keys`` key, as ``forgotten``'s posts): the counts still hold it, so ingest does
    not store it again when a source brings it back. Nothing else of the post is kept.

    Kept for the workspace's life, by design (never pruned): the counts hold the post for
    ever, and a source may bring it back at any age (a new source's history, a late feed
    entry, a backlog after downtime, a webhook push: ingest stores a post never stored
    however old it is, migration 0041), so a row dropped at any age would let that post be
    counted twice. A row is a workspace id and a 64-character hash, a small fraction of the
    mention it replaces; it goes with its workspace (cascade).
    """

    __tablename__ = "purged_posts"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
