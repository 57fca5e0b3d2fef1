"""SIGKILL ``vigie poll --once`` while it ingests a few thousand feed items, then finish.

Proves the polling transaction rule: a source's cursor moves in the same transaction as
the mentions (and alerts) it covers, so no crash point loses a mention or stores one
twice, whatever the order sources complete in.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.fingerprint import content_fingerprint
from bot.services.actors import CLI
from bot.services.outbox import KIND_CARD, KIND_RECHECK
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.sources.cursors import id_digest
from storage.models import Mention, OutboxMessage, OutboxStatus, SourceRow
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID
from tests.resilience.conftest import add_workspace, expire_outbox_leases
from tests.resilience.support import (
    FeedItem,
    FeedServer,
    KillStats,
    child_env,
    dated,
    item_text,
    random_delays,
    run_and_kill_when,
    run_to_completion,
)

SEED = 8_6001
SOURCES = 6
FIRST_ITEMS = 250
NEW_PER_ROUND = 60
CROSS_POSTS = 10
NEAR_DUPLICATES = 10
ALERTING_SOURCES = 1
KILLS = 6
POLL = ["-m", "bot.cli", "poll", "--once"]


def feed_items(source: int, count: int) -> list[FeedItem]:
    """Source ``source``'s first ``count`` own items, entries copied from the previous
    feed (same guid) and near-duplicates of the next feed (new guid, same text)."""
    own = [FeedItem(f"s{source}-i{i}", item_text(source * 1000 + i), dated(i))
           for i in range(count)]
    previous, following = (source - 1) % SOURCES, (source + 1) % SOURCES
    copies = [FeedItem(f"s{previous}-i{i}", item_text(previous * 1000 + i), dated(i))
              for i in range(CROSS_POSTS)]
    near = [FeedItem(f"s{source}-near{i}", item_text(following * 1000 + 100 + i),
                     dated(count + i)) for i in range(NEAR_DUPLICATES)]
    return own + copies + near


def check_invariants(sessions: sessionmaker[Session], feeds: dict[str, list[FeedItem]],
                     urls: dict[int, str]) -> int:
    """Every item a cursor covers is stored (by id or as a near-duplicate), nothing is
    stored twice, and every alerting mention has exactly one card row; returns the
    number of mentions stored so far."""
    with sessions() as session:
        mentions = session.execute(
            select(Mention.id, Mention.external_id, Mention.fingerprint, Mention.watch_id)
        ).all()
        sources = session.scalars(select(SourceRow)).all()
        cards = session.execute(select(OutboxMessage.mention_id, func.count())
                                .where(OutboxMessage.kind == KIND_CARD)
                                .group_by(OutboxMessage.mention_id)).all()
        links = session.execute(select(MentionWatch.mention_id, MentionWatch.watch_id)).all()
    ids = [m.external_id for m in mentions]
    prints = [m.fingerprint for m in mentions]
    assert len(ids) == len(set(ids)), "a mention was stored twice (same id)"
    assert len(prints) == len(set(prints)), "a mention was stored twice (same text)"
    stored_ids, stored_prints = set(ids), set(prints)
    for source in sources:
        seen = set(source.cursor.get("seen") or [])
        for item in feeds[urls[source.id]]:
            if id_digest(item.guid) in seen:
                assert item.guid in stored_ids or content_fingerprint(item.text) in \
                    stored_prints, f"source {source.id} moved past {item.guid} without it"
    card_counts: dict[int | None, int] = {mention_id: n for mention_id, n in cards}
    alerting_watches = {s.watch_id for s in sources if s.id <= ALERTING_SOURCES}
    # A post both kinds of source bring (the cross-posts) belongs to both watches, the
    # alerting one deciding its card, whichever source stored it first (its watch_id).
    watches_of: dict[int, set[int]] = {}
    for mention_id, watch_id in links:
        watches_of.setdefault(mention_id, set()).add(watch_id)
    for mention in mentions:
        held = watches_of.get(mention.id, set()) | {mention.watch_id}
        expected = 1 if held & alerting_watches else 0
        assert card_counts.get(mention.id, 0) == expected, f"mention {mention.id} cards"
    return len(mentions)


# Seven `vigie poll --once` children, each starting Python and loading the models: on a
# machine whose cores other test workers share, that alone can pass the suite's 120 s.
@pytest.mark.timeout(360)
def test_sigkill_during_ingest_loses_nothing_and_stores_nothing_twice(
    sqlite_url: str, sqlite_sessions: sessionmaker[Session], tmp_path: Path,
) -> None:
    """Kill ``poll --once`` at seeded random points, check the invariants after every
    kill, run it to completion and find every logical item stored exactly once.

    The feeds grow before every run (as real feeds do), so every run has work to crash in;
    sources answer after different delays, so kills land between and inside their
    ingest transactions.
    """
    sessions = sqlite_sessions
    workspace_id = add_workspace(sessions)
    do_add_watch(sessions, workspace_id, CLI, name="alerts", query="", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="quiet", query="", channel_id=CHANNEL_ID,
                 alert_threshold=100)
    feeds: dict[str, list[FeedItem]] = {}
    urls: dict[int, str] = {}
    log = tmp_path / "poll.log"
    env = child_env(sqlite_url)
    with FeedServer() as server:
        for source in range(SOURCES):
            items = feed_items(source, FIRST_ITEMS)
            url = server.add_feed(f"/feed/{source}.rss", items)
            server.delays[f"/feed/{source}.rss"] = 0.15 * source
            feeds[url] = items
            view = do_add_source(
                sessions, workspace_id, CLI, kind="rss",
                watch_name="alerts" if source < ALERTING_SOURCES else "quiet",
                values={"url": url, "max_entries": 1000})
            urls[view.id] = url
        stats = KillStats()
        progress: list[int] = []
        count = FIRST_ITEMS
        for delay in random_delays(SEED, KILLS, 0.0, 1.5):
            fetched = sum(server.hits.values())

            def fetching(fetched: int = fetched, delay: float = delay) -> None:
                # Startup time varies by machine: count from the run's first fetch.
                deadline = time.monotonic() + 30
                while sum(server.hits.values()) <= fetched and time.monotonic() < deadline:
                    time.sleep(0.005)
                time.sleep(delay)

            run_and_kill_when(POLL, env, log, fetching, stats,
                              f"{delay:.2f}s after the first fetch")
            progress.append(check_invariants(sessions, feeds, urls))
            count += NEW_PER_ROUND
            for url in list(feeds):
                source = int(url.rsplit("/", 1)[1].split(".")[0])
                feeds[url] = feed_items(source, count)
                server.add_feed(f"/feed/{source}.rss", feeds[url])
        leased = expire_outbox_leases(sessions)  # a kill while sending leaves a 60 s lease
        assert run_to_completion(POLL, env, log) == 0, log.read_text()[-2000:]
        stored = check_invariants(sessions, feeds, urls)
        hits = sum(server.hits.values())
    logical = {content_fingerprint(item.text) for items in feeds.values() for item in items}
    fed = sum(len(items) for items in feeds.values())
    assert stored == len(logical) == SOURCES * count
    with sessions() as session:
        for row in session.scalars(select(SourceRow)):
            assert row.consecutive_failures == 0 and row.last_success_at is not None
            assert set(row.cursor["seen"]) == {id_digest(i.guid) for i in feeds[urls[
                row.id]]}, f"source {row.id}'s cursor does not cover its feed"
        # A recheck of a card a kill left uncertain (KIND_RECHECK) may still wait its time.
        unsent = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.SENT.value,
            OutboxMessage.kind != KIND_RECHECK))
    assert unsent == 0
    print(f"\n[ingest kill -9] {fed} feed entries over {SOURCES} sources "
          f"({SOURCES * (CROSS_POSTS + NEAR_DUPLICATES)} duplicates); runs {stats.runs + 1}, "
          f"kills {stats.kills} at {stats.points}, finished before the kill {stats.completed}; "
          f"mentions stored after each run {progress}; final {stored} "
          f"(expected {SOURCES * count}); outbox rows left leased by a kill {leased}; "
          f"feed fetches {hits}")
