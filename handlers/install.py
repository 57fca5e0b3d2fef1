"""Installing Vigie in a workspace (OAuth): what happens once Slack has given the token;
and Slack's word that it is uninstalled (``app_uninstalled``, ``tokens_revoked``)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_bolt.oauth.callback_options import SuccessArgs
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store import Installation

from bot.i18n import language_for, t
from bot.runtime import Runtime
from bot.services.installs import do_reinstalled, do_uninstalled
from bot.services.workspace_settings import do_adopt_installer_language
from bot.services.workspaces import UnknownWorkspace
from bot.slack.client import build_web_client
from handlers.context import installed_team

log = logging.getLogger(__name__)


def installed(runtime: Runtime) -> Callable[[SuccessArgs], BoltResponse]:
    """Bolt's OAuth success callback: the installing user's Slack locale (``users.info``
    with ``include_locale``) becomes the language of channel messages when Vigie speaks it
    (`/cm settings language` changes it); then Bolt's own success page. A failure here
    never fails the install: the workspace keeps English."""

    def on_success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.is_enterprise_install:
            return _org_wide_page(runtime, installation)
        if installation.team_id and installation.user_id and installation.bot_token:
            try:
                workspace = runtime.workspaces.ensure(installation.team_id)
                do_reinstalled(runtime.sessions, installation.team_id,
                               default_tz=runtime.settings.timezone)
                client = build_web_client(runtime.settings, token=installation.bot_token)
                user = client.users_info(user=installation.user_id,
                                         include_locale=True).get("user") or {}
                do_adopt_installer_language(runtime.sessions, workspace.id,
                                            user.get("locale"))
            except (SlackApiError, SlackClientError, OSError, UnknownWorkspace) as err:
                log.warning("installer's locale not read: %s", type(err).__name__)
        return args.default.success(args)

    return on_success


def _org_wide_page(runtime: Runtime, installation: Installation) -> BoltResponse:
    """An org-wide install on Enterprise Grid (no workspace: Slack adds the app to none,
    https://api.slack.com/enterprise/apps/changes-install): Vigie serves workspace installs
    only, so the installer is told, in their Slack language, to install it from each
    workspace instead of Bolt's page saying all went well."""
    language = "en"
    if installation.user_id and installation.bot_token:
        try:
            client = build_web_client(runtime.settings, token=installation.bot_token)
            user = client.users_info(user=installation.user_id,
                                     include_locale=True).get("user") or {}
            language = language_for(user.get("locale"))
        except (SlackApiError, SlackClientError, OSError) as err:
            log.warning("installer's locale not read: %s", type(err).__name__)
    log.warning("org-wide install in %s: Vigie serves workspace installs only",
                installation.enterprise_id)
    text = html.escape(t(language, "app.org_wide_installed"))
    return BoltResponse(status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                        body=f'<!DOCTYPE html><html lang="{language}"><body><p>{text}</p>'
                             "</body></html>")


def register(app: App, runtime: Runtime, *, home_team: str | None = None) -> None:
    """Attach the ``app_uninstalled`` and ``tokens_revoked`` listeners (Slack sends both
    when the app is uninstalled; ``tokens_revoked`` alone when a token is revoked).

    With several workspaces the team's stored tokens are deleted (Bolt's
    ``TokenRevocationListeners`` on our installation store). With one bot token
    (``home_team``: the token's team, when known) the token is dead: ``/readyz`` says so.

    The team is the workspace the event names (``installed_team``), as for every other
    listener: on Enterprise Grid, Bolt's ``context.team_id`` for these events (which
    carry no ``authorizations``) is the envelope's team_id, the org's ``E…`` id.
    """
    store = app.installation_store if runtime.settings.oauth else None
    revocations = TokenRevocationListeners(store) if store is not None else None

    def gone(context: BoltContext, body: dict[str, Any], team_id: str, reason: str,
             forget: Callable[[], None] | None) -> None:
        if store is None and home_team and team_id != home_team:
            log.warning("ignored %s for %s: SLACK_BOT_TOKEN belongs to %s", reason, team_id,
                        home_team)
            return
        told_at = _event_time(body)
        if store is not None and told_at is not None:
            bot = store.find_bot(enterprise_id=context.enterprise_id, team_id=team_id)
            # Slack retries an event for up to an hour: this one predates a reinstall
            # (event_time is in whole seconds).
            if bot is not None and bot.installed_at >= told_at.timestamp() + 1:
                log.info("ignored %s for %s: Vigie was installed again since", reason, team_id)
                return
        watch = runtime.outbox.token_watch if store is None else None
        done = do_uninstalled(runtime.sessions, team_id, reason, forget_tokens=forget,
                              told_at=told_at,
                              token_accepted=watch.verify if watch is not None else None)
        if watch is not None and not done.stale:
            watch.refused(reason)

    def on_app_uninstalled(body: dict[str, Any], context: BoltContext) -> None:
        team_id = installed_team(body)
        forget = None
        if revocations is not None:
            def forget() -> None:
                revocations.handle_app_uninstalled_events(_of_team(context, team_id))
        gone(context, body, team_id, "app_uninstalled", forget)

    def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any],
                          context: BoltContext) -> None:
        team_id = installed_team(body)
        tokens = event.get("tokens") or {}
        if not tokens.get("bot"):
            # Only people's tokens (Vigie asks for none): the bot still works.
            if revocations is not None:
                revocations.handle_tokens_revoked_events(event, _of_team(context, team_id))
            log.info("Slack revoked people's tokens of %s; Vigie's bot token stays", team_id)
            return
        forget = None
        if revocations is not None:
            def forget() -> None:
                revocations.handle_tokens_revoked_events(event, _of_team(context, team_id))
        gone(context, body, team_id, "tokens_revoked", forget)

    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)


def _of_team(context: BoltContext, team_id: str) -> BoltContext:
    """``context`` naming ``team_id`` as its team, for Bolt's revocation listeners, which
    delete the stored tokens of ``context.enterprise_id`` and ``context.team_id``."""
    return BoltContext({**context, "team_id": team_id or None})


def _event_time(body: dict[str, Any]) -> datetime | None:
    """When Slack says the event happened (the envelope's ``event_time``), if it says."""
    value = body.get("event_time")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value, tz=UTC)
