"""Build the Bolt app from settings: the client, the listeners of handlers/, one error handler."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.config import Settings
from bot.i18n import t
from bot.runtime import Runtime
from bot.slack.client import build_web_client
from bot.slack.oauth import build_oauth_settings


class SlackNotConfigured(RuntimeError):
    """The Bolt app needs SLACK_BOT_TOKEN (and a signing secret or an app token)."""


def build_app(settings: Settings, runtime: Runtime, *, verify_token: bool = True) -> App:
    """The Bolt App with every listener of ``handlers`` registered.

    ``verify_token`` calls ``auth.test`` at start so a bad token fails fast with a clear line.
    """
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    from handlers.guard import REINSTALL_KEY, authorization_refusal

    # Bolt takes one fixed text for the requests its authorization refuses; the guard
    # answers those it can tell beforehand in the workspace's language.
    before_authorize = authorization_refusal(runtime)
    refused_text = t("en", REINSTALL_KEY)
    if settings.oauth:
        from handlers.install import installed

        if signing_secret is None:
            raise SlackNotConfigured("SLACK_SIGNING_SECRET is required with SLACK_CLIENT_ID")
        # One app, many workspaces: Bolt finds each request's bot token in the store.
        app = App(client=build_web_client(settings, token=None), signing_secret=signing_secret,
                  oauth_settings=build_oauth_settings(settings, runtime.engine,
                                                      on_success=installed(runtime)),
                  logger=logging.getLogger("vigie.bolt"), listener_executor=_listener_pool(),
                  before_authorize=before_authorize,
                  user_facing_authorize_error_message=refused_text)
        register_listeners(app, runtime)
        return app
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("SLACK_BOT_TOKEN is not set")
    client = build_web_client(settings)
    _quiet_token_skipped_warning()
    home_team = None
    if verify_token:
        # Bolt would wrap a refused token in a generic BoltError: check it first, so the
        # caller gets Slack's error code (invalid_auth, token_revoked...) as SlackApiError.
        home_team = client.auth_test().get("team_id")
        if home_team:
            # A token Slack accepts: a workspace marked uninstalled has it back.
            from bot.services.installs import do_reinstalled

            do_reinstalled(runtime.sessions, str(home_team), default_tz=settings.timezone)
    app = App(
        client=client,
        signing_secret=signing_secret or "socket-mode-only",
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=verify_token,
        logger=logging.getLogger("vigie.bolt"),
        listener_executor=_listener_pool(),
        before_authorize=before_authorize,
        user_facing_authorize_error_message=refused_text,
    )
    register_listeners(app, runtime, home_team=home_team)
    return app


LISTENER_THREADS = 32
"""Bolt runs each listener in this pool and answers Slack once it acks. Bolt's default of 5
lets a few slow commands (their work after the ack) hold back every other request's ack
past Slack's 3 seconds; the work is mostly waiting on the database and Slack, so threads
are cheap."""


def _listener_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="vigie-listener")


class _DropMessage(logging.Filter):
    """Drops one exact log message."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


def _quiet_token_skipped_warning() -> None:
    # Bolt reads SLACK_BOT_TOKEN from the environment itself and, given our client (built
    # from that same token), warns on every start that the token "will be unused": noise.
    logger = logging.getLogger("vigie.bolt")
    message = warning_client_prioritized_and_token_skipped()
    if not any(isinstance(f, _DropMessage) and f.message == message for f in logger.filters):
        logger.addFilter(_DropMessage(message))


def _quiet_bolt_request_logs() -> None:
    # Bolt logs a refused request's whole body at INFO; bot.web refuses those first, and a
    # body must never reach the logs whole (size, personal data).
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)


def register_listeners(app: App, runtime: Runtime, *, home_team: str | None = None) -> None:
    """Attach every surface's listeners and the error handler (``home_team``: the team of
    SLACK_BOT_TOKEN, when known)."""
    _quiet_bolt_request_logs()
    from handlers import actions, commands, events, guard, home, install, triage, views
    from handlers.errors import apologize

    guard.register(app, runtime)
    commands.register(app, runtime)
    triage.register(app, runtime)  # before actions: its catch-all takes any vigie.* left
    actions.register(app, runtime)
    views.register(app, runtime)
    home.register(app, runtime)
    install.register(app, runtime, home_team=home_team)
    events.register(app)  # last: it takes every event the others left

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any = None) -> BoltResponse:
        apologize(error, body, respond)
        return BoltResponse(status=200, body="")
