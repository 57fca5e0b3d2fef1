"""SIGKILL a process flushing the outbox to the Slack stand-in, restart it, repeat.

Proves the outbox rule: the attempt is committed before Slack is called and a retried
row is first looked up by its message metadata, so every card reaches its channel
exactly once and in order, whatever moment the sender dies at.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import EVENT_TYPE_MENTION, KIND_RECHECK
from storage.models import Mention, OutboxMessage, OutboxStatus
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import POST_BURST, SlackStandIn
from tests.resilience.conftest import (
    CHANNELS,
    add_channel_watches,
    add_workspace,
    expire_outbox_leases,
    seed_cards,
)
from tests.resilience.support import (
    KillStats,
    child_env,
    random_delays,
    run_and_kill,
    run_and_kill_when,
    run_to_completion,
)

SEED = 8_6002
FIRST_PER_CHANNEL = 40
NEW_PER_ROUND = 15
KILLS = 6
PACE = 0.05
"""The child's seconds between two messages to a channel (1.0 in production): the stand-in's
per-channel limit of chat.postMessage runs at the same speed (``set_post_limit``)."""
CHILD = ["tests/resilience/outbox_child.py", str(PACE)]


def posted_mentions(standin: SlackStandIn, channel: str) -> list[int]:
    """The mention ids of the cards in ``channel``, in posting order (from metadata)."""
    ids = []
    for message in standin.messages_in(channel):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == EVENT_TYPE_MENTION:
            ids.append(int(metadata["event_payload"]["mention_id"]))
    return ids


def assert_delivered_once_in_order(standin: SlackStandIn, sessions: sessionmaker[Session],
                                   expected: dict[str, list[int]]) -> None:
    """Each channel holds each of its cards once, in outbox order; the database agrees."""
    for channel, mention_ids in expected.items():
        assert posted_mentions(standin, channel) == mention_ids, channel
    with sessions() as session:
        # A recheck of a row a kill left uncertain (KIND_RECHECK) may still wait its time.
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind != KIND_RECHECK)).all()
        assert {row.status for row in rows} == {OutboxStatus.SENT.value}
        for mention in session.scalars(select(Mention)):
            message = standin.message(mention.slack_channel or "", mention.slack_ts or "")
            assert message is not None, f"mention {mention.id} records a ts Slack lacks"
            assert message["metadata"]["event_payload"]["mention_id"] == mention.id


def test_sigkill_during_outbox_sending_posts_every_card_exactly_once(
    sqlite_url: str, sqlite_sessions: sessionmaker[Session], tmp_path: Path,
    slack_standin: SlackStandIn,
) -> None:
    """Kill the sender at seeded random points; after the restarts every card is in its
    channel once, in order (recovery found the ones posted just before a kill).

    New cards are queued before every restart, so every run has work to die in.
    """
    slack_standin.set_post_limit(per_second=1 / PACE, burst=POST_BURST)
    add_channel_watches(sqlite_sessions, add_workspace(sqlite_sessions))
    expected = seed_cards(sqlite_sessions, FIRST_PER_CHANNEL)
    queued = FIRST_PER_CHANNEL
    env = child_env(sqlite_url, SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_API_URL=slack_standin.base_url)
    log = tmp_path / "outbox.log"
    stats = KillStats()
    delivered: list[int] = []
    leased = 0
    rng = random.Random(SEED)
    for round_number, delay in enumerate(random_delays(SEED, KILLS, 1.6, 3.2)):
        if round_number % 2:
            # Right after the N-th post took effect: Slack has the card, the database
            # does not know yet (the window recovery through metadata is for).
            target = len(slack_standin.calls("chat.postMessage", ok=True)) + rng.randint(1, 40)

            def posted(target: int = target) -> object:
                return slack_standin.wait_for("chat.postMessage", target, timeout=20, ok=True)

            run_and_kill_when(CHILD, env, log, posted, stats, f"post #{target}")
        else:
            run_and_kill(CHILD, env, log, delay, stats)
        delivered.append(len(slack_standin.calls("chat.postMessage", ok=True)))
        leased += expire_outbox_leases(sqlite_sessions)
        for channel, ids in seed_cards(sqlite_sessions, NEW_PER_ROUND, start=queued).items():
            expected[channel].extend(ids)
        queued += NEW_PER_ROUND
    assert run_to_completion(CHILD, env, log, timeout=90) == 0, log.read_text()[-2000:]
    assert_delivered_once_in_order(slack_standin, sqlite_sessions, expected)
    recovered = sum(int(n) for n in re.findall(r"recovered (\d+)", log.read_text()))
    total = sum(len(ids) for ids in expected.values())
    print(f"\n[outbox kill -9] {total} cards over {len(CHANNELS)} channels; runs "
          f"{stats.runs + 1}, kills {stats.kills} at {stats.delays}s and {stats.points}; "
          f"posted after each kill {delivered}; rows left leased by a kill {leased}; "
          f"recovered through metadata {recovered}; chat.postMessage calls "
          f"{len(slack_standin.calls('chat.postMessage'))}")
