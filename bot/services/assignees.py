"""Who may be given work: the checks every assign path shares (a mention's, by `/cm assign`
or the card's Assign modal, and a conquest opportunity's, by Take or `/cm opp assign`; and a
draft, by hand or the LLM's, that makes its drafter the owner of what nobody owned), so
each refuses the same people with the same words.

Two steps, because one asks Slack and the other the database: :func:`check_account` runs
before the caller's transaction (a network call should not hold row locks), and
:func:`check_can_work` inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.messages.delivery import SlackAccount, UserDirectory
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.permissions import default_role, granted_role
from storage.models import Role

__all__ = ["UNCHECKED", "Checked", "Unchecked", "check_account", "check_can_work",
           "self_check_asks_slack"]


@dataclass(frozen=True, slots=True)
class Unchecked:
    """Slack was asked about the user and could not answer, and never had (network, an
    error, a rate limit): they may be a guest."""


UNCHECKED = Unchecked()
"""What :func:`check_account` gives for a user Slack could not tell about."""

Checked = SlackAccount | Unchecked | None
"""What :func:`check_account` found: Slack's answer, :data:`UNCHECKED`, or None when
Slack is not asked (no Slack, as on the console)."""


def self_check_asks_slack(session: Session, workspace_id: int, actor: Actor, needed: Role
                          ) -> bool:
    """Inside a read, before Slack is asked: whether Slack's word on ``actor`` taking work
    themselves (a draft of what nobody owns) can change what :func:`check_can_work` decides.

    Not when the roles table decides alone: an admin's grant lets even a guest work; a
    guest Slack already named (``actor.guest``) without one, or a role below ``needed``, is
    refused by the role check every such action makes first. Nor does the rest of
    :func:`check_account` tell anything of the user acting: Slack signed their request, so
    they exist, are active and are no bot."""
    if not actor.user_id or actor.guest:
        return False
    if granted_role(session, workspace_id, actor.user_id) is not None:
        return False
    return default_role(session, workspace_id).rank >= needed.rank


def check_account(users: UserDirectory | None, assignee: str, *,
                  actor_user_id: str | None = None) -> Checked:
    """What Slack says about ``assignee``, refusing a user Slack does not know, a bot or
    app, a deactivated account, or a user of another organisation (``external``: Slack
    Connect) (a guest is for :func:`check_can_work` to judge). The actor taking the work
    themselves is asked about too (one ``users.info``): a guest may not take what they
    may not be given.

    None when Slack is not asked (no Slack, as on the console): the role check decides
    alone. :data:`UNCHECKED` when Slack could not answer and never did: for
    :func:`check_can_work`, which lets only a user an admin gave a role through.
    ``actor_user_id``: who assigns, so a user of another organisation taking the work
    themselves is told in their own words."""
    if users is None:
        return None
    account = users.account(assignee)
    if account is None:
        return UNCHECKED
    # The messages do not name the user: a modal shows them as plain text, where a
    # mention would read as its raw id.
    if not account.found:
        raise ServiceError("assignee.unknown")
    if account.is_bot:
        raise ServiceError("assignee.bot")
    if account.deleted:
        raise ServiceError("assignee.deactivated")
    if account.external:
        # Of another organisation (Slack Connect): every click of theirs is refused
        # (perm.external), so work given to them would sit undone, and its DMs would
        # show this workspace's mentions and drafts to an outsider.
        raise ServiceError("assignee.external_self" if assignee == actor_user_id
                           else "assignee.external")
    return account


def check_can_work(session: Session, workspace_id: int, assignee: str, needed: Role,
                   account: Checked, *, actor_user_id: str | None = None) -> None:
    """Inside the caller's transaction, before anything is written: refuse a Slack guest
    (``account``, from :func:`check_account`) no admin gave a role, a user Slack could not
    tell about (:data:`UNCHECKED`) no admin gave one (``assignee.unchecked``: try again),
    and an assignee whose role is below ``needed`` (the role the work itself needs).
    ``actor_user_id``: who assigns, so a guest taking the work themselves is told in their
    own words."""
    # A guest sees only the channels they were invited to, maybe not the card's: an explicit
    # grant is an admin saying they may work the alerts. Without Slack (console) there is
    # nothing to go on, and the role decides alone.
    granted = granted_role(session, workspace_id, assignee)
    if isinstance(account, Unchecked) and granted is None:
        # Slack never answered about them: they may be a guest, whom the assignment's DM,
        # their App Home and their requests would show the mention. Refused as they would
        # be refused acting themselves (permissions.actor_role), not given work that sits
        # with someone who may never see it.
        raise ServiceError("assignee.unchecked", needed=needed.value)
    if isinstance(account, SlackAccount) and account.guest and granted is None:
        key = "assignee.guest_self" if assignee == actor_user_id else "assignee.guest"
        raise ServiceError(key, needed=needed.value)
    role = granted if granted is not None else default_role(session, workspace_id)
    if role.rank < needed.rank:
        raise ServiceError("assignee.role", role=role.value, needed=needed.value)
