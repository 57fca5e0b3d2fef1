"""What every Slack request must carry before any listener runs: a user id, and, with one
bot token, the workspace that token belongs to.

Several workspaces (OAuth): Bolt's authorization already refuses a team that has no
installation, and the workspace directory creates workspaces for installed teams only.

A person's request (a command, a click, a form) that Slack's side of the install cannot
serve (one bot token Slack refuses now; a team without an installation) is answered
before Bolt's authorization, in the workspace's language (``authorization_refusal``).
Bolt's own answer there is one fixed string per app (``App(user_facing_authorize_error_
message=...)``, slack_bolt 1.30), set to ours in English: it is left only where this
cannot know beforehand (a token Slack refuses since its last answer). A team of an
Enterprise Grid org where Vigie has an org-wide install only is told that Vigie serves
workspace installs (``ORG_WIDE_KEY``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.i18n import t
from bot.runtime import Runtime
from bot.services.workspaces import team_language

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


class OrgWide:
    """Whether the one bot token is an org-wide install on Enterprise Grid (``auth.test``'s
    ``is_enterprise_install``, https://docs.slack.dev/reference/methods/auth.test), asked
    once, when a request of another workspace of the token's org first needs it. Bolt's
    ``authorize_result`` names the org but not the kind of install."""

    def __init__(self) -> None:
        self._known: bool | None = None

    def __call__(self, context: BoltContext) -> bool:
        """Slack's answer, asked once; False while Slack cannot say (refused, fail closed)."""
        if self._known is None:
            try:
                answer = context.client.auth_test()
            except (SlackApiError, SlackClientError, OSError) as err:
                log.warning("could not ask Slack whether the install is org-wide: %s",
                            type(err).__name__)
                return False
            self._known = bool(answer.get("is_enterprise_install"))
        return self._known


def _foreign_team(context: BoltContext, org_wide: Callable[[BoltContext], bool]) -> bool:
    """With one bot token: the request comes from another workspace than the token's, and
    the token is not an org-wide install of that workspace's Enterprise Grid org (one
    installed in a single workspace of the org serves that workspace alone: Slack "is not
    added to any workspaces" by an org install until an admin adds it, and a workspace
    install is the workspace's, https://api.slack.com/enterprise/apps/changes-install)."""
    home = context.authorize_result
    if home is None or not home.team_id or not context.team_id:
        return False
    if context.team_id == home.team_id:
        return False
    return not (home.enterprise_id and home.enterprise_id == context.enterprise_id
                and org_wide(context))


REINSTALL_KEY = "app.reinstall"
"""What a person is told when Vigie's installation cannot serve their workspace."""
ORG_WIDE_KEY = "app.org_wide"
"""What a person is told when Vigie's installation in their org is org-wide only."""
_EVENTS = ("event_callback", "url_verification", "app_rate_limited", "ssl_check")


def authorization_refusal(runtime: Runtime) -> Callable[..., BoltResponse | None]:
    """Bolt's ``before_authorize`` middleware: a person's request that authorization would
    refuse gets ``REINSTALL_KEY`` in the workspace's language (see the module docstring).
    Events and Slack's checks go on to Bolt (nobody reads their answer; some, such as
    ``tokens_revoked``, need no authorization)."""
    multi_workspace = runtime.settings.oauth
    org_wide: Callable[[str], bool] | None = None
    if multi_workspace:
        from bot.slack.oauth import org_wide_installs

        org_wide = org_wide_installs(runtime.settings, runtime.engine)

    def refused(context: BoltContext) -> bool:
        team_id = context.team_id or ""
        if multi_workspace:
            # A workspace of an Enterprise Grid org too: Vigie serves workspace installs
            # (an org-wide one is stored under the org, for no workspace).
            return not runtime.workspaces.is_installed(team_id)
        watch = runtime.outbox.token_watch
        return watch is not None and watch.current() is not None

    def reason(context: BoltContext) -> str:
        enterprise_id = context.enterprise_id
        if org_wide is not None and enterprise_id and org_wide(enterprise_id):
            return ORG_WIDE_KEY
        return REINSTALL_KEY

    def before_authorize(body: dict[str, Any], context: BoltContext,
                         next: Callable[[], None]) -> BoltResponse | None:
        if body.get("type") in _EVENTS or not context.team_id or not refused(context):
            next()
            return None
        log.warning("answered a Slack request of %s: its installation cannot serve it",
                    context.team_id)
        return BoltResponse(status=200, body=t(team_language(runtime.sessions,
                                                             context.team_id), reason(context)))

    return before_authorize


def register(app: App, runtime: Runtime) -> None:
    """Refuse, before any listener, a request without a valid user id (an empty one would
    otherwise act as the trusted local operator: no role checks, no four-eyes) and, with one
    bot token, a request from another workspace (it would get a workspace of its own)."""
    multi_workspace = runtime.settings.oauth
    org_wide = OrgWide()

    @app.middleware
    def require_a_user(body: dict[str, Any], context: BoltContext,
                       next: Callable[[], None]) -> BoltResponse | None:
        if not multi_workspace and _foreign_team(context, org_wide):
            return _refuse(403, "this app serves one workspace")
        if body.get("type") in ("event_callback", "url_verification", "app_rate_limited"):
            next()  # events name their user inside the event; handlers check it
            return None
        if not USER_ID.match(_user_id(body)):
            return _refuse(400, "a Slack request without a valid user id")
        next()
        return None
