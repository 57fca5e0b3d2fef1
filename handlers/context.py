"""What every listener needs first: the workspace, the user's language, the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.members import language_of


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who is acting, in which workspace, speaking which language, from which surface."""

    workspace_id: int
    user_id: str
    language: str
    actor: Actor


def user_context(runtime: Runtime, body: dict[str, Any], surface: str) -> UserContext:
    """Read team, user and locale from any Slack payload (command, action, view, event)."""
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    team: dict[str, Any] = body["team"] if isinstance(body.get("team"), dict) else {}
    event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
    team_id = str(body.get("team_id") or team.get("id") or user.get("team_id") or "")
    user_id = str(body.get("user_id") or user.get("id") or event.get("user") or "")
    workspace = runtime.workspaces.ensure(team_id)
    language = language_of(runtime.sessions, workspace.id, user_id, user.get("locale"))
    return UserContext(workspace.id, user_id, language, Actor(user_id or None, surface))
