"""SLA notices already sent: one row per mention and kind, so none is ever repeated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class SlaNotice(Base):
    """A reminder, breach notice or escalation sent for a mention."""

    __tablename__ = "sla_notices"
    __table_args__ = (UniqueConstraint("mention_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
