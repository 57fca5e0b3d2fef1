"""What every listener needs first: the workspace, the user's language, the actor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.messages.delivery import SlackAccount
from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.members import do_remember_locale, language_of, slack_word_needed, stored_language
from bot.slack.users import SlackUserDirectory


def remember_locale(runtime: Runtime, workspace_id: int, user_id: str,
                    account: SlackAccount | None) -> None:
    """Store the language of the Slack locale ``users.info`` gave (``account``) for a user
    Vigie has none for, once per process: DMs and other later messages are then in their
    language too. (The look-up that gave it is the guest check's, before the ack.)"""
    if account is None or not account.locale or not user_id:
        return
    if (workspace_id, user_id) in runtime.locale_lookups:
        return
    runtime.locale_lookups.add((workspace_id, user_id))
    if stored_language(runtime.sessions, workspace_id, user_id) is None:
        do_remember_locale(runtime.sessions, workspace_id, user_id, account.locale)


WRITES = ("block_actions", "view_submission")
"""The payloads that act (clicks, forms): refused to users of another organisation."""


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who is acting, in which workspace, speaking which language, from which surface."""

    workspace_id: int
    user_id: str
    language: str
    actor: Actor
    """With Slack's word on whether the user is a guest, or that it could not tell (see
    :func:`actor_of`)."""
    enterprise_id: str | None
    """The Enterprise Grid org of the installation serving the request
    (:func:`installed_enterprise`), None off Grid: the actor was judged with it, and
    whoever the request asks Slack about is judged with it too (:func:`request_directory`)."""


def installed_team(body: dict[str, Any]) -> str:
    """The workspace (``T…``) of the Vigie installation a request or an event serves, as
    Slack names it in ``body``; "" when it does not say. Not Bolt's ``context.team_id``,
    which on Enterprise Grid may be the org's ``E…`` id or None (see below)."""
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    team: dict[str, Any] = body["team"] if isinstance(body.get("team"), dict) else {}
    view: dict[str, Any] = body["view"] if isinstance(body.get("view"), dict) else {}
    # A modal's team.id is the submitter's own workspace (another organisation's, in a
    # Slack Connect channel); the view names the workspace Vigie is installed in
    # (slackapi/bolt-js#1614, slackapi/bolt-python#734).
    # An event names the installation serving it in ``authorizations`` (as Bolt reads it):
    # on Enterprise Grid the envelope's team_id is the org's E… id, or absent.
    authorized = (body["authorizations"][0] if isinstance(body.get("authorizations"), list)
                  and body["authorizations"] and isinstance(body["authorizations"][0], dict)
                  else {})
    # Some events carry no ``authorizations`` (``app_uninstalled``, ``tokens_revoked``:
    # https://docs.slack.dev/reference/events/app_uninstalled), where Bolt takes the
    # envelope's team_id: ``context_team_id`` names the workspace then.
    return str(view.get("app_installed_team_id") or authorized.get("team_id")
               or body.get("context_team_id") or body.get("team_id") or team.get("id")
               or user.get("team_id") or "")


def _team_and_user(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
    user_id = str(body.get("user_id") or user.get("id") or event.get("user") or "")
    return installed_team(body), user_id, user


def is_external(user: dict[str, Any], team_id: str, enterprise_id: str | None) -> bool:
    """Whether a click's or a form's ``user`` (the payload's) is of another organisation
    than Vigie's installation (Slack Connect). Their ``user.team_id`` is their workspace's
    ``T…`` id, or, on Enterprise Grid, their org's ``E…`` id ("The user.team_id will
    report an enterprise organization ID (which starts with an E) instead of team ID",
    https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload): it is
    their own only when it is ``team_id``, the workspace Vigie is installed in, or
    ``enterprise_id``, the org of that installation (:func:`installed_enterprise`). Not
    external when the payload does not say."""
    own = str(user.get("team_id") or "")
    return bool(team_id) and bool(own) and own not in (team_id, enterprise_id)


def installed_enterprise(context: BoltContext) -> str | None:
    """The Enterprise Grid org of the installation serving the request (Bolt's
    ``authorize_result``: ``auth.test``'s answer with one bot token, the stored install
    with several), None when it is not on Grid or unknown."""
    home = context.authorize_result
    return home.enterprise_id if home is not None and home.enterprise_id else None


def user_directory(runtime: Runtime, client: WebClient, workspace_id: int, *,
                   enterprise_id: str | None) -> SlackUserDirectory:
    """Slack's directory with the listener's token, its answers reused a while by this
    process (``runtime.accounts``): every check of a request asks Slack once at most.
    Whom Slack places outside the workspace and its Grid org (``enterprise_id``, the
    installation's: :func:`installed_enterprise`) is marked external, as
    :func:`is_external` marks the payload of a click. ``enterprise_id`` has no default:
    without it (None: off Grid) a Grid colleague of a sibling workspace would be refused as
    another organisation's. A listener with a :class:`UserContext` takes
    :func:`request_directory`."""
    team_id = runtime.workspaces.team_of(workspace_id)
    home = frozenset(i for i in (team_id, enterprise_id) if i)
    return SlackUserDirectory(client, cache=runtime.accounts, workspace=workspace_id,
                              home=home)


def request_directory(runtime: Runtime, client: WebClient, ctx: UserContext
                      ) -> SlackUserDirectory:
    """Slack's directory for what a request does (assignees, grantees, the actor taking
    work): the request's workspace and its installation's Grid org (``ctx.enterprise_id``),
    as :func:`user_context` judged the actor, so both agree on who is of the
    organisation."""
    return user_directory(runtime, client, ctx.workspace_id, enterprise_id=ctx.enterprise_id)


def slack_account(runtime: Runtime, client: WebClient | None, workspace_id: int,
                  user_id: str, *, enterprise_id: str | None
                  ) -> tuple[SlackAccount | None, bool]:
    """What ``users.info`` says about ``user_id`` (cached; under a second, before the
    ack), and whether Slack was asked: not without a client, nor when its word would
    change nothing (``members.slack_word_needed``: a granted role, a stored language).
    None when not asked, or when Slack cannot answer and never did. ``enterprise_id``:
    the installation's Grid org (:func:`user_directory`)."""
    if client is None or not slack_word_needed(runtime.sessions, workspace_id, user_id):
        return None, False
    return user_directory(runtime, client, workspace_id,
                          enterprise_id=enterprise_id).account(user_id), True


def actor_of(account: SlackAccount | None, user_id: str, surface: str, *,
             asked: bool = True, external: bool = False) -> Actor:
    """The Slack user ``user_id`` as an actor, with Slack's word (``account``) on whether
    they are a guest. Without it although Slack was ``asked`` (it could not answer and
    never had), the actor is unchecked: only a grant lets them act, not the default role.
    ``external``: of another organisation's workspace (:func:`is_external`)."""
    guest = account is not None and account.found and account.guest
    return Actor(user_id, surface, guest=guest, unchecked=asked and account is None,
                 external=external)



def user_context(runtime: Runtime, body: dict[str, Any], surface: str,
                 client: WebClient | None, *, enterprise_id: str | None = None
                 ) -> UserContext:
    """Read team and user from any Slack payload (command, action, view, event), and ask
    Slack (``client``, one cached ``users.info``) whether the user is a guest and their
    locale: payloads do not carry it, so a user Vigie has no language for yet is answered
    in their Slack language from their first command. A user with a granted role and a
    stored language is not asked about (:func:`slack_account`). A click or a form of a user
    of another organisation's workspace (Slack Connect) gets an external actor, whom
    every check refuses, as does any user whose ``users.info`` (when asked) places them
    in another organisation. ``enterprise_id``: the installation's Enterprise Grid org
    (:func:`installed_enterprise`): without it, a user whose ``user.team_id`` is an org's
    ``E…`` id is external."""
    team_id, user_id, user = _team_and_user(body)
    external = body.get("type") in WRITES and is_external(user, team_id, enterprise_id)
    workspace = runtime.workspaces.ensure(team_id)
    # Nothing is asked nor kept of another organisation's user: they may do nothing here.
    account, asked = slack_account(runtime, None if external else client, workspace.id,
                                   user_id, enterprise_id=enterprise_id)
    # A slash command's payload names no team of the user (its team_id and enterprise_id
    # say "where the user was in Slack", https://api.slack.com/interactivity/slash-commands):
    # what users.info said of them, when it was asked anyway, tells.
    external = external or (account is not None and account.external)
    remember_locale(runtime, workspace.id, user_id, account)
    language = language_of(runtime.sessions, workspace.id, user_id, user.get("locale"),
                           account.locale if account is not None else None)
    return UserContext(workspace.id, user_id, language,
                       actor_of(account, user_id, surface, asked=asked, external=external),
                       enterprise_id)


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's ``private_metadata`` as the dict Vigie put there ({} when it is not one)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
