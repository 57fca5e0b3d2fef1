"""What every Slack request must carry before any listener runs: a user id, and, with one
bot token, the workspace that token belongs to.

Several workspaces (OAuth): Bolt's authorization already refuses a team that has no
installation, and the workspace directory creates workspaces for installed teams only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.runtime import Runtime

log = logging.getLogger("vigie.guard")

USER_ID = re.compile(r"\A[UW][A-Z0-9]{2,}\Z")  # \Z: "$" also matches before a final "\n"
"""A Slack user id (``U…``, or ``W…`` on Enterprise Grid)."""


def _user_id(body: dict[str, Any]) -> str:
    user = body.get("user")
    nested = user.get("id") if isinstance(user, dict) else None
    return str(body.get("user_id") or nested or "")


def _refuse(status: int, reason: str) -> BoltResponse:
    log.warning("refused a Slack request: %s", reason)
    return BoltResponse(status=status, body={"error": reason})


def _foreign_team(context: BoltContext) -> bool:
    """With one bot token: the request comes from another workspace than the token's."""
    home = context.authorize_result
    if home is None or not home.team_id or not context.team_id:
        return False
    if home.enterprise_id and home.enterprise_id == context.enterprise_id:
        return False  # an org-wide install on Enterprise Grid serves the org's workspaces
    return bool(context.team_id != home.team_id)


def register(app: App, runtime: Runtime) -> None:
    """Refuse, before any listener, a request without a valid user id (an empty one would
    otherwise act as the trusted local operator: no role checks, no four-eyes) and, with one
    bot token, a request from another workspace (it would get a workspace of its own)."""
    multi_workspace = runtime.settings.oauth

    @app.middleware
    def require_a_user(body: dict[str, Any], context: BoltContext,
                       next: Callable[[], None]) -> BoltResponse | None:
        if not multi_workspace and _foreign_team(context):
            return _refuse(403, "this app serves one workspace")
        if body.get("type") in ("event_callback", "url_verification", "app_rate_limited"):
            next()  # events name their user inside the event; handlers check it
            return None
        if not USER_ID.match(_user_id(body)):
            return _refuse(400, "a Slack request without a valid user id")
        next()
        return None
