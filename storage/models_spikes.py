"""Detected spikes (bad buzz), one row per watch and hour, grouped into events: one event per
channel while it lasts, with one alert and a thread of follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class Spike(Base):
    """A volume or negative-share spike of a watch in one hour."""

    __tablename__ = "spikes"
    __table_args__ = (UniqueConstraint("watch_id", "hour_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    negative: Mapped[int] = mapped_column(Integer)
    negative_share: Mapped[float] = mapped_column(Float)
    baseline_negative_share: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(index=True)
    """The event it belongs to (None for spikes recorded before events existed); no foreign
    key (migration 0042 says why)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


OPEN_EVENT_SQL = "ended_at IS NULL"


class SpikeEvent(Base):
    """One bad-buzz event in a channel: the spikes of the channel's watches from the first
    spike hour until the hours are back to usual. Its first alert is posted at the top
    level; what follows goes in that alert's thread."""

    __tablename__ = "spike_events"
    __table_args__ = (Index("ix_spike_events_open", "workspace_id", "channel_id", unique=True,
                            sqlite_where=text(OPEN_EVENT_SQL),
                            postgresql_where=text(OPEN_EVENT_SQL)),
                      # Deleting an outbox row (retention) sets its event's reference to
                      # NULL: found by index, not by reading every event (0054).
                      Index(None, "alert_outbox_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    first_hour: Mapped[datetime]
    last_hour: Mapped[datetime]
    """The latest hour that was a spike."""
    reported_hour: Mapped[datetime | None]
    """The latest complete spike hour whose figures were posted in the thread."""
    alert_outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"))
    """The outbox row of the first alert: its ts is the thread of the follow-ups."""
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
