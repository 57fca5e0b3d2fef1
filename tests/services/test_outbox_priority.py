"""The order of a channel's queue: what someone waits for first (a card's update after a
click, a note in a posted card's thread), then a spike alert, then new cards by their
mention's priority, then the rest (digests); a note never before its card, and a row
waiting for Slack's Retry-After holds its whole channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.outbox import (
    KIND_CARD,
    KIND_POST,
    KIND_THREAD,
    KIND_UPDATE_CARD,
    OutboxSender,
    do_enqueue,
)
from bot.services.spikes import run_spike_checks
from bot.services.workflow import do_assign
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage, Watch
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import Call, SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_spike_events import CHANNEL, H0, setup

SURGE = 40
"""Complaints in the surge: enough for a spike, and many more cards than go out before the
click (the reviewer's crisis had 300)."""


def _sent(standin: SlackStandIn, channel: str = CHANNEL_ID) -> list[tuple[str, Any]]:
    """Each message Slack took in ``channel``, in order: (method, the outbox row it came
    from, or for an update the ts it replaced)."""
    calls: list[Call] = [call for call in standin.calls(ok=True)
                         if call.method in ("chat.postMessage", "chat.update")
                         and call.args["channel"] == channel]
    return [(call.method, call.args["ts"] if call.method == "chat.update"
             else call.args["metadata"]["event_payload"]["outbox_id"]) for call in calls]


def test_a_click_and_a_spike_alert_go_before_a_backlog_of_cards(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A crisis: a surge of complaints queues a card each in #social, and the spike check
    its alert. The alert goes first; after a click on the first card, its update and the
    note in its thread go next, before the cards still queued (Slack takes about a message
    a second per channel: the 35 cards left took 35 s, 295 s in the reviewer's crisis)."""
    watch_id = setup(sessions, workspace_id)[0]
    with transaction(sessions) as session:
        watch = session.get(Watch, watch_id)
        assert watch is not None
        watch.query, watch.alert_threshold = "acme", 50
        items = [FetchedMention(
            network="x", external_id=f"c{i}", url=f"https://x.com/u{i}/status/c{i}",
            author=FetchedAuthor(handle=f"user{i}", followers=100),
            text=f"@acme my Acme kettle caught fire, I want a refund now! order {10000 + i}",
            published_at=H0 + timedelta(seconds=5 * i)) for i in range(SURGE)]
        do_ingest(session, watch, None, items, now=H0 + timedelta(minutes=30))
    run_spike_checks(sessions, H0 + timedelta(minutes=30))
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.kind)
                               .where(OutboxMessage.channel == CHANNEL)).all()
        first = session.scalar(select(Mention.id).where(Mention.external_id == "c0"))
    cards = [row_id for row_id, kind in rows if kind == KIND_CARD]
    (alert,) = [row_id for row_id, kind in rows if kind == KIND_POST]
    assert len(cards) == SURGE and alert > max(cards)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=1.0)
    for _ in range(5):
        sender.flush()
        clock.sleep(1.0)
    do_assign(sessions, workspace_id, CLI, first, "U0ANA0001")
    for _ in range(SURGE + 10):
        sender.flush()
        clock.sleep(1.0)

    sent = _sent(slack_standin, CHANNEL)
    assert sent[0] == ("chat.postMessage", alert)
    assert [row for _method, row in sent[1:5]] == cards[:4]
    with sessions() as session:
        card_ts = session.scalar(select(Mention.slack_ts).where(Mention.id == first))
        note = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.mention_id == first, OutboxMessage.kind == KIND_THREAD))
    # The click.s feedback, before the 36 cards still queued, which then go in their order.
    assert sent[5:7] == [("chat.update", card_ts), ("chat.postMessage", note)]
    assert [row for _method, row in sent[7:]] == cards[4:]


def _drain(sender: OutboxSender, clock: Clock, seconds: int = 10) -> None:
    """Flush each second for ``seconds`` (Slack's pace: a message a second per channel)."""
    for _ in range(seconds):
        sender.flush()
        clock.sleep(1.0)


def _mention(sessions: sessionmaker[Session], workspace_id: int, priority: int) -> int:
    with transaction(sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.workspace_id == workspace_id))
        if watch is None:
            watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
            session.add(watch)
            session.flush()
        count = len(session.scalars(select(Mention.id)).all())
        author = Author(workspace_id=workspace_id, network="x", handle=f"p{count}",
                        followers=100)
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, author_id=author.id,
                          network="x", external_id=f"m{count}",
                          url=f"https://x.com/p/status/m{count}", text="my kettle broke",
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC),
                          priority=priority, sentiment_label="negative")
        session.add(mention)
        session.flush()
        return mention.id


def _card(sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> int:
    with transaction(sessions) as session:
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD,
                         channel=CHANNEL_ID, mention_id=mention_id,
                         dedupe_key=f"card:{mention_id}")
        assert row is not None
        return row.id


def _note(sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> int:
    with transaction(sessions) as session:
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD,
                         channel=CHANNEL_ID, mention_id=mention_id,
                         payload={"text": f"note on {mention_id}"})
        assert row is not None
        return row.id


def test_cards_go_by_their_mention_s_priority_and_digests_last(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A direct complaint at 91 does not wait behind the cards at 55 queued before it;
    cards of the same priority keep their order; the digest queued first goes last."""
    with transaction(sessions) as session:
        digest = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                            channel=CHANNEL_ID, payload={"text": "digest"})
        assert digest is not None
    mentions = [_mention(sessions, workspace_id, p) for p in (55, 55, 91, 10, 55)]
    cards = [_card(sessions, workspace_id, m) for m in mentions]
    clock = Clock()
    _drain(sender_for(sessions, slack_standin, clock, per_channel_interval=1.0), clock)
    assert [row for _m, row in _sent(slack_standin)] == [
        cards[2], cards[0], cards[1], cards[4], cards[3], digest.id]


def test_a_note_goes_after_its_card_and_one_on_a_posted_card_first(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A note on a card still queued follows its card wherever the card goes in the queue;
    a note on a card already posted goes before the new cards."""
    posted, low, high = (_mention(sessions, workspace_id, p) for p in (30, 55, 91))
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=1.0)
    first = _card(sessions, workspace_id, posted)
    _drain(sender, clock)
    low_card = _card(sessions, workspace_id, low)
    high_card = _card(sessions, workspace_id, high)
    low_note = _note(sessions, workspace_id, low)
    posted_note = _note(sessions, workspace_id, posted)
    high_note = _note(sessions, workspace_id, high)
    _drain(sender, clock)
    assert [row for _m, row in _sent(slack_standin)] == [
        first, posted_note, high_card, high_note, low_card, low_note]
    by_row = {call.args["metadata"]["event_payload"]["outbox_id"]: call
              for call in slack_standin.calls("chat.postMessage", ok=True)}
    for card, note in ((first, posted_note), (high_card, high_note), (low_card, low_note)):
        assert by_row[note].args["thread_ts"] == by_row[card].response["ts"]


def test_a_retry_after_holds_the_channel_for_the_rows_ranked_before_it(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A card refused with a 429 holds its channel until Slack's Retry-After has passed,
    for a card update queued after it too, which then goes first."""
    posted, queued = (_mention(sessions, workspace_id, p) for p in (30, 55))
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    _card(sessions, workspace_id, posted)
    sender.flush()
    card = _card(sessions, workspace_id, queued)
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7, count=1)
    assert sender.flush().sent == 0
    with transaction(sessions) as session:
        update = do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                            channel=CHANNEL_ID, mention_id=posted)
        assert update is not None
    clock.now += timedelta(seconds=3)
    assert sender.flush().sent == 0
    assert slack_standin.calls("chat.update") == []
    clock.now += timedelta(seconds=5)
    assert sender.flush().sent == 2
    assert [method for method, _row in _sent(slack_standin)][1:] == [
        "chat.update", "chat.postMessage"]
    assert _sent(slack_standin)[-1] == ("chat.postMessage", card)
