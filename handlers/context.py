"""What every listener needs first: the workspace, the user's language, the actor."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.members import do_remember_locale, language_of, stored_language
from bot.slack.users import SlackUserDirectory


def _remember_locale(runtime: Runtime, client: WebClient, workspace_id: int,
                     user_id: str) -> None:
    try:
        user = client.users_info(user=user_id, include_locale=True).get("user") or {}
    except (SlackApiError, SlackClientError, OSError):
        return
    do_remember_locale(runtime.sessions, workspace_id, user_id, user.get("locale"))


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who is acting, in which workspace, speaking which language, from which surface."""

    workspace_id: int
    user_id: str
    language: str
    actor: Actor
    """With Slack's word on whether the user is a guest (see :func:`slack_actor`)."""


def _team_and_user(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    team: dict[str, Any] = body["team"] if isinstance(body.get("team"), dict) else {}
    event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
    team_id = str(body.get("team_id") or team.get("id") or user.get("team_id") or "")
    user_id = str(body.get("user_id") or user.get("id") or event.get("user") or "")
    return team_id, user_id, user


def user_directory(runtime: Runtime, client: WebClient, workspace_id: int
                   ) -> SlackUserDirectory:
    """Slack's directory with the listener's token, its answers reused a while by this
    process (``runtime.accounts``): every check of a request asks Slack once at most."""
    return SlackUserDirectory(client, cache=runtime.accounts, workspace=workspace_id)


def slack_actor(runtime: Runtime, client: WebClient | None, workspace_id: int, user_id: str,
                surface: str) -> Actor:
    """The Slack user ``user_id`` as an actor, with Slack's word on whether they are a
    guest: requests do not say it, so ``users.info`` does (cached; under a second, before
    the ack). Without a client, or when Slack cannot answer, they are taken for a member,
    as before Slack was asked."""
    account = (user_directory(runtime, client, workspace_id).account(user_id)
               if client is not None else None)
    guest = account is not None and account.found and account.guest
    return Actor(user_id, surface, guest=guest)


def user_context(runtime: Runtime, body: dict[str, Any], surface: str,
                 client: WebClient | None) -> UserContext:
    """Read team, user and locale from any Slack payload (command, action, view, event),
    and ask Slack (``client``) whether the user is a guest."""
    team_id, user_id, user = _team_and_user(body)
    workspace = runtime.workspaces.ensure(team_id)
    language = language_of(runtime.sessions, workspace.id, user_id, user.get("locale"))
    return UserContext(workspace.id, user_id, language,
                       slack_actor(runtime, client, workspace.id, user_id, surface))


LazyListener = Callable[[dict[str, Any], WebClient], None]


def locale_lookup(runtime: Runtime) -> LazyListener:
    """A Bolt lazy listener for any surface: a user seen for the first time has their Slack
    locale looked up (``users.info``) after the ack, so the next answers are in their
    language."""

    def remember_locale(body: dict[str, Any], client: WebClient) -> None:
        team_id, user_id, _user = _team_and_user(body)
        if not user_id:
            return
        workspace = runtime.workspaces.ensure(team_id)
        if (workspace.id, user_id) in runtime.locale_lookups:
            return
        runtime.locale_lookups.add((workspace.id, user_id))
        if stored_language(runtime.sessions, workspace.id, user_id) is None:
            _remember_locale(runtime, client, workspace.id, user_id)

    return remember_locale


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's ``private_metadata`` as the dict Vigie put there ({} when it is not one)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
