"""Per-member notification state: whether they want DMs, the approval digest's window, and
whether their App Home needs publishing again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base


class NotificationState(Base):
    """One Slack user's notification settings and pending work in a workspace.

    A row exists only once something concerned the user (or they chose a setting); no row
    means "DMs on, nothing pending".
    """

    __tablename__ = "notification_states"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    dm_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    digest_owed: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A draft started waiting for this approver since their last approval digest."""
    digest_sent_at: Mapped[datetime | None]
    """When their last approval digest was queued (the window counts from there)."""
    home_stale_at: Mapped[datetime | None]
    """Set when a change concerns them; cleared once their App Home is published again."""
