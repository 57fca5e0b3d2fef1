"""Topic routes: a watch's alerts about one topic go to another channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class TopicRoute(Base):
    """Alerts of ``watch_id`` about ``topic`` are posted in ``channel_id``."""

    __tablename__ = "topic_routes"
    __table_args__ = (UniqueConstraint("watch_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
