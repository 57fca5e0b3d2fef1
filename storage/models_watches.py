"""A mention's links to the watches it matches (a post is stored once per workspace and
belongs to every watch whose query it matches).

Registered on ``Base.metadata`` by the imports of ``storage.models``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class MentionWatch(Base):
    """One watch's claim on a mention, with that watch's own alert decision and card.

    The mention's first watch (``mentions.watch_id``) has the link ``is_first``; database
    triggers (migration 0016) create it with the mention and keep its copied columns in
    step, so code writing ``mentions`` alone stays right. Other watches get a link when one
    of their sources delivers the post and their query matches it.

    ``network``, ``sentiment`` (the label or ``unknown``), ``published_at`` and ``reach`` are
    copies of
    the mention's, kept by those triggers: the hourly count tables count links, per watch,
    by published hour, without reading the mentions. ``priority`` is the mention's priority
    for this watch (its weight); ``alerted`` says this watch decided to alert on it (set when
    its card is queued), ``slack_channel`` and ``slack_ts`` where the card was posted (two
    watches on one channel share one card).
    ``watch_id`` is None once the watch is deleted; ``competitor`` then keeps the side its
    watch was on, which the counts keep it under (watch 0 for the brand's,
    ``storage.reporting_counts.NO_COMPETITOR_WATCH`` for a competitor's).
    """

    __tablename__ = "mention_watches"
    __table_args__ = (
        UniqueConstraint("mention_id", "watch_id"),
        Index(None, "watch_id", "published_at"),
        # A watch's listing (`/cm mentions watch:X`): its links, newest mention first.
        Index(None, "watch_id", "mention_id"),
        # The links beyond a mention's first (posts in several watches): what a report over
        # several watches takes off its sum so that a post counts once
        # (storage.reporting_counts).
        Index("ix_mention_watches_doubles", "watch_id", "published_at", "mention_id",
              sqlite_where=text("NOT is_first"), postgresql_where=text("NOT is_first")),
        # What waited for the digest in a watch over a day (its links that did not alert),
        # from the index alone: the digest's examples of it (above a priority floor).
        # Its predicate's column last, so SQLite answers from the index alone.
        Index("ix_mention_watches_waiting", "watch_id", "published_at", "priority",
              "mention_id", "alerted", sqlite_where=text("NOT alerted"),
              postgresql_where=text("NOT alerted")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    is_first: Mapped[bool] = mapped_column(Boolean, default=False)
    network: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16), default="unknown")
    published_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_forced: Mapped[bool] = mapped_column(Boolean, default=False,
                                               server_default=false())
    """The watch alerted whatever the threshold said (a tracked author's post, a story's
    or a case's card a later post made urgent): a decision no learned shift changes, so
    the team's actions on it are no triage labels (``bot.services.triage_labels``)."""
    competitor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Set when the link's watch, a competitor's, is removed (migration 0068): the link
    stays the competitor's in the brand's figures (``storage.reporting_counts.release_watch``).
    False on the links of live watches, whose side is the watch's ``kind``."""
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
