"""The composition root's product: settings, database and notifier wired together once."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.pipeline import load_models
from bot.config import Settings
from bot.console_notifier import ConsoleNotifier
from bot.failure_streak import FailureStreak
from bot.llm import LLMClient, from_config
from bot.messages.delivery import HomePublisher, Notifier, UserDirectories
from bot.services.cards import register_card_renderers
from bot.services.notifications import refresh_homes, send_approval_digests
from bot.services.outbox import OutboxSender
from bot.services.polling import StrandedClaims
from bot.services.ratelimit import RateLimiter
from bot.services.workspaces import CONSOLE_TEAM_ID, WorkspaceDirectory
from bot.slack.users import AccountCache
from storage.db import make_engine, make_session_factory
from storage.models import utcnow
from storage.secret_box import SecretBox

__all__ = ["CONSOLE_TEAM_ID", "CoalescingRunner", "Runtime", "build_runtime",
           "prepare_worker_process"]

logger = logging.getLogger(__name__)

YOUNG_GC_THRESHOLD = 10_000
"""Allocations between two young-generation collections in a scheduler process."""

CLOSE_WAIT = 30.0
"""Seconds ``Runtime.close`` waits for a background run in flight (a post under way ends
within its HTTP client's total timeout)."""


class CoalescingRunner:
    """Runs a job in one background thread at a time.

    A call while the job runs asks for one more run after it instead of a thread of its
    own: a burst of clicks costs one or two flushes of the outbox, not one per click
    competing for the same rows and the same CPU as the acknowledgements.
    """

    def __init__(self, job: Callable[[], object], name: str) -> None:
        self._job = job
        self._name = name
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._streak = FailureStreak(f"background job {name}", logger)

    def __call__(self) -> None:
        """Run the job soon, in the background (nothing once stopped)."""
        with self._lock:
            if self._stopped:
                return
            if self._running:
                self._again = True
                return
            self._running = True
            thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread = thread
        try:
            thread.start()
        except BaseException:
            with self._lock:
                self._running, self._thread = False, None
            raise

    @property
    def name(self) -> str:
        """The name of the job's thread."""
        return self._name

    def stop(self, timeout: float) -> bool:
        """Start no more runs and wait up to ``timeout`` seconds for the one in flight;
        False when it still runs."""
        with self._lock:
            self._stopped, self._again = True, False
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _loop(self) -> None:
        try:
            while True:
                # The next nudge or the scheduler's tick tries again; an outage is
                # logged once per streak (a nudge may come every second).
                self._streak.run(self._job)
                with self._lock:  # checked and cleared together: no nudge is lost
                    if not self._again or self._stopped:
                        self._running = False
                        return
                    self._again = False
        except BaseException:
            with self._lock:
                self._running = False
            raise


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
    homes: HomePublisher | None = None
    """Publishes App Homes marked stale by changes (None without Slack)."""
    directories: UserDirectories | None = None
    """Slack's directory of each workspace, for what Vigie sends unasked (App Home
    refreshes; the outbox's DMs have it too): a guest no admin gave a role is shown nothing
    (None without Slack)."""
    clock: Callable[[], datetime] = field(default=utcnow)
    locale_lookups: set[tuple[int, str]] = field(default_factory=set, repr=False)
    """Users whose Slack locale this process already remembered (once is enough)."""
    limiter: RateLimiter = field(default_factory=RateLimiter, repr=False)
    """Rate limits of expensive commands, per user and per workspace (in this process)."""
    accounts: AccountCache = field(default_factory=AccountCache, repr=False)
    """What Slack said about users lately (``users.info``), so a busy user's requests do not
    each ask again (in this process)."""
    stranded_claims: StrandedClaims = field(default_factory=StrandedClaims, repr=False)
    """Sources whose poll the database failed while out of reach: the poll ticks release
    their claims once it answers again (in this process)."""

    def __post_init__(self) -> None:
        self._closed = False
        self._outbox_runner = CoalescingRunner(self.deliver, "vigie-outbox-nudge")
        self._replies_runner = CoalescingRunner(self._post_replies, "vigie-replies-nudge")
        self._compaction_runner = CoalescingRunner(self._compact_search_index,
                                                   "vigie-search-compaction")

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called (background runs stop)."""
        return self._closed

    def nudge_outbox(self) -> None:
        """Deliver pending Slack messages now, in the background (cards feel instant)."""
        self._outbox_runner()

    def deliver(self) -> None:
        """Queue the approval digests that are due, send the outbox, refresh stale Homes
        (nothing once the runtime is closed: a nudge still running must not send more)."""
        if self._closed:
            return
        send_approval_digests(self.sessions, self.clock(),
                              self.settings.notify_digest_minutes)
        self.outbox.flush()
        if self.homes is not None and not self._closed:
            refresh_homes(self.sessions, self.homes, self.clock(),
                          default_timezone=self.settings.timezone, users=self.directories,
                          installed=self.workspaces.is_installed)

    def nudge_replies(self) -> None:
        """Post approved replies now, in the background, then deliver the card updates."""
        self._replies_runner()

    def nudge_compaction(self) -> None:
        """Rewrite SQLite's search index without the words a forget or a purge deleted,
        now, in the background (the answer does not wait for it)."""
        self._compaction_runner()

    def _compact_search_index(self) -> None:
        from bot.services.privacy import do_compact_search_index

        if not self._closed:
            do_compact_search_index(self.sessions)

    def _post_replies(self) -> None:
        from bot.services.http_clients import http_factory
        from bot.services.replies import flush_replies

        if self._closed:
            return
        flush_replies(self.sessions, http_factory(self.settings), stop=lambda: self._closed)
        # Through the outbox runner: digests are queued by one thread of this process.
        self.nudge_outbox()

    def close(self, timeout: float = CLOSE_WAIT) -> None:
        """Stop background delivery, wait (up to ``timeout`` seconds) for the runs in
        flight to end, and release database connections.

        A run in flight finishes the message or post it has started and starts no other:
        once this returns, this runtime sends nothing more (unless a run outlasted the
        wait, which is logged).
        """
        self._closed = True
        self.outbox.stop()
        deadline = time.monotonic() + timeout
        for runner in (self._replies_runner, self._outbox_runner, self._compaction_runner):
            if not runner.stop(max(0.0, deadline - time.monotonic())):
                logger.warning("background job %s still running after %.0f s at shutdown",
                               runner.name, timeout)
        self.engine.dispose()


def _installed(settings: Settings, engine: Engine) -> Callable[[str], bool] | None:
    """With several workspaces: whether a team installed Vigie (its bot token is stored)."""
    if not settings.oauth:
        return None
    from bot.slack.oauth import bot_token_resolver

    resolve = bot_token_resolver(settings, engine)
    return lambda team_id: resolve(team_id) is not None


def build_runtime(
    settings: Settings, *, notifier: Notifier | None = None, console: TextIO | None = None,
    draws_charts: bool = True, accounts: AccountCache | None = None,
) -> Runtime:
    """Wire the database, the notifier (Slack when configured, else the console) and the
    outbox sender.

    ``draws_charts`` False (the web processes) leaves chart uploads to the worker.
    ``accounts``: the process's cache of Slack's answers about users (a new one by default;
    a test gives one whose clock it moves).
    """
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine, SecretBox(settings.secret_keys))
    homes: HomePublisher | None = None
    directories: UserDirectories | None = None
    accounts = accounts if accounts is not None else AccountCache()
    if settings.has_slack:
        from bot.slack.client import build_web_client
        from bot.slack.home_publisher import SlackHomePublisher
        from bot.slack.oauth import bot_token_resolver
        from bot.slack.users import SlackUserDirectories

        resolver = bot_token_resolver(settings, engine) if settings.oauth else None
        # No client-side retries: a Home left stale is published again on the next nudge or tick.
        homes = SlackHomePublisher(build_web_client(settings, for_outbox=True), resolver)
        directories = SlackUserDirectories(build_web_client(settings, for_outbox=True),
                                           resolver, cache=accounts)
    if notifier is None:
        if settings.has_slack:
            from bot.slack.notifier import SlackNotifier

            notifier = SlackNotifier(build_web_client(settings, for_outbox=True), resolver)
        else:
            notifier = ConsoleNotifier(console or sys.stdout, zone=settings.tz)
    interval = 1.0 if settings.has_slack else 0.0
    outbox = OutboxSender(sessions, notifier, per_channel_interval=interval,
                          draws_charts=draws_charts, directories=directories,
                          default_timezone=settings.timezone)
    register_card_renderers(outbox)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        notifier=notifier,
        workspaces=WorkspaceDirectory(sessions, admins=settings.admins,
                                      timezone=settings.timezone,
                                      adopt_console=not settings.oauth,
                                      installed=_installed(settings, engine)),
        outbox=outbox,
        llm=from_config(settings.llm_base_url, settings.llm_api_key, settings.llm_model,
                        max_tokens=settings.llm_max_tokens),
        homes=homes,
        directories=directories,
        accounts=accounts,
    )


def prepare_worker_process(*, models_in_background: bool = False) -> None:
    """Make a process that runs the scheduler (``vigie worker``, or ``vigie run`` with its
    listener) ready for steady work.

    The analysis models load now rather than at the first poll; with
    ``models_in_background`` in a thread of their own, so the scheduler starts (and its
    first poll fetches) while they load, and the first analysis waits only for the models
    it needs (each loads once, under its lock). Then everything the
    process holds at this point (imported modules, models, settings: ~100,000 objects
    that live as long as the process) is frozen out of the cyclic garbage collector, so
    a full collection walks only what the work allocates: ~60 ms per full collection
    before, under 1 ms after. (A model's tables are dicts of strings and integers,
    which the collector does not track: loading them after the freeze costs it nothing.)
    The collector is on afterwards, whatever it was before. Young collections run every
    ``YOUNG_GC_THRESHOLD``
    allocations instead of 700: ingesting 1,000 mentions spent 6.9 ms in ~40 of them,
    1.4 ms after (``bench/bench_ingest.py`` sets its process up this way).
    """
    if models_in_background:
        threading.Thread(target=_load_models_logged, name="load-models", daemon=True).start()
    else:
        load_models()
    with _ctrl_c_held():
        gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)
    gc.enable()  # `vigie run` and `worker` start with it off (see bot.cli.core)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) back until the block is done, then deliver it as it would
    have been (KeyboardInterrupt, or nothing where SIGINT is ignored).

    A full collection runs the finalizers (``__del__``) of start-up's garbage, and a
    KeyboardInterrupt raised inside a finalizer is printed and dropped: Ctrl-C pressed
    then would be lost and the process would go on running.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, _frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        signal.raise_signal(signal.SIGINT)


def _load_models_logged() -> None:
    try:
        load_models()
    except Exception:  # the first analysis loads (and reports) the model again
        logger.exception("loading the analysis models failed")
