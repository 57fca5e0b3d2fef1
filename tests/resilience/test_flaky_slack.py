"""The Slack stand-in fails a third of all calls with 429 or 500: everything still arrives.

Proves the delivery rule under a flaky Slack: slack_sdk's retry handlers absorb most
failures, the outbox retries the rest later, and per-channel order holds (a row that
must wait holds back the rows after it in its channel). Cards and the thread notes that
depend on them each arrive exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.runtime import Runtime, build_runtime
from bot.services.cards import register_card_renderers
from bot.services.outbox import (
    EVENT_TYPE_MENTION,
    EVENT_TYPE_MESSAGE,
    KIND_RECHECK,
    KIND_THREAD,
    OutboxSender,
    do_enqueue,
)
from storage.db import transaction
from storage.models import Mention, OutboxMessage, OutboxStatus, utcnow
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn
from tests.resilience.conftest import CHANNELS, add_channel_watches, add_workspace, seed_cards

SEED = 8_6004
PER_CHANNEL = 30
MAX_FLUSHES = 400


@pytest.fixture
def slack_runtime(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[Runtime]:
    """The runtime as `vigie worker` builds it, talking to the stand-in."""
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack_standin.base_url,
                             database_url=sqlite_url)
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def queue_thread_notes(sessions: sessionmaker[Session], workspace_id: int,
                       expected: dict[str, list[int]]) -> int:
    """A thread note under each card (it waits until its card is posted)."""
    with transaction(sessions) as session:
        for channel, mention_ids in expected.items():
            for mention_id in mention_ids:
                do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD, channel=channel,
                           mention_id=mention_id, payload={"text": f"note {mention_id}"})
    return sum(len(ids) for ids in expected.values())


def test_a_third_of_slack_calls_failing_delays_but_never_loses_or_reorders(
    slack_runtime: Runtime, slack_standin: SlackStandIn, fast_retries: list[float],
) -> None:
    """Deliver 90 cards and 90 thread notes while 1/3 of calls fail; time is simulated
    (a clock jumped forward when everything left waits for a retry)."""
    sessions = slack_runtime.sessions
    workspace_id = add_workspace(sessions)
    add_channel_watches(sessions, workspace_id)
    expected = seed_cards(sessions, PER_CHANNEL)
    notes = queue_thread_notes(sessions, workspace_id, expected)
    offset = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + offset[0]

    def seconds() -> float:
        return clock().timestamp()

    def sleep(duration: float) -> None:
        offset[0] += timedelta(seconds=duration)

    # Production's pace (one message a second a channel), on the simulated clock, which the
    # stand-in's per-channel posting limit follows too: only the injected faults fail.
    slack_standin.clock = seconds
    sender = OutboxSender(sessions, slack_runtime.notifier, per_channel_interval=1.0,
                          clock=clock, monotonic=seconds, sleep=sleep)
    register_card_renderers(sender)
    slack_standin.fail_ratio(1 / 3, statuses=(429, 500), seed=SEED, retry_after=0)
    flushes = jumps = recovered = deferred = 0
    while sender.pending_count() and flushes < MAX_FLUSHES:
        report = sender.flush(wait=True)
        flushes += 1
        recovered += report.recovered
        deferred += report.deferred
        assert report.failed == 0, report.errors
        if not report.sent:
            offset[0] += timedelta(minutes=20)  # every remaining row waits for its retry
            jumps += 1
    assert sender.pending_count() == 0, f"still pending after {flushes} flushes"
    for channel, mention_ids in expected.items():
        messages = slack_standin.messages_in(channel)
        cards = [m["metadata"]["event_payload"]["mention_id"] for m in messages
                 if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MENTION]
        assert cards == mention_ids, f"{channel}: cards lost, doubled or out of order"
        card_ts = {m["metadata"]["event_payload"]["mention_id"]: m["ts"] for m in messages
                   if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MENTION}
        threaded = [(m["metadata"]["event_payload"]["mention_id"], m.get("thread_ts"))
                    for m in messages
                    if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MESSAGE]
        assert Counter(mid for mid, _ in threaded) == Counter(mention_ids), channel
        assert all(ts == card_ts[mid] for mid, ts in threaded), "note in the wrong thread"
    with sessions() as session:
        # A recheck of an uncertain retry (KIND_RECHECK) may still wait its time.
        assert {r.status for r in session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind != KIND_RECHECK))} == {OutboxStatus.SENT.value}
        assert all(m.slack_ts for m in session.scalars(select(Mention)))
    calls = slack_standin.calls()
    failed = [c for c in calls if c.status in (429, 500)]
    print(f"\n[flaky Slack 1/3] {sum(map(len, expected.values()))} cards + {notes} thread "
          f"notes over {len(CHANNELS)} channels; Slack calls {len(calls)}, failed "
          f"{len(failed)} ({len(failed) / len(calls):.0%}); slack_sdk retry sleeps skipped "
          f"{len(fast_retries)}; flushes {flushes}, outbox deferrals {deferred}, clock jumps "
          f"{jumps}, recovered through metadata {recovered}")
