"""The Slack notifier's recovery look-up on real Slack's terms: DMs, channels the bot is
not in, and metadata without nulls (issue 15, items 4, 5 and 7)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_CARD, KIND_POST, do_enqueue
from storage.db import transaction
from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, add_mention, enqueue_posts, sender_for, statuses

OUTSIDE = "C07NOTINVTD"


def test_dm_reminder_whose_answer_was_lost_is_found_in_the_dm(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    # An SLA reminder DM'd to a user: the outbox row's channel is the user id.
    enqueue_posts(sessions, workspace_id, USER_ID, ["SLA reminder"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    report = sender.flush()
    # Read through the DM's D... id (a user id answers channel_not_found), not re-posted.
    assert report.recovered == 1 and report.sent == 1
    assert [m["text"] for m in slack_standin.messages_in(USER_ID)] == ["SLA reminder"]
    history = slack_standin.calls("conversations.history")
    assert history and all(c.args["channel"].startswith("D") for c in history)
    assert all(c.ok for c in history)
    assert statuses(sessions) == ["sent"]


def test_a_dm_is_posted_in_the_conversation_conversations_open_gives(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    # The "conversations.open + chat.postMessage": the DM's D... id, opened once
    # per user and process, is where the message goes (and where an update must point).
    enqueue_posts(sessions, workspace_id, USER_ID, ["first", "second"])
    sender = sender_for(sessions, slack_standin, Clock())
    assert sender.flush(wait=True).sent == 2
    (opened,) = slack_standin.calls("conversations.open")
    dm = opened.response["channel"]["id"]
    posts = slack_standin.calls("chat.postMessage")
    assert dm.startswith("D") and [c.args["channel"] for c in posts] == [dm, dm]
    assert [m["text"] for m in slack_standin.messages_in(USER_ID)] == ["first", "second"]


def test_dm_lookup_retries_when_the_dm_cannot_be_opened(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    enqueue_posts(sessions, workspace_id, USER_ID, ["SLA reminder"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    sender.flush()
    clock.now += timedelta(minutes=2)
    # A restarted process: the DM id it opened before posting is no longer cached.
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.error_next("conversations.open", "internal_error")
    assert sender.flush().sent == 0  # unknown is not absent: no second post
    clock.now += timedelta(minutes=2)
    assert sender.flush().recovered == 1
    assert len(slack_standin.messages_in(USER_ID)) == 1


@pytest.mark.parametrize("status", [429, 500])
def test_card_in_a_public_channel_the_bot_is_not_in_goes_out_after_a_refusal(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    status: int,
) -> None:
    slack_standin.set_channel(OUTSIDE, name="brand-watch", is_member=False)
    mention_id = add_mention(sessions, workspace_id)
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=OUTSIDE,
                   mention_id=mention_id)
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=OUTSIDE,
                   payload={"text": "next alert"})
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.fail_next("chat.postMessage", status=status, retry_after=3)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    assert sender.flush().sent == 2
    if status == 429:  # nothing was posted: no look-up
        assert slack_standin.calls("conversations.history") == []
    else:  # the look-up answers not_in_channel: "cannot check" -> post, at once
        assert slack_standin.calls("conversations.history")[-1].error == "not_in_channel"
    texts = [m["text"] for m in slack_standin.messages_in(OUTSIDE)]
    assert len(texts) == 2 and texts[1] == "next alert"
    assert statuses(sessions) == ["sent", "sent"]


def test_metadata_of_a_row_without_mention_carries_no_null(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["digest ready"])
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    metadata = slack_standin.last("chat.postMessage").args["metadata"]
    assert None not in metadata["event_payload"].values()
    assert "outbox_id" in metadata["event_payload"]


def test_media_only_mention_gets_its_card(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """A post with no text (media only) is rendered from the database into a card Slack
    accepts (a section's text needs one character), not failed for good (item 2)."""
    mention_id = add_mention(sessions, workspace_id, text="")
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention_id)
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    assert statuses(sessions) == ["sent"]
    (card,) = slack_standin.messages_in(CHANNEL_ID)
    assert "no text" in json.dumps(card["blocks"])


def test_a_dm_to_a_user_slack_cannot_reach_fails_at_once(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    # conversations.open refuses a deactivated user for good: retrying for hours would hold
    # back every later DM to them, so the row fails now and says why.
    enqueue_posts(sessions, workspace_id, USER_ID, ["SLA reminder"])
    sender = sender_for(sessions, slack_standin, Clock())
    slack_standin.error_next("conversations.open", "user_disabled")
    report = sender.flush()
    assert report.sent == 0 and statuses(sessions) == ["failed"]
    assert not slack_standin.calls("chat.postMessage")
