"""Workspaces whose outbox is paused because Slack refused their bot token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class OutboxPause(Base):
    """One row per paused workspace: its messages stay pending until the token works again.

    The row is deleted when a delivery for the workspace succeeds, or Slack accepts its
    token again (``auth.test``, asked when nothing is due to try; the audit trail keeps
    the pause: ``outbox.paused`` / ``outbox.resumed`` events).
    """

    __tablename__ = "outbox_pauses"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    error: Mapped[str] = mapped_column(String(64))
    """Slack's error code (``token_revoked``...), or ``not_installed``."""
    detail: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime] = mapped_column(default=utcnow)
    probes: Mapped[int] = mapped_column(Integer, default=0)
    """Deliveries (or checks of the token, ``auth.test``) tried since the pause began, each
    refused."""
    last_probe_at: Mapped[datetime | None]
    next_probe_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxPace(Base):
    """When each channel may next be sent a message: the per-channel pace every sender of
    every process shares (see ``bot.services.outbox``). A row appears with a channel's first
    message; a sender takes a slot by moving ``next_at`` forward (``storage.claims.take_slot``).
    """

    __tablename__ = "outbox_pace"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[datetime]
    """No message goes to the channel before this time."""
