"""SIGKILL a process posting approved replies to a Mastodon stand-in, restart, repeat.

Proves the reply rule: an attempt is recorded before the network call and a retried
attempt first asks the network whether the reply exists, so each approved draft
becomes exactly one status, whatever moment the poster dies at.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.reply_queue import PENDING, POSTED
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.services.workflow import do_approve, do_save_draft
from storage.db import transaction
from storage.models import Mention, MentionStatus, utcnow
from storage.models_replies import ReplyPost
from tests.harness.constants import CHANNEL_ID
from tests.publishers.fakes import FakeMastodon
from tests.resilience.conftest import add_workspace
from tests.resilience.support import (
    KillStats,
    child_env,
    random_delays,
    run_and_kill_when,
    run_to_completion,
)

SEED = 8_6003
FIRST_DRAFTS = 30
NEW_PER_ROUND = 10
KILLS = 6
CHILD = ["tests/resilience/replies_child.py"]


@pytest.fixture
def mastodon(shared_data: Path) -> Iterator[FakeMastodon]:
    """A FakeMastodon on its own threaded local server."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield FakeMastodon(server, lambda name: json.loads(
            (shared_data / "api" / name).read_text(encoding="utf-8")))
    finally:
        server.clear()
        server.stop()


def approve_replies(sessions: sessionmaker[Session], workspace_id: int, watch_id: int,
                    source_id: int, fake: FakeMastodon, start: int, count: int
                    ) -> dict[str, str]:
    """Mentions of statuses on the fake, a draft and an approval each (which queues the
    reply); returns parent status id -> draft text."""
    drafts: dict[str, str] = {}
    for number in range(start, start + count):
        # By alice, a local account, whom the reply mentions (so it is posted as drafted).
        parent = fake.add_status(text=f"Is @brand down again? Order {number} never arrived",
                                 account=fake.template["account"] | {
                                     "id": "77", "username": "alice", "acct": "alice"})
        with transaction(sessions) as session:
            mention = Mention(workspace_id=workspace_id, watch_id=watch_id,
                              source_id=source_id, network="mastodon",
                              external_id=parent["uri"], url=parent["url"],
                              text=f"Is @brand down again? Order {number}", language="en",
                              published_at=utcnow() - timedelta(hours=1), priority=70)
            session.add(mention)
            session.flush()
            mention_id = mention.id
        text = f"Sorry @alice, we're on it: order {number} ships today."
        do_save_draft(sessions, workspace_id, CLI, mention_id, text)
        do_approve(sessions, workspace_id, CLI, mention_id)
        drafts[parent["id"]] = text
    return drafts


def expire_reply_leases(sessions: sessionmaker[Session]) -> int:
    """Let the two-minute lease of replies a killed poster had claimed run out."""
    with transaction(sessions) as session:
        result = session.execute(update(ReplyPost).where(
            ReplyPost.status == PENDING, ReplyPost.next_attempt_at > utcnow()
        ).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def wait_for_posts(fake: FakeMastodon, target: int, timeout: float = 20.0) -> None:
    """Block until the fake holds ``target`` statuses created by the brand."""
    deadline = time.monotonic() + timeout
    while len(fake.created) < target:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(fake.created)} statuses after {timeout}s")
        time.sleep(0.001)


def test_sigkill_during_reply_posting_posts_each_draft_once(
    sqlite_url: str, sqlite_sessions: sessionmaker[Session], tmp_path: Path,
    mastodon: FakeMastodon,
) -> None:
    """Kill the poster at seeded random points (half of them right after a status was
    created, before the database knew); after restarts each draft is one status."""
    sessions = sqlite_sessions
    workspace_id = add_workspace(sessions)
    watch = do_add_watch(sessions, workspace_id, CLI, name="brand", query="",
                         channel_id=CHANNEL_ID)
    source = do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name="brand",
                           values={"base_url": mastodon.base, "mode": "search",
                                   "query": "brand", "access_token": FakeMastodon.TOKEN})
    drafts = approve_replies(sessions, workspace_id, watch.id, source.id, mastodon, 0,
                             FIRST_DRAFTS)
    queued = FIRST_DRAFTS
    env = child_env(sqlite_url)
    log = tmp_path / "replies.log"
    stats = KillStats()
    rng = random.Random(SEED)
    posted_after: list[int] = []
    leased = 0
    for round_number, delay in enumerate(random_delays(SEED, KILLS, 0.0, 0.25)):
        first = len(mastodon.created) + 1
        if round_number % 2:
            # Right after the N-th status was created, before the database knew.
            target = first - 1 + rng.randint(1, 12)

            def created(target: int = target) -> None:
                wait_for_posts(mastodon, target)

            run_and_kill_when(CHILD, env, log, created, stats, f"status #{target}")
        else:
            # Anywhere in the first quarter second of posting (claims, calls, records).
            def after_first(first: int = first, delay: float = delay) -> None:
                wait_for_posts(mastodon, first)
                time.sleep(delay)

            run_and_kill_when(CHILD, env, log, after_first, stats,
                              f"{delay:.2f}s after status #{first}")
        posted_after.append(len(mastodon.created))
        leased += expire_reply_leases(sessions)
        drafts |= approve_replies(sessions, workspace_id, watch.id, source.id, mastodon,
                                  queued, NEW_PER_ROUND)
        queued += NEW_PER_ROUND
    assert run_to_completion(CHILD, env, log, timeout=90) == 0, log.read_text()[-2000:]
    replies = [mastodon.statuses[status_id] for status_id in mastodon.created]
    per_parent = Counter(status["in_reply_to_id"] for status in replies)
    assert set(per_parent) == set(drafts), "a draft was not posted"
    duplicates = {parent: n for parent, n in per_parent.items() if n != 1}
    assert not duplicates, f"posted more than once: {duplicates}"
    for status in replies:
        assert mastodon.sources[status["id"]] == drafts[status["in_reply_to_id"]]
    with sessions() as session:
        rows = session.scalars(select(ReplyPost)).all()
        assert [row.status for row in rows] == [POSTED] * len(drafts)
        assert {row.external_id for row in rows} == {status["uri"] for status in replies}
        statuses = set(session.scalars(select(Mention.status)))
        assert statuses == {MentionStatus.REPLIED.value}
        retried = sum(1 for row in rows if row.attempts > 1)
    print(f"\n[replies kill -9] {len(drafts)} approved drafts; runs {stats.runs + 1}, kills "
          f"{stats.kills} at {stats.points}; statuses after each kill "
          f"{posted_after}; replies leased by a kill {leased}; posted after a retry "
          f"{retried}; statuses created {len(mastodon.created)}")
