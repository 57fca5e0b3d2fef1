"""Hostile feeds on loopback: none of them may stall polling or exhaust the worker.

Issue 19 items 2 and 7: a feed that trickles its headers one byte at a time held a poll
tick (and so every later tick) forever; a fetch stuck outside HTTP (a DNS lookup) must
not hold the tick either; a nested-HTML bomb must not cost minutes of CPU.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.polling import SourceOutcome, TickReport, run_poll_tick
from bot.services.sources_admin import do_add_source
from bot.sources.http import HttpClient, HttpLimits
from storage.models import SourceRow
from tests.harness.hostile_servers import TricklingServer

from .conftest import add_channel_watches, add_workspace
from .support import FeedItem, FeedServer, dated, item_text

LIVENESS = 60.0
"""Generous bound after which a tick counts as stalled (the old tick never ended)."""


def feed_items(count: int) -> list[FeedItem]:
    """``count`` distinct recent items."""
    return [FeedItem(f"good-{n}", item_text(n), dated(n)) for n in range(count)]


def add_rss(sessions: sessionmaker[Session], workspace_id: int, url: str) -> int:
    """A trusted RSS source on ``watch0``; its id."""
    view = do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="watch0",
                         values={"url": url})
    return view.id


def source_row(sessions: sessionmaker[Session], source_id: int) -> SourceRow:
    """The source row as stored now."""
    with sessions() as session:
        row = session.scalars(select(SourceRow).where(SourceRow.id == source_id)).one()
        session.expunge(row)
        return row


def run_tick_in_thread(tick: Callable[[], TickReport],
                       release: Callable[[], None]) -> TickReport:
    """Run ``tick`` in a thread; fail (after ``release``-ing the hostile server) when it
    has not returned within LIVENESS seconds."""
    reports: list[TickReport] = []
    thread = threading.Thread(target=lambda: reports.append(tick()), daemon=True)
    thread.start()
    thread.join(LIVENESS)
    if thread.is_alive():  # pragma: no cover - the bug these tests guard against
        release()
        thread.join(10)
        pytest.fail("the poll tick was still waiting on the hostile source")
    return reports[0]


def by_source(report: TickReport) -> dict[int, SourceOutcome]:
    """The tick's outcomes keyed by source id."""
    return {outcome.source.id: outcome for outcome in report.outcomes}


def test_a_feed_trickling_its_headers_does_not_stall_polling(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    sessions = sqlite_sessions
    workspace_id = add_workspace(sessions)
    add_channel_watches(sessions, workspace_id, ("C07VIGIEFEED",))
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=1, max_attempts=1)

    def factory(_trusted: bool) -> HttpClient:
        return HttpClient(limits=limits)

    with TricklingServer(interval=0.05) as trickle, FeedServer() as feeds:
        slow_id = add_rss(sessions, workspace_id, trickle.url("/feed"))
        report = run_tick_in_thread(lambda: run_poll_tick(sessions, factory),
                                    trickle.close)
        assert trickle.bytes_sent > 3, "the feed did trickle"
        (outcome,) = report.outcomes
        assert outcome.error == "timed out after 1s"
        slow = source_row(sessions, slow_id)
        assert slow.consecutive_failures == 1 and slow.last_error == "timed out after 1s"
        assert slow.next_poll_at > datetime.now(UTC), "backed off"

        # A good source added after the stall is polled by the next tick.
        good_id = add_rss(sessions, workspace_id, feeds.add_feed("/good", feed_items(3)))
        report = run_tick_in_thread(lambda: run_poll_tick(sessions, factory),
                                    trickle.close)
        outcomes = by_source(report)
        assert set(outcomes) == {good_id}, "the stalled feed waits for its backoff"
        assert outcomes[good_id].error is None and outcomes[good_id].report.stored == 3


def test_a_fetch_stuck_outside_http_is_abandoned_and_the_others_go_on(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    """A DNS lookup cannot be interrupted: the tick gives up on it at the budget."""
    sessions = sqlite_sessions
    workspace_id = add_workspace(sessions)
    add_channel_watches(sessions, workspace_id, ("C07VIGIEFEED",))
    dns_answers = threading.Event()

    def stuck_resolver(host: str, port: int) -> list[str]:
        dns_answers.wait(LIVENESS)
        return ["127.0.0.1"]

    def factory(_trusted: bool) -> HttpClient:
        return HttpClient(untrusted=True, allow_hosts=["127.0.0.1"], resolver=stuck_resolver)

    with FeedServer() as feeds:
        stuck_id = add_rss(sessions, workspace_id, "http://stuck.example/feed")
        good_id = add_rss(sessions, workspace_id, feeds.add_feed("/good", feed_items(2)))
        try:
            report = run_tick_in_thread(
                lambda: run_poll_tick(sessions, factory, concurrency=2, budget=0.5),
                dns_answers.set)
        finally:
            dns_answers.set()
    outcomes = by_source(report)
    assert outcomes[good_id].error is None and outcomes[good_id].report.stored == 2
    assert outcomes[stuck_id].error == "gave up after 0.5s (time budget of a fetch)"
    stuck = source_row(sessions, stuck_id)
    assert stuck.consecutive_failures == 1
    assert stuck.last_error == "gave up after 0.5s (time budget of a fetch)"
