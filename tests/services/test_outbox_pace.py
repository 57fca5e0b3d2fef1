"""The per-channel pace holds across senders: two processes (``vigie web`` and ``vigie
worker``, or two workers of ``vigie web``) together send a channel no more than one
message per interval, on SQLite and PostgreSQL.

The bounds come from the pace alone: a sender takes a channel's slot only once the
previous message's answer is recorded plus the interval, so two posts that reach Slack
closer than the interval mean two senders ignored each other. The tolerance covers clock
resolution, not scheduling luck.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.services.outbox import KIND_POST, PACE_KEPT, OutboxSender, do_enqueue, prune_pace
from bot.slack.client import build_web_client
from bot.slack.notifier import SlackNotifier
from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, OutboxStatus
from storage.models_base import as_utc
from storage.models_outbox import OutboxPace
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import POST_BURST, SlackStandIn
from tests.resilience.support import child_env, start_child, stop
from tests.services.test_outbox import (
    OTHER_CHANNEL,
    SLACK_PACE,
    Clock,
    enqueue_posts,
    sender_for,
)
from tests.services.test_outbox_health import add_mentions, cards_in, queue_card

PACE = 0.5
"""Seconds between two messages to one channel (1.0 in production; shorter here, and the
stand-in's per-channel limit of chat.postMessage is sped up to match: ``slack_at_pace``)."""
MESSAGES = 6
TOLERANCE = 0.8
"""Fraction of the pace two consecutive posts must at least be apart."""
CHILD = "tests/services/pace_child.py"


def post_times(standin: SlackStandIn, channel: str) -> list[float]:
    """When each post to ``channel`` reached the stand-in, in order."""
    return sorted(call.at for call in standin.calls("chat.postMessage", ok=True)
                  if call.args.get("channel") == channel)


def slack_at_pace(standin: SlackStandIn) -> None:
    """Slack's per-channel limit (one message a second, short bursts), at the test's pace."""
    standin.set_post_limit(per_second=1 / PACE, burst=POST_BURST)


def assert_paced(times: list[float]) -> None:
    """Every message was delivered, never two closer than the pace (with tolerance), so
    that in any window of N paces at most N + 1 went out."""
    assert len(times) == MESSAGES, times
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert min(gaps) >= PACE * TOLERANCE, [round(gap, 3) for gap in gaps]
    window = 2 * PACE
    for start in times:
        assert sum(start <= t < start + window for t in times) <= 3, times


def test_two_senders_share_the_pace_of_a_channel(
    db_url: str, sessions: sessionmaker[Session], workspace_id: int,
    slack_standin: SlackStandIn,
) -> None:
    """Two senders, each with its own engine as in its own process, flushing often."""
    slack_at_pace(slack_standin)
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, [f"card {i}" for i in range(MESSAGES)])
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack_standin.base_url)
    engines = [make_engine(db_url) for _ in range(2)]
    senders = [OutboxSender(make_session_factory(engine),
                            SlackNotifier(build_web_client(settings, for_outbox=True)),
                            per_channel_interval=PACE) for engine in engines]
    deadline = time.monotonic() + MESSAGES * PACE + 20
    errors: list[BaseException] = []

    def run(sender: OutboxSender) -> None:
        try:
            while sender.pending_count() and time.monotonic() < deadline:
                sender.flush()
                time.sleep(0.02)
        except BaseException as err:  # noqa: BLE001  (reported by the test thread)
            errors.append(err)

    threads = [threading.Thread(target=run, args=(sender,)) for sender in senders]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for engine in engines:
            engine.dispose()
    assert not errors, errors
    assert_paced(post_times(slack_standin, CHANNEL_ID))
    assert slack_standin.calls("chat.postMessage", ok=False) == []  # never over Slack's limit


def test_two_processes_share_the_pace_of_a_channel(
    db_url: str, sessions: sessionmaker[Session], workspace_id: int,
    slack_standin: SlackStandIn, tmp_path: Path,
) -> None:
    """Two sender processes started together, as ``vigie web`` and ``vigie worker``."""
    slack_at_pace(slack_standin)
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, [f"card {i}" for i in range(MESSAGES)])
    env = child_env(db_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack_standin.base_url)
    go, log = tmp_path / "go", tmp_path / "senders.log"
    children = [start_child([CHILD, str(PACE), str(go)], env, log) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("ready") < 2:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            assert all(child.poll() is None for child in children), log.read_text()[-2000:]
            time.sleep(0.05)
        go.touch()
        codes = [child.wait(timeout=MESSAGES * PACE + 60) for child in children]
    finally:
        for child in children:
            stop(child)
    assert codes == [0, 0], log.read_text()[-2000:]
    assert_paced(post_times(slack_standin, CHANNEL_ID))
    assert slack_standin.calls("chat.postMessage", ok=False) == []  # never over Slack's limit


def test_a_sender_that_loses_the_row_leaves_the_slot(
    db_url: str, sessions: sessionmaker[Session], workspace_id: int,
    slack_standin: SlackStandIn,
) -> None:
    """Two senders, each with its own engine, race for a channel's card: the loser must not
    take the channel's slot, or the card, refused once by Slack (429), would wait an
    interval more with nothing sent.

    Sender B reads the card as due, then is held posting a row of another channel; sender A
    claims the card meanwhile and posts it. The interval passes (the slot is free again
    while A's lease still holds the card); B, released, comes to the card: it lost it.
    Slack answers A with a 429 (the channel's allowance was used up just before): once its
    Retry-After has passed the card goes at once, as nobody else sent in its channel.
    """
    interval = 10.0
    with transaction(sessions) as session:
        for channel, text in ((OTHER_CHANNEL, "elsewhere"), (CHANNEL_ID, "card")):
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=channel,
                       payload={"text": text})
    clock = Clock()
    engines = [make_engine(db_url) for _ in range(2)]
    sender_a, sender_b = (
        sender_for(make_session_factory(engine), slack_standin, clock,
                   per_channel_interval=interval) for engine in engines)
    # Slack's allowance in the card's channel: just used up, back in a little under 12 s.
    slack_standin.set_post_limit(per_second=1 / 12, burst=1)
    WebClient(token=BOT_TOKEN, base_url=slack_standin.base_url).chat_postMessage(
        channel=CHANNEL_ID, text="a slash command's answer, a moment before")
    held = slack_standin.hold("chat.postMessage")
    errors: list[BaseException] = []

    def run(sender: OutboxSender) -> None:
        try:
            sender.flush()
        except BaseException as err:  # noqa: BLE001  (reported by the test thread)
            errors.append(err)

    threads = [threading.Thread(target=run, args=(sender,)) for sender in (sender_b, sender_a)]
    try:
        threads[0].start()
        held.wait_for_arrivals(1)  # B posts "elsewhere", the card read as due
        threads[1].start()
        held.wait_for_arrivals(2)  # A claimed the card and posts it
        clock.sleep(interval + 1)
        held.release()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert not any(thread.is_alive() for thread in threads)
        refused = slack_standin.calls("chat.postMessage", ok=False)
        assert [(call.args["text"], call.status) for call in refused] == [("card", 429)]
        with sessions() as session:
            card = session.scalars(select(OutboxMessage).where(
                OutboxMessage.channel == CHANNEL_ID)).one()
        assert card.status == OutboxStatus.PENDING.value
        clock.now = card.next_attempt_at
        assert sender_a.flush().sent == 1
    finally:
        held.release()
        for engine in engines:
            engine.dispose()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)][-1] == "card"
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == ["elsewhere"]


def test_the_pace_of_a_quiet_channel_is_forgotten(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """A pace row is kept while its slot can matter (``PACE_KEPT`` past it), then pruned;
    the channel's next message writes it again."""
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack_standin.base_url)

    def sender(clock: Clock) -> OutboxSender:
        return OutboxSender(sessions, SlackNotifier(build_web_client(settings, for_outbox=True)),
                            per_channel_interval=1.0, clock=clock)

    def paces() -> dict[str, datetime]:
        with sessions() as session:
            return {row.channel: as_utc(row.next_at)
                    for row in session.scalars(select(OutboxPace))}

    clock = Clock()
    start = clock.now
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["early"])
    assert sender(clock).flush().sent == 1
    clock.now = start + timedelta(minutes=8)
    enqueue_posts(sessions, workspace_id, "C0LATER01", ["later"])
    assert sender(clock).flush().sent == 1
    assert set(paces()) == {CHANNEL_ID, "C0LATER01"}
    assert prune_pace(sessions, start + PACE_KEPT) == 0
    assert prune_pace(sessions, start + PACE_KEPT + timedelta(minutes=1)) == 1
    assert set(paces()) == {"C0LATER01"}
    clock.now = start + timedelta(minutes=20)
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["again"])
    assert sender(clock).flush().sent == 1
    assert paces()[CHANNEL_ID] > clock.now


CARDS = 8
SLOW_SLACK = 1 / 8
"""Messages a second the stand-in takes in a channel in the burst test: less than the
sender's pace, so that Slack refuses some; its Retry-After (up to 8 s) is longer than the
outbox's first backoff (5 s), so a sender that ignored it would retry too early."""


def test_a_burst_of_cards_to_one_channel_is_posted_once_in_order_honouring_429s(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """Cards queued at once for one channel, through the production sender (one message a
    second a channel) driven by the worker's one-second tick, against a Slack that takes
    less than that: each card is posted once, in order, and after each 429 the channel's
    next post waits at least its Retry-After. Time is the test's clock, shared by the
    sender and the stand-in."""
    slack_standin.set_post_limit(per_second=SLOW_SLACK, burst=2)
    mention_ids = add_mentions(sessions, workspace_id, CARDS)
    for mention_id in mention_ids:
        queue_card(sessions, workspace_id, mention_id)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=SLACK_PACE)
    for _ in range(int(CARDS / SLOW_SLACK) * 3):
        if not sender.pending_count():
            break
        sender.flush()
        clock.sleep(1.0)
    assert sender.pending_count() == 0
    assert cards_in(slack_standin, CHANNEL_ID) == mention_ids
    posts = [call for call in slack_standin.calls("chat.postMessage")
             if call.args.get("channel") == CHANNEL_ID]
    refused = [i for i, call in enumerate(posts) if call.status == 429]
    assert refused, "the stand-in's limit was never met: the test proves nothing"
    assert all(posts[i].error == "ratelimited" for i in refused)
    for i in refused:
        waited = posts[i + 1].clock - posts[i].clock
        assert waited >= int(posts[i].reply_headers["Retry-After"]), (i, waited)
    outbox_ids = [call.args["metadata"]["event_payload"]["outbox_id"]
                  for call in posts if call.ok]
    assert outbox_ids == sorted(set(outbox_ids)) and len(outbox_ids) == CARDS
    # A 429 says the message was not posted: nothing is looked up before posting again.
    assert slack_standin.calls("conversations.history") == []
