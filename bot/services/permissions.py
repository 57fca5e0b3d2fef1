"""Who may do what: roles are hierarchical (viewer < agent < approver < admin).

``Role`` is re-exported for the `/cm` table (handlers declare each verb's role with it)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.messages.delivery import UserDirectory
from bot.services.actors import Actor
from bot.services.errors import Forbidden
from storage import repositories as repo
from storage.models import Role, Workspace

__all__ = ["ANYONE", "DEFAULT_ROLE", "Role", "actor_role", "check_actor", "check_role",
           "default_role", "granted_role", "guest_without_role", "is_grant", "require_role",
           "role_of"]

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


def guest_without_role(sessions: sessionmaker[Session], workspace_id: int, user_id: str,
                       users: UserDirectory | None) -> bool | None:
    """Whether ``user_id`` is a Slack guest nobody granted a role, for what Vigie sends
    them unasked (DMs, App Home refreshes): the same rule as their requests meet
    (:func:`actor_role`). A grant is read first, so a user it decides costs Slack no
    look-up; then Slack's directory ``users`` (cached; its last answer stands while Slack
    cannot answer). ``None`` when Slack never answered about them and cannot now: as a
    request would not let them in, nothing is sent them yet (the caller tries again
    later). Without a directory (no Slack), no one is a guest."""
    with sessions() as session:
        if granted_role(session, workspace_id, user_id) is not None:
            return False
    if users is None:
        return False
    account = users.account(user_id)
    if account is None:
        return None
    return account.found and account.guest


def role_of(session: Session, workspace_id: int, user_id: str) -> Role:
    """The user's role: the one granted, else the workspace's default role."""
    granted = granted_role(session, workspace_id, user_id)
    return granted if granted is not None else default_role(session, workspace_id)


def actor_role(session: Session, workspace_id: int, actor: Actor) -> Role | None:
    """The role the Slack user ``actor`` acts with: the one granted, else the workspace's
    default role; None for a Slack guest (``actor.guest``) nobody granted one, who has no
    role at all, and for a user Slack could not tell about (``actor.unchecked``)."""
    if actor.user_id is None:
        raise ValueError("the local operator has no role to check")
    granted = granted_role(session, workspace_id, actor.user_id)
    if granted is not None:
        return granted
    # A guest sees only the channels they were invited to (a contractor, an agency, a
    # client): the default role would show them every watch's mentions. Only an admin's
    # explicit grant says they may see or work them.
    if actor.guest:
        return None
    # Nor is a user Slack could not tell about taken for a member: they might be a guest.
    if actor.unchecked:
        return None
    return default_role(session, workspace_id)


def check_actor(session: Session, workspace_id: int, actor: Actor, needed: Role,
                refusal: str = "perm.denied", **params: object) -> Role:
    """The Slack user ``actor``'s role, raising Forbidden unless it is ``needed`` or better
    (``refusal`` naming ``needed`` and their role, with ``params``); a guest without a
    granted role is refused whatever ``needed`` is (``perm.guest``), and so is a user Slack
    could not tell about (``perm.unchecked``: try again); a user of another organisation's
    workspace is refused (``perm.external``)."""
    if actor.external:
        raise Forbidden("perm.external")
    role = actor_role(session, workspace_id, actor)
    if role is None:
        raise Forbidden("perm.unchecked" if actor.unchecked and not actor.guest
                        else "perm.guest")
    if role.rank < needed.rank:
        raise Forbidden(refusal, needed=needed.value, role=role.value, **params)
    return role


def require_role(session: Session, workspace_id: int, actor: Actor, needed: Role) -> Role:
    """Raise Forbidden (explaining who can) unless the Slack user ``actor`` has ``needed``
    or better (the caller skips the trusted local operator)."""
    return check_actor(session, workspace_id, actor, needed)


ANYONE = Role.VIEWER
"""The role every member has at least: a command declared for it refuses nobody."""


def check_role(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
               needed: Role, refusal: str = "perm.denied", **params: object) -> None:
    """Raise Forbidden (``refusal`` naming ``needed`` and the user's role, with ``params``)
    unless ``actor`` has ``needed`` or better; a Slack guest nobody granted a role is
    refused even ``ANYONE``'s commands, as is a user Slack could not tell about
    (``actor.unchecked``) nobody granted one, and a user of another organisation's
    workspace (``actor.external``) always. The local operator is trusted, as in every
    service; ``ANYONE`` costs a member no query."""
    if not actor.user_id or (needed.rank <= ANYONE.rank and not actor.guest
                             and not actor.unchecked and not actor.external):
        return
    with sessions() as session:
        check_actor(session, workspace_id, actor, needed, refusal, **params)
