"""App Home: published when a user opens it and after their changes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.runtime import Runtime
from bot.services.errors import Forbidden
from bot.services.home import home_summary
from bot.services.members import language_of
from bot.services.permissions import ANYONE, check_role
from bot.services.workspaces import UnknownWorkspace
from bot.slack.home import build_guest_home, build_home
from handlers.context import actor_of, remember_locale, slack_account, user_context

log = logging.getLogger(__name__)


def publish_home(runtime: Runtime, client: WebClient, workspace_id: int, user_id: str,
                 language: str | None = None) -> None:
    """Build and publish one user's Home tab; a Slack guest no admin gave a role gets
    only how to get one, a user Slack could not tell about only that (and to reopen it)."""
    # Only whether they are a guest, and their locale, is read of Slack's answer here:
    # the Grid org, which decides whether they are of another organisation, is not needed.
    account, asked = slack_account(runtime, client, workspace_id, user_id, enterprise_id=None)
    remember_locale(runtime, workspace_id, user_id, account)
    language = language or language_of(runtime.sessions, workspace_id, user_id,
                                       looked_up=account.locale if account else None)
    actor = actor_of(account, user_id, "home", asked=asked)
    try:
        check_role(runtime.sessions, workspace_id, actor, ANYONE)
    except Forbidden as err:
        view = build_guest_home(language, err.key)
    else:
        summary = home_summary(runtime.sessions, workspace_id, user_id, runtime.clock(),
                               default_timezone=runtime.settings.timezone)
        view = build_home(summary, language)
    try:
        client.views_publish(user_id=user_id, view=view)
    except (SlackApiError, SlackClientError, OSError) as err:
        log.warning("could not publish App Home for %s: %s", user_id, type(err).__name__)


def refresh_home(runtime: Runtime, client: WebClient, workspace_id: int,
                 user_ids: list[str]) -> None:
    """Republish the Home tabs of the users a change concerns (after the ack: a button's
    lazy listener, a modal's listener once it has acknowledged)."""
    for user_id in dict.fromkeys(u for u in user_ids if u):
        publish_home(runtime, client, workspace_id, user_id)


def register(app: App, runtime: Runtime) -> None:
    """Attach the app_home_opened listener."""

    def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        try:
            ctx = user_context(runtime, body, "home", client)
        except UnknownWorkspace as err:
            # An org-wide install on Enterprise Grid brings the events of the org's
            # workspaces; Vigie serves those that installed it.
            log.debug("ignored app_home_opened of %s: Vigie is not installed there", err)
            return
        publish_home(runtime, client, ctx.workspace_id, ctx.user_id, ctx.language)

    app.event("app_home_opened")(on_home_opened)
