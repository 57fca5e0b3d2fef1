"""Reporting tables: per-channel digest schedules and the record of digests already sent.

Registered on ``Base.metadata`` by the imports of ``storage.models``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow

DEFAULT_DIGEST_TIME = "09:00"


class DigestSchedule(Base):
    """When (local time and zone) a channel gets its daily digest, or that it gets none.

    A channel without a row gets the default: 09:00 in the workspace's time zone when a
    watch alerts there. ``timezone`` None means the workspace's zone.
    """

    __tablename__ = "digest_schedules"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    local_time: Mapped[str] = mapped_column(String(5), default=DEFAULT_DIGEST_TIME)
    timezone: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    skip_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DigestRun(Base):
    """One daily digest done for a channel and local date.

    The unique key makes the daily run happen once across workers and restarts: the row is
    inserted in the same transaction as the digest's outbox rows. ``series`` keeps the
    chart's complete days so the next run only counts the days after them.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "local_date"),
        Index(None, "workspace_id", "channel_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[date] = mapped_column(Date)
    scheduled_for: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    posted: Mapped[bool] = mapped_column(Boolean, default=True)
    series: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


OPEN_WORK_SQL = (
    "status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved') "
    "AND (alerted OR status <> 'new') AND COALESCE(intent, '') <> 'spam'"
)
"""Open work (see ``bot.services.reporting.queries``), spelled exactly as the partial index's
predicate: both engines use a partial index only for a query repeating its terms."""



class MentionHourCount(Base):
    """How many mentions a watch holds per UTC hour of publication, network and sentiment.

    Kept equal to the ``mention_watches`` links by database triggers (insert, delete and
    every update of a counted column, migration 0016), so reports read a few hundred rows
    instead of scanning a day of mentions. ``hour`` is hours since 1970-01-01 UTC of the
    published time; ``watch_id`` 0 counts mentions without a watch; ``sentiment`` is the
    label or ``unknown``; ``is_first`` rows count each mention once (its first watch's
    link), which is what a workspace-wide figure sums.
    """

    __tablename__ = "mention_hour_counts"
    __table_args__ = (UniqueConstraint("workspace_id", "watch_id", "hour", "network",
                                       "sentiment", "is_first"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)
    network: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16))
    is_first: Mapped[bool] = mapped_column(Boolean)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The summed reach (``mention_watches.reach``) of the counted links (migration 0025)."""


class MentionDayCount(Base):
    """``mention_hour_counts`` summed per UTC day (``day``: days since 1970-01-01 UTC, the
    day of the counted hour), kept by the same link triggers (migration 0030): a report over
    many days reads its whole days here and only the hours at its edges by the hour."""

    __tablename__ = "mention_day_counts"
    __table_args__ = (UniqueConstraint("workspace_id", "watch_id", "day", "network",
                                       "sentiment", "is_first"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    network: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16))
    is_first: Mapped[bool] = mapped_column(Boolean)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class MentionPriorityCount(Base):
    """How many mentions a watch holds per UTC hour of publication, priority (for that
    watch) and alerted flag (that watch's card).

    Kept by the same triggers as ``MentionHourCount``; the digest counts what waited below
    each watch's alert threshold from it.
    """

    __tablename__ = "mention_priority_counts"
    __table_args__ = (UniqueConstraint("workspace_id", "watch_id", "hour", "priority",
                                       "alerted", "is_first"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    alerted: Mapped[bool] = mapped_column(Boolean)
    is_first: Mapped[bool] = mapped_column(Boolean)
    mentions: Mapped[int] = mapped_column(Integer, default=0)


NOT_ACTIONABLE_SQL = "(status = 'ignored' OR COALESCE(intent, '') = 'spam')"
"""Mentions nobody is expected to answer, spelled as the partial index's predicate."""
ANSWERED_SQL = "(first_response_at IS NOT NULL OR replied_at IS NOT NULL)"
"""Answered mentions, spelled as the partial index's predicate."""

