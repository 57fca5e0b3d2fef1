"""The audit trail: one row per action, written in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.services.actors import Actor
from storage.models import AuditEvent


def record(
    session: Session, workspace_id: int, actor: Actor, action: str, *,
    mention_id: int | None = None, from_status: str | None = None,
    to_status: str | None = None, reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        workspace_id=workspace_id, mention_id=mention_id, actor=actor.name, action=action,
        surface=actor.surface, from_status=from_status, to_status=to_status, reason=reason,
        detail=detail or {},
    )
    session.add(event)
    return event
