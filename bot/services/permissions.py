"""Who may do what: roles are hierarchical (viewer < agent < approver < admin).

``Role`` is re-exported for the `/cm` table (handlers declare each verb's role with it)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import Actor
from bot.services.errors import Forbidden
from storage import repositories as repo
from storage.models import Role, Workspace

__all__ = ["ANYONE", "DEFAULT_ROLE", "Role", "check_role", "default_role", "granted_role",
           "is_grant", "require_role", "role_of"]

DEFAULT_ROLE = Role.AGENT
"""The role of a member nobody granted one, unless the workspace chose viewer
(`/cm settings default_role viewer`)."""


def default_role(session: Session, workspace_id: int) -> Role:
    """The role of members nobody granted one in this workspace: viewer or agent."""
    workspace = session.get(Workspace, workspace_id)
    chosen = (workspace.settings or {}).get("default_role") if workspace is not None else None
    return Role.VIEWER if chosen == Role.VIEWER.value else DEFAULT_ROLE


def is_grant(role: str, granted_by: str | None) -> bool:
    """True when a member row holds a role someone gave: a row Vigie made on its own (no
    ``granted_by``, e.g. to keep a language, or a grant removed) holds none."""
    return granted_by is not None or role != DEFAULT_ROLE.value


def granted_role(session: Session, workspace_id: int, user_id: str) -> Role | None:
    """The role someone gave the user (`/cm role add`, or the configured admins); None when
    they only have the workspace's default role."""
    member = repo.get_member(session, workspace_id, user_id)
    if member is None or not is_grant(member.role, member.granted_by):
        return None
    return Role(member.role)


def role_of(session: Session, workspace_id: int, user_id: str) -> Role:
    """The user's role: the one granted, else the workspace's default role."""
    granted = granted_role(session, workspace_id, user_id)
    return granted if granted is not None else default_role(session, workspace_id)


def require_role(session: Session, workspace_id: int, actor: Actor, needed: Role) -> Role:
    """Raise Forbidden (explaining who can) unless the Slack user ``actor`` has ``needed``
    or better (the caller skips the trusted local operator)."""
    if actor.user_id is None:
        raise ValueError("the local operator has no role to check")
    role = role_of(session, workspace_id, actor.user_id)
    if role.rank < needed.rank:
        raise Forbidden("perm.denied", needed=needed.value, role=role.value)
    return role


ANYONE = Role.VIEWER
"""The role every member has at least: a command declared for it refuses nobody."""


def check_role(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
               needed: Role, refusal: str = "perm.denied", **params: object) -> None:
    """Raise Forbidden (``refusal`` naming ``needed`` and the user's role, with ``params``)
    unless ``actor`` has ``needed`` or better. The local operator is trusted, as in every
    service; ``ANYONE`` costs no query."""
    if needed.rank <= ANYONE.rank or not actor.user_id:
        return
    with sessions() as session:
        role = role_of(session, workspace_id, actor.user_id)
    if role.rank < needed.rank:
        raise Forbidden(refusal, needed=needed.value, role=role.value, **params)
