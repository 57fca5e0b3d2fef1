"""Who may do what: roles are hierarchical (viewer < agent < approver < admin)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.services.errors import Forbidden
from storage import repositories as repo
from storage.models import Role

DEFAULT_ROLE = Role.AGENT
"""The role of a workspace member Vigie has no row for."""


def role_of(session: Session, workspace_id: int, user_id: str) -> Role:
    """The user's role (members without a row are agents)."""
    member = repo.get_member(session, workspace_id, user_id)
    return Role(member.role) if member is not None else DEFAULT_ROLE


def require_role(session: Session, workspace_id: int, user_id: str, needed: Role) -> Role:
    """Raise Forbidden (explaining who can) unless the user has ``needed`` or better."""
    role = role_of(session, workspace_id, user_id)
    if role.rank < needed.rank:
        raise Forbidden("perm.denied", needed=needed.value, role=role.value)
    return role
