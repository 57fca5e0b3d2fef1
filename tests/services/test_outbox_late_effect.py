"""A message Slack holds past the client's timeout and posts late, after its retry looked
for it and posted it again: the retry reads the channel again after posting, keeps the first
copy and deletes the others."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.cards import register_card_renderers
from bot.services.outbox import (
    EVENT_TYPE_MESSAGE,
    OUTBOX_CREATED,
    RECHECK_DELAY,
    FlushReport,
    OutboxSender,
)
from bot.slack.notifier import SlackNotifier
from storage.db import transaction
from storage.models import OutboxMessage
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, enqueue_posts, rechecks, sender_for, statuses


def impatient_sender(sessions: sessionmaker[Session], standin: SlackStandIn,
                     clock: Clock) -> OutboxSender:
    """A sender whose client gives up after a second (production's waits 15): the first
    attempt, whose answer never comes in time."""
    standin.clock = clock.seconds
    client = WebClient(token=BOT_TOKEN, base_url=standin.base_url, timeout=1,
                       retry_handlers=[])
    sender = OutboxSender(sessions, SlackNotifier(client), clock=clock,
                          per_channel_interval=0, monotonic=clock.seconds, sleep=clock.sleep)
    register_card_renderers(sender)
    return sender


def result_ts(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.result_ts).order_by(OutboxMessage.id)))


def retry_in_background(sessions: sessionmaker[Session], standin: SlackStandIn,
                        clock: Clock) -> tuple[threading.Thread, dict[str, FlushReport]]:
    out: dict[str, FlushReport] = {}

    def run() -> None:
        out["report"] = sender_for(sessions, standin, clock).flush()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_message_slack_posts_late_after_its_retry_posted_it_is_kept_once(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    clock = Clock()
    first = slack_standin.hold("chat.postMessage")
    assert impatient_sender(sessions, slack_standin, clock).flush().sent == 0  # timed out
    first.wait_for_arrivals(1)
    retried = slack_standin.hold("chat.postMessage")  # the retry's post waits here
    clock.now += timedelta(minutes=2)
    thread, out = retry_in_background(sessions, slack_standin, clock)
    retried.wait_for_arrivals(1)  # the retry looked, found nothing, and posts
    first.release()  # Slack acts on the first attempt at last
    slack_standin.wait_until(lambda s: len(s.messages_in(CHANNEL_ID)) == 1)
    retried.release()
    thread.join(timeout=60)
    assert out["report"].sent == 1
    messages = slack_standin.messages_in(CHANNEL_ID)
    assert [m["text"] for m in messages] == ["only once"]
    assert len(slack_standin.messages_in(CHANNEL_ID, include_deleted=True)) == 2
    assert statuses(sessions) == ["sent"]
    assert rechecks(sessions) == ["pending"]  # it waits RECHECK_DELAY
    assert result_ts(sessions)[0] == messages[0]["ts"]  # the first copy, the one kept
    assert len(slack_standin.calls("chat.delete", ok=True)) == 1


def test_a_retry_that_finds_two_copies_keeps_the_first(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    (row_id,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().sent == 0
    (posted,) = slack_standin.messages_in(CHANNEL_ID)
    metadata: dict[str, Any] = {"event_type": EVENT_TYPE_MESSAGE,
                                "event_payload": {"outbox_id": row_id}}
    slack_standin.seed_message(CHANNEL_ID, text="only once", metadata=metadata)
    clock.now += timedelta(minutes=2)
    report = sender_for(sessions, slack_standin, clock).flush()
    assert (report.sent, report.recovered) == (1, 1)
    assert [m["ts"] for m in slack_standin.messages_in(CHANNEL_ID)] == [posted["ts"]]
    assert result_ts(sessions) == [posted["ts"]]


def test_a_retry_whose_second_look_up_fails_keeps_what_it_posted(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Posted is posted: a look-up that fails after it is logged, never retried."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    slack_standin.fail_next("chat.postMessage", status=500)
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().sent == 0
    looked: list[dict[str, Any]] = []

    def history(args: dict[str, Any]) -> dict[str, Any]:
        looked.append(args)
        if len(looked) == 1:
            return {"ok": True, "messages": [], "has_more": False}
        return {"ok": False, "error": "internal_error"}

    slack_standin.on("conversations.history", history)
    clock.now += timedelta(minutes=2)
    assert sender_for(sessions, slack_standin, clock).flush().sent == 1
    assert len(looked) == 2
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
    assert statuses(sessions) == ["sent"]
    assert rechecks(sessions) == ["pending"]  # it will look again


@pytest.mark.parametrize("slack_posted_it", [True, False])
def test_a_row_taking_a_deleted_rows_id_neither_takes_nor_deletes_its_message(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        slack_posted_it: bool) -> None:
    """On SQLite a row takes the id of the highest row deleted before it (no AUTOINCREMENT):
    the old row's message, still in the channel with that outbox_id, is not this row's."""
    (old_id,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["old card"])
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().sent == 1
    (old,) = slack_standin.messages_in(CHANNEL_ID)
    with transaction(sessions) as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id == old_id))
    (new_id,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["fresh card"])
    if sessions.kw["bind"].dialect.name == "sqlite":
        assert new_id == old_id  # the id is reused
    else:  # PostgreSQL's sequence never gives it again: the row takes it here
        with transaction(sessions) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == new_id)
                            .values(id=old_id))
    # Its first attempt's outcome is unknown (a 5xx), Slack having posted it or not.
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=slack_posted_it)
    assert sender_for(sessions, slack_standin, clock).flush().sent == 0
    clock.now += timedelta(minutes=2)
    report = sender_for(sessions, slack_standin, clock).flush()
    assert (report.sent, report.recovered) == (1, int(slack_posted_it))
    messages = slack_standin.messages_in(CHANNEL_ID)
    assert [m["text"] for m in messages] == ["old card", "fresh card"]
    assert messages[0] == old
    assert slack_standin.calls("chat.delete") == []
    assert result_ts(sessions)[0] == messages[1]["ts"]
    clock.now += RECHECK_DELAY  # a recheck of the retry that posted deletes nothing either
    sender_for(sessions, slack_standin, clock).flush()
    assert slack_standin.messages_in(CHANNEL_ID) == messages
    assert slack_standin.calls("chat.delete") == []


def test_a_copy_slack_posts_after_the_retrys_second_look_is_deleted_later(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Slack acts on the first attempt only after the retry posted and read the channel
    again: the recheck, RECHECK_DELAY later, deletes that late copy and keeps the retry's."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    clock = Clock()
    first = slack_standin.hold("chat.postMessage")
    assert impatient_sender(sessions, slack_standin, clock).flush().sent == 0  # timed out
    first.wait_for_arrivals(1)
    retried = slack_standin.hold("chat.postMessage")
    clock.now += timedelta(minutes=2)
    thread, out = retry_in_background(sessions, slack_standin, clock)
    retried.wait_for_arrivals(1)
    retried.release()
    thread.join(timeout=60)
    assert out["report"].sent == 1
    (kept,) = slack_standin.messages_in(CHANNEL_ID)
    first.release()  # Slack acts on the first attempt at last, after both look-ups
    slack_standin.wait_until(lambda s: len(s.messages_in(CHANNEL_ID)) == 2)
    sender = sender_for(sessions, slack_standin, clock)
    sender.flush()
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 2  # the recheck is not due yet
    clock.now += RECHECK_DELAY
    sender.flush()
    assert slack_standin.messages_in(CHANNEL_ID) == [kept]
    assert result_ts(sessions)[0] == kept["ts"]
    assert (statuses(sessions), rechecks(sessions)) == (["sent"], ["sent"])
    assert len(slack_standin.calls("chat.delete", ok=True)) == 1


def test_a_recheck_deletes_only_copies_of_its_own_row(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Messages naming the same outbox id but another creation time (a deleted row's, its
    id taken again) or none (an older release's) are not the row's copies: left alone."""
    (row_id,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    slack_standin.fail_next("chat.postMessage", status=500)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    assert sender.flush().sent == 1  # uncertain: its recheck is queued
    (kept,) = slack_standin.messages_in(CHANNEL_ID)
    created = kept["metadata"]["event_payload"][OUTBOX_CREATED]
    others = [{"outbox_id": row_id, OUTBOX_CREATED: "2020-01-01T00:00:00.000000+00:00"},
              {"outbox_id": row_id}]
    for payload in others:
        slack_standin.seed_message(CHANNEL_ID, text="another row's",
                                   metadata={"event_type": EVENT_TYPE_MESSAGE,
                                             "event_payload": payload})
    late = slack_standin.seed_message(
        CHANNEL_ID, text="only once", metadata={"event_type": EVENT_TYPE_MESSAGE,
                                                "event_payload": {"outbox_id": row_id,
                                                                  OUTBOX_CREATED: created}})
    clock.now += RECHECK_DELAY
    sender.flush()
    texts = [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)]
    assert texts == ["only once", "another row's", "another row's"]
    assert slack_standin.message(CHANNEL_ID, late["ts"]) is None
    assert (statuses(sessions), rechecks(sessions)) == (["sent"], ["sent"])


def test_a_recheck_waiting_holds_its_channel_back_in_nothing(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["first"])
    slack_standin.fail_next("chat.postMessage", status=500)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    assert sender.flush().sent == 1
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["second"])
    assert sender.flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["first", "second"]
    assert (statuses(sessions), rechecks(sessions)) == (["sent", "sent"], ["pending"])
