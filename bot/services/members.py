"""Members: roles (admin, approver, agent, viewer) and each user's language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import SUPPORTED_LANGUAGES, language_for
from bot.messages.delivery import UserDirectory
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import Mrkdwn, ServiceError
from bot.services.permissions import DEFAULT_ROLE, default_role, is_grant, require_role
from storage import repositories as repo
from storage.db import transaction
from storage.models import Member, Role, Workspace


@dataclass(frozen=True, slots=True)
class RoleView:
    """One member's role."""

    user_id: str
    role: str
    granted_by: str | None


def language_of(sessions: sessionmaker[Session], workspace_id: int, user_id: str | None,
                slack_locale: str | None = None, looked_up: str | None = None) -> str:
    """The user's language: the Slack locale a payload carries, else the one stored (their
    `/cm lang`, or their Slack locale remembered), else the Slack locale just looked up
    (``looked_up``: a first command is answered in their language), else the workspace's."""
    if slack_locale:
        return language_for(slack_locale)
    with sessions() as session:
        workspace_locale = session.scalar(
            select(Workspace.locale).where(Workspace.id == workspace_id))
    return language_for(stored_language(sessions, workspace_id, user_id) or looked_up,
                        workspace_locale)


def slack_word_needed(sessions: sessionmaker[Session], workspace_id: int, user_id: str) -> bool:
    """Whether what Slack's ``users.info`` says of a user (guest or not, locale) can change
    how a request of theirs is handled: not when an admin granted them a role (the grant
    decides, guest or not) and a language is stored for them (it wins over their Slack
    locale), so such a user's requests cost Slack no look-up at all."""
    with sessions() as session:
        member = repo.get_member(session, workspace_id, user_id)
        return member is None or not is_grant(member.role, member.granted_by) \
            or not member.locale


def stored_language(sessions: sessionmaker[Session], workspace_id: int,
                    user_id: str | None) -> str | None:
    """The language remembered for a user, if any."""
    if not user_id:
        return None
    with sessions() as session:
        return session.scalar(select(Member.locale).where(
            Member.workspace_id == workspace_id, Member.user_id == user_id))


def do_remember_locale(sessions: sessionmaker[Session], workspace_id: int, user_id: str,
                       slack_locale: str | None) -> None:
    """Store the language of a user's Slack locale (the workspace's when not supported),
    unless they already chose one."""
    if stored_language(sessions, workspace_id, user_id) is not None:
        return
    try:
        with transaction(sessions) as session:
            workspace_locale = session.scalar(
                select(Workspace.locale).where(Workspace.id == workspace_id))
            language = language_for(slack_locale, workspace_locale)
            member = repo.get_member(session, workspace_id, user_id)
            if member is None:
                member = repo.set_member_role(session, workspace_id, user_id, DEFAULT_ROLE,
                                              granted_by=None)
                member.locale = language
                return
            # Conditional, so a `/cm lang` chosen since the check above wins over the guess.
            session.execute(update(Member).where(Member.id == member.id,
                                                 Member.locale.is_(None))
                            .values(locale=language))
    except IntegrityError:
        return  # the member was created meanwhile (by `/cm lang`): their choice stands


def do_set_language(sessions: sessionmaker[Session], workspace_id: int, user_id: str,
                    language: str) -> None:
    """Remember a user's language (from `/cm lang fr` or their Slack locale)."""
    if language not in SUPPORTED_LANGUAGES:
        raise ServiceError("role.bad_language", value=language,
                           valid=", ".join(SUPPORTED_LANGUAGES))
    with transaction(sessions) as session:
        member = repo.get_member(session, workspace_id, user_id)
        if member is None:
            member = repo.set_member_role(session, workspace_id, user_id, DEFAULT_ROLE,
                                          granted_by=None)
        member.locale = language


def list_roles(sessions: sessionmaker[Session], workspace_id: int) -> list[RoleView]:
    """Members with an explicit role, admins first (not the rows Vigie made on its own,
    whose members have the workspace's default role: ``workspace_default_role``)."""
    order = {role.value: -role.rank for role in Role}
    with sessions() as session:
        members = session.scalars(select(Member).where(Member.workspace_id == workspace_id))
        views = [RoleView(m.user_id, m.role, m.granted_by) for m in members
                 if is_grant(m.role, m.granted_by)]
    return sorted(views, key=lambda v: (order.get(v.role, 0), v.user_id))


def workspace_default_role(sessions: sessionmaker[Session], workspace_id: int) -> Role:
    """The role of everyone nobody granted one (agent, or viewer if the workspace chose it)."""
    with sessions() as session:
        return default_role(session, workspace_id)


def do_set_role(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                user_id: str, role: str, *, users: UserDirectory | None = None) -> RoleView:
    """Give ``user_id`` a role (admins only); the last admin cannot step down. With Slack
    (``users``), a user of another organisation (Slack Connect) is refused: a role would
    bring them the DMs and listings of a team whose every action refuses them."""
    try:
        new_role = Role(role.lower())
    except ValueError:
        raise ServiceError("role.bad_role", value=role,
                           valid=", ".join(r.value for r in Role)) from None
    # Asked before the transaction: a network call holds no row lock.
    account = users.account(user_id) if users is not None else None
    if account is not None and account.found and account.external:
        raise ServiceError("role.external", user=Mrkdwn(f"<@{user_id}>"))
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        _keep_an_admin(session, workspace_id, user_id, new_role)
        member = repo.set_member_role(session, workspace_id, user_id, new_role,
                                      granted_by=actor.name)
        record(session, workspace_id, actor, "role.granted",
               detail={"user_id": user_id, "role": new_role.value})
        return RoleView(member.user_id, member.role, member.granted_by)


def do_remove_role(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   user_id: str) -> Role:
    """Drop a member's explicit role (admins only); returns the workspace's default role,
    which they have again."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        fallback = default_role(session, workspace_id)
        _keep_an_admin(session, workspace_id, user_id, fallback)
        member = repo.get_member(session, workspace_id, user_id)
        if member is None or not is_grant(member.role, member.granted_by):
            raise ServiceError("role.no_role", user=Mrkdwn(f"<@{user_id}>"),
                               role=fallback.value)
        member.role = DEFAULT_ROLE.value
        member.granted_by = None  # no grant: the workspace's default role applies
        record(session, workspace_id, actor, "role.removed", detail={"user_id": user_id})
        return fallback


def _keep_an_admin(session: Session, workspace_id: int, user_id: str, new_role: Role) -> None:
    if new_role == Role.ADMIN:
        return
    member = repo.get_member(session, workspace_id, user_id)
    if member is None or member.role != Role.ADMIN.value:
        return
    admins = session.scalar(select(func.count()).select_from(Member).where(
        Member.workspace_id == workspace_id, Member.role == Role.ADMIN.value))
    if (admins or 0) <= 1:
        raise ServiceError("role.last_admin")
