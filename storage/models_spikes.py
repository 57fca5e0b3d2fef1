"""Detected spikes (bad buzz), one row per watch and hour: the cooldown and the digest read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
