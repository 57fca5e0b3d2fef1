"""Influencers the team follows, the version of App Home's influencer ranking, and the
channels that get the monthly report.

Registered on ``Base.metadata`` by the imports of ``storage.models``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class TrackedInfluencer(Base):
    """An author the team follows: each new post of theirs alerts, whatever its priority.

    Tracking someone not seen yet creates their ``authors`` row, so ingest finds them by
    the author id it already has (one lookup per batch).
    """

    __tablename__ = "tracked_influencers"
    __table_args__ = (UniqueConstraint("workspace_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
    tracked_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HomeRankingVersion(Base):
    """How many times what App Home's influencer ranking reads changed in a workspace (a
    person forgotten, a watch added, removed or changing side, someone tracked): each
    process caches the ranking with the version it read and ranks again once it moved, so
    a change made by another process (the CLI, `vigie web` beside `vigie worker`) shows at
    once there too. No row: version 0."""

    __tablename__ = "home_ranking_versions"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class ReportSchedule(Base):
    """A channel that asked for the monthly report (`/cm report schedule monthly`)."""

    __tablename__ = "report_schedules"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportRun(Base):
    """One monthly report sent to a channel: the unique key makes it happen once across
    workers and restarts (inserted with the report's outbox row)."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


