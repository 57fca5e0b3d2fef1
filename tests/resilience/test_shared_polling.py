"""Four worker processes poll 1,000 due sources on PostgreSQL at the same moment.

Proves the shared-polling rule: due sources are claimed with ``FOR UPDATE SKIP LOCKED``
and a lease, so each source is fetched by exactly one worker, and all of them are.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.actors import CLI
from bot.services.watches import do_add_watch
from storage import migrations
from storage.db import transaction
from storage.models import Mention, SourceRow, Watch, utcnow
from tests.harness.constants import CHANNEL_ID
from tests.resilience.conftest import add_workspace, open_sessions
from tests.resilience.support import (
    FeedItem,
    FeedServer,
    child_env,
    children,
    dated,
    item_text,
    start_child,
)

WORKERS = 4
SOURCES = 1000
ITEMS_PER_FEED = 2
TICK_LIMIT = 250
"""Sources one tick claims at most: four workers ticking at once could each take a
quarter, so they really compete for the same rows."""
STARTUP_ALLOWANCE = 6.0
"""Seconds given to the children to import and connect before the common start."""


@pytest.mark.postgres
def test_four_workers_fetch_each_of_1000_sources_exactly_once(
    postgres_database_factory: object, tmp_path: Path,
) -> None:
    """Start four workers that tick at the same moment; count fetches per feed."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    sessions = open_sessions(url)
    try:
        workspace_id = add_workspace(sessions)
        do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                     channel_id=CHANNEL_ID, alert_threshold=100)
        with FeedServer(delay=0.005) as server:
            with transaction(sessions) as session:
                watch_id = session.scalar(select(Watch.id))
                due = utcnow() - timedelta(minutes=1)
                for number in range(SOURCES):
                    items = [FeedItem(f"f{number}-{j}", item_text(100_000 + number * 10 + j),
                                      dated(j)) for j in range(ITEMS_PER_FEED)]
                    feed_url = server.add_feed(f"/feed/{number}.rss", items)
                    session.add(SourceRow(workspace_id=workspace_id, watch_id=watch_id,
                                          kind="rss", config={"url": feed_url}, trusted=True,
                                          interval_seconds=900, next_poll_at=due))
            start_at = time.time() + STARTUP_ALLOWANCE
            logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
            env = child_env(url)
            began = time.monotonic()
            with children() as started:
                for log in logs:
                    started.append(start_child(["tests/resilience/poll_worker_child.py",
                                                str(TICK_LIMIT), str(start_at)], env, log))
                codes = [process.wait(timeout=120) for process in started]
            elapsed = time.monotonic() - began
            hits = dict(server.hits)
        assert codes == [0] * WORKERS, [log.read_text()[-1500:] for log in logs]
        figures = [json.loads(log.read_text().strip().splitlines()[-1]) for log in logs]
        late = sum(1 for f in figures if f["waited"] <= 0)  # slow machine: less contention
        paths = {f"/feed/{number}.rss" for number in range(SOURCES)}
        assert set(hits) == paths
        twice = {path: n for path, n in hits.items() if n != 1}
        assert not twice, f"fetched more than once: {twice}"
        assert sum(f["claimed"] for f in figures) == SOURCES
        assert sum(f["failures"] for f in figures) == 0
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Mention)) == \
                SOURCES * ITEMS_PER_FEED
            assert session.scalar(select(func.count()).select_from(SourceRow).where(
                SourceRow.last_success_at.is_(None))) == 0
        print(f"\n[4 workers x 1000 sources] claimed per worker "
              f"{[f['claimed'] for f in figures]} in ticks {[f['ticks'] for f in figures]}; "
              f"fetches {sum(hits.values())} for {SOURCES} feeds (each exactly once); "
              f"mentions {SOURCES * ITEMS_PER_FEED}; wall time {elapsed:.1f}s "
              f"(incl. {STARTUP_ALLOWANCE:.0f}s start allowance; workers late at the start {late})")
    finally:
        sessions.kw["bind"].dispose()
