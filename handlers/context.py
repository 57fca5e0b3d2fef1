"""What every listener needs first: the workspace, the user's language, the actor."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.members import do_remember_locale, language_of, stored_language


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


def user_context(runtime: Runtime, body: dict[str, Any], surface: str,
                 client: WebClient | None = None) -> UserContext:
    """Read team, user and locale from any Slack payload (command, action, view, event).

    With ``client``, a user seen for the first time has their Slack locale looked up in
    the background (``users.info``) so the next answers are in their language.
    """
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    team: dict[str, Any] = body["team"] if isinstance(body.get("team"), dict) else {}
    event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
    team_id = str(body.get("team_id") or team.get("id") or user.get("team_id") or "")
    user_id = str(body.get("user_id") or user.get("id") or event.get("user") or "")
    workspace = runtime.workspaces.ensure(team_id)
    language = language_of(runtime.sessions, workspace.id, user_id, user.get("locale"))
    if client is not None and user_id and (workspace.id, user_id) not in runtime.locale_lookups:
        runtime.locale_lookups.add((workspace.id, user_id))
        if stored_language(runtime.sessions, workspace.id, user_id) is None:
            threading.Thread(target=_remember_locale, name="vigie-locale", daemon=True,
                             args=(runtime, client, workspace.id, user_id)).start()
    return UserContext(workspace.id, user_id, language, Actor(user_id, surface))
