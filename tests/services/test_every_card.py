"""A mention's cards, one per channel (its watches' and topic routes' channels), all hear
what happens to it (issue 14): thread notes reach every card, a card Slack refused is
posted again in its own channel, and a case's follow-up reaches the card where the topic
route sent it. Against the Slack stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.outbox import EVENT_TYPE_MENTION
from bot.services.topic_routes import do_add_route
from bot.services.workflow import do_assign
from storage.models import Mention
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_cases import FOLLOW_UP, ROOT, ingest, mention, x_batch
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_streams_exact import RECALL_CHANNEL, feed, poll, watches

ROUTE_CHANNEL = "C0DELIVERY"


def card_and_thread(standin: SlackStandIn, channel: str, mention_id: int
                    ) -> tuple[str | None, list[str]]:
    """The ts of the mention's card in ``channel`` and the texts of its thread."""
    messages = standin.messages_in(channel)
    cards = [m["ts"] for m in messages
             if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MENTION
             and m["metadata"]["event_payload"]["mention_id"] == mention_id]
    assert len(cards) <= 1, f"{channel}: {len(cards)} cards of #{mention_id}"
    if not cards:
        return None, []
    return cards[0], [m["text"] for m in messages
                      if m.get("thread_ts") == cards[0] and m["ts"] != cards[0]]


def first_post(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        row = session.query(Mention).filter(Mention.external_id == "1").one()
        return row.id


def test_a_note_reaches_the_thread_of_every_card_of_the_mention(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    watches(sessions, workspace_id, RECALL_CHANNEL)
    for name in ("acme", "recall"):  # post 1 is in both: a card in each channel
        poll(sessions, workspace_id, name, feed())
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    mention_id = first_post(sessions)
    do_assign(sessions, workspace_id, CLI, mention_id, OTHER_USER_ID)
    sender.flush()
    for channel in (CHANNEL_ID, RECALL_CHANNEL):
        ts, notes = card_and_thread(slack_standin, channel, mention_id)
        assert ts is not None, channel
        assert [f"<@{OTHER_USER_ID}>" in note for note in notes] == [True], channel


def test_a_refused_card_is_posted_again_in_its_own_channel(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    watches(sessions, workspace_id, RECALL_CHANNEL)
    sender = sender_for(sessions, slack_standin, Clock())
    poll(sessions, workspace_id, "acme", feed())  # acme is post 1's first watch
    sender.flush()
    poll(sessions, workspace_id, "recall", feed()[:1])
    slack_standin.error_next("chat.postMessage", "invalid_blocks")  # recall's card of post 1
    sender.flush()
    mention_id = first_post(sessions)
    assert card_and_thread(slack_standin, RECALL_CHANNEL, mention_id)[0] is None
    do_assign(sessions, workspace_id, CLI, mention_id, OTHER_USER_ID)
    sender.flush()
    sender.flush()
    first_ts, first_notes = card_and_thread(slack_standin, CHANNEL_ID, mention_id)
    ts, notes = card_and_thread(slack_standin, RECALL_CHANNEL, mention_id)
    assert first_ts is not None and ts is not None  # back in the channel that refused it
    assert len(first_notes) == 1 and f"<@{OTHER_USER_ID}>" in first_notes[0]
    assert "invalid_blocks" in notes[0] and f"<@{OTHER_USER_ID}>" in notes[1]
    assert len(notes) == 2


def test_a_follow_up_reaches_the_case_card_in_its_topic_route_channel(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        watch_name: str) -> None:
    do_add_route(sessions, workspace_id, CLI, watch_name=watch_name, topic="delivery",
                 channel_id=ROUTE_CHANNEL)
    ingest(sessions, workspace_id, x_batch(ROOT))  # "never arrived": a delivery case
    # The follow-up comes before the root's card is even posted.
    follow_up = {**FOLLOW_UP, "referenced_tweets": [{"type": "replied_to", "id": "1001"}]}
    assert ingest(sessions, workspace_id, x_batch(follow_up)).follow_ups == 1
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    sender.flush()
    root = mention(sessions, "1001").id
    ts, notes = card_and_thread(slack_standin, ROUTE_CHANNEL, root)
    assert ts is not None and len(notes) == 1 and "still nothing" in notes[0]
    assert slack_standin.messages_in(CHANNEL_ID) == []  # nothing in the watch's channel
