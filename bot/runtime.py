"""The composition root's product: settings, database and notifier wired together once."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.console_notifier import ConsoleNotifier
from bot.llm import LLMClient, from_config
from bot.services.cards import register_card_renderers
from bot.services.outbox import OutboxSender
from bot.services.ports import Notifier
from bot.services.workspaces import CONSOLE_TEAM_ID, WorkspaceDirectory
from storage.db import make_engine, make_session_factory
from storage.models import utcnow

__all__ = ["CONSOLE_TEAM_ID", "Runtime", "build_runtime"]

@dataclass
class Runtime:
    """Everything services need, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    notifier: Notifier
    workspaces: WorkspaceDirectory
    outbox: OutboxSender
    llm: LLMClient | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    _replies_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    locale_lookups: set[tuple[int, str]] = field(default_factory=set, repr=False)
    """Users whose Slack locale this process already looked up (once is enough)."""

    def nudge_outbox(self) -> None:
        """Deliver pending Slack messages now, in the background (cards feel instant)."""
        threading.Thread(target=self.outbox.flush, name="vigie-outbox-nudge",
                         daemon=True).start()

    def nudge_replies(self) -> None:
        """Post approved replies now, in the background, then deliver the card updates."""
        from bot.services.http_clients import http_factory
        from bot.services.replies import flush_replies

        def run() -> None:
            with self._replies_lock:
                flush_replies(self.sessions, http_factory(self.settings))
            self.outbox.flush()

        threading.Thread(target=run, name="vigie-replies-nudge", daemon=True).start()

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_runtime(
    settings: Settings, *, notifier: Notifier | None = None, console: TextIO | None = None
) -> Runtime:
    """Wire the database, the notifier (Slack when configured, else the console) and the
    outbox sender."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    if notifier is None:
        if settings.has_slack:
            from bot.slack.client import build_web_client
            from bot.slack.notifier import SlackNotifier
            from bot.slack.oauth import bot_token_resolver

            resolver = bot_token_resolver(settings, engine) if settings.oauth else None
            notifier = SlackNotifier(build_web_client(settings, for_outbox=True), resolver)
        else:
            notifier = ConsoleNotifier(console or sys.stdout)
    interval = 1.0 if settings.has_slack else 0.0
    outbox = OutboxSender(sessions, notifier, per_channel_interval=interval)
    register_card_renderers(outbox)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        notifier=notifier,
        workspaces=WorkspaceDirectory(sessions, admins=settings.admins,
                                      timezone=settings.timezone,
                                      adopt_console=not settings.oauth),
        outbox=outbox,
        llm=from_config(settings.llm_base_url, settings.llm_api_key, settings.llm_model),
    )
