"""A retry's look-up in a busy channel reads back, page after page, to its row's creation:
the message an earlier attempt posted is found behind hundreds of newer ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, enqueue_posts, sender_for, statuses


def chatter(standin: SlackStandIn, clock: Clock, count: int) -> None:
    """``count`` messages by people, a second apart."""
    for n in range(count):
        clock.now += timedelta(seconds=1)
        standin.seed_message(CHANNEL_ID, text=f"chatter {n}", user=USER_ID)


def test_a_retry_finds_its_message_more_than_a_page_back(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    slack_standin.ts_from_clock = True
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    chatter(slack_standin, clock, 450)  # the channel moves on while the row waits
    clock.now += timedelta(minutes=2)
    report = sender.flush()
    assert (report.sent, report.recovered) == (1, 1)
    texts = [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)]
    assert texts.count("only once") == 1
    assert len(slack_standin.calls("conversations.history")) == 3  # 200 + 200 + the rest
    assert statuses(sessions) == ["sent"]


def test_a_look_up_reads_no_further_back_than_its_row(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    slack_standin.ts_from_clock = True
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    clock.now -= timedelta(hours=2)
    chatter(slack_standin, clock, 500)  # before the row was queued
    clock.now += timedelta(hours=2)
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    slack_standin.fail_next("chat.postMessage", status=500)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    assert sender.flush().sent == 1
    # The retry's look-up before posting and its check after it: one page each.
    assert len(slack_standin.calls("conversations.history")) == 2
    texts = [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)]
    assert texts.count("only once") == 1
