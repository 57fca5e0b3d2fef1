"""Replies posted back to networks: the idempotency key is stored before the network call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class ReplyPost(Base):
    """One approved draft to post (at most one external post per draft)."""

    __tablename__ = "reply_posts"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "mention_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"),
                                          unique=True)
    network: Mapped[str] = mapped_column(String(32))
    target_external_id: Mapped[str | None] = mapped_column(String(500))
    """The post the reply answers, chosen at its first attempt and kept for every retry
    (migration 0053): the customer's newest post may change meanwhile. NULL until then."""
    target_url: Mapped[str | None] = mapped_column(Text)
    target_language: Mapped[str | None] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Calls that count toward the reply's limit (a rate limit's call does not)."""
    rate_limited_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Calls the network answered with a rate limit: posting has started all the same."""
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    external_id: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    """Why the last attempt failed, in plain English words (after ``RATE_LIMITED`` while the
    reply waits for a rate limit): what every release reads and shows."""
    error_phrase: Mapped[str | None] = mapped_column(Text)
    """The same reason as a catalogue phrase (JSON), worded in each reader's language
    (migration 0062); NULL when ``error`` is none or was written by a release before it."""
    approved_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None]
