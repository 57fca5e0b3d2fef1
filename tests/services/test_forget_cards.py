"""What a forget (or a retention purge) leaves in Slack and in open work, on SQLite and
PostgreSQL: a forgotten author's conquest-opportunity card is redacted like their alert
cards; a story card that named them is re-rendered without them; and the other posts of a
story whose first post goes keep a card (the next post becomes the story's first post),
so open work and the SLA count them again."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.export import do_export_to_slack
from bot.services.outbox import KIND_UPLOAD, OutboxSender
from bot.services.privacy import do_forget, purge_older_than
from bot.services.reporting.digest import preview_digests
from bot.services.sla import due_at
from bot.services.watches import do_add_watch
from storage.db import transaction
from storage.models import Mention, OutboxMessage, Watch
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_competitors import _item, _poll, _setup
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_same_words import NOW as LATER
from tests.services.test_same_words import _poll as poll_acme
from tests.services.test_same_words import _post
from tests.services.test_stories import NOW, SOCIAL, poll, x_post

REDACTED = "deleted at the author's request"


def _channel_texts(standin: SlackStandIn, channel: str) -> list[str]:
    """Every top-level message of ``channel`` in its current state, as JSON."""
    return [json.dumps(m, ensure_ascii=False) for m in standin.messages_in(channel)
            if not m.get("thread_ts")]


def _shares(sessions: sessionmaker[Session], workspace_id: int, standin: SlackStandIn,
            threshold: int) -> OutboxSender:
    """Three shares of one link on X (user1 first), in the watch acme alerting at
    ``threshold``; returns the sender that posted their card."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL,
                 alert_threshold=threshold)
    report = poll(sessions, workspace_id, "acme", [
        x_post(n, f"Acme recalls its kettles after fires, read this #{n}", followers=100 * n)
        for n in range(1, 4)])
    assert report.joined_stories == 2
    return sender_for(sessions, standin, Clock())


def _ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {e: i for e, i in session.execute(select(Mention.external_id, Mention.id))}


def test_forget_redacts_the_authors_opportunity_card(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    _setup(sessions, workspace_id, conquest=True)
    assert _poll(sessions, workspace_id, "rivalo", [_item("1", "Anyone know an alternative to "
                                                               "Rivalo? Their app logs me out."),
                                                   _item("3", "Rivalo support is the worst, "
                                                              "still no refund")]
                 ).opportunities == 2
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    before = _channel_texts(slack_standin, CHANNEL_ID)
    assert sum("user1" in m for m in before) == 1 and sum("user3" in m for m in before) == 1
    assert do_forget(sessions, workspace_id, CLI, "user1").mentions == 1
    sender.flush()
    after = _channel_texts(slack_standin, CHANNEL_ID)
    assert len(after) == 2  # replaced in place, nothing posted
    assert not any("user1" in m or "alternative to" in m for m in after)
    assert sum(REDACTED in m for m in after) == 1
    assert sum("user3" in m and "still no refund" in m for m in after) == 1


def test_forget_rerenders_a_story_card_that_named_the_author(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    sender = _shares(sessions, workspace_id, slack_standin, 0)
    sender.flush()
    (card,) = _channel_texts(slack_standin, SOCIAL)
    assert "story: 3 posts, 600 reach" in card and "|user2 (x.com)>" in card
    assert do_forget(sessions, workspace_id, CLI, "user2").mentions == 1
    sender.flush()
    (card,) = _channel_texts(slack_standin, SOCIAL)
    assert "user2" not in card and "#2" not in card
    assert "story: 2 posts, 400 reach" in card and "|user3 (x.com)>" in card


def _first_post_goes(sessions: sessionmaker[Session], workspace_id: int,
                     slack_standin: SlackStandIn, purge: bool) -> None:
    sender = _shares(sessions, workspace_id, slack_standin, 0)
    sender.flush()
    ids = _ids(sessions)
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=1))
    assert digest.open_by_status == {"new": 1}
    delete_first_post(sessions, workspace_id, ids, purge)
    sender.flush()
    sender.flush()  # nothing more goes out
    cards = [m for m in _channel_texts(slack_standin, SOCIAL) if REDACTED not in m]
    # The story's next post has the card now, and names the one left.
    assert len(cards) == (2 if purge else 1)  # a purge leaves the old card as it was
    card = cards[-1]
    assert "user2" in card and "story: 2 posts, 500 reach" in card and "|user3 (x.com)>" in card
    assert "#1" not in card
    with sessions() as session:
        second, third = session.get(Mention, ids["2"]), session.get(Mention, ids["3"])
        assert second is not None and third is not None
        assert (second.story_id, third.story_id) == (None, ids["2"])
        assert second.alerted and second.slack_ts is not None
        assert due_at(session, second) is not None
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=1))
    assert digest.open_by_status == {"new": 1}


def test_forgetting_a_storys_first_post_gives_its_card_to_the_next_post(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    _first_post_goes(sessions, workspace_id, slack_standin, purge=False)


def test_purging_a_storys_first_post_gives_its_card_to_the_next_post(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    _first_post_goes(sessions, workspace_id, slack_standin, purge=True)


def test_the_rest_of_a_story_that_would_not_alert_on_its_own_gets_no_card(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    # The watch alerts only above 100 now: what is left of the story goes through the alert
    # decision again, and waits for the digest, as it would have without the first post.
    sender = _shares(sessions, workspace_id, slack_standin, 0)
    sender.flush()
    with transaction(sessions) as session:
        session.execute(update(Watch).values(alert_threshold=101))
    assert do_forget(sessions, workspace_id, CLI, "user1").mentions == 1
    sender.flush()
    assert [REDACTED in m for m in _channel_texts(slack_standin, SOCIAL)] == [True]
    ids = _ids(sessions)
    with sessions() as session:
        assert session.get(Mention, ids["3"]).story_id == ids["2"]  # type: ignore[union-attr]
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=1))
    assert digest.open_by_status == {}


def test_a_forget_takes_their_lines_out_of_an_export_not_uploaded_yet(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """An export queued before the forget (its upload waiting in the outbox) would have
    uploaded their posts after it: its CSV loses their lines, and keeps the others'."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    poll_acme(sessions, workspace_id, [
        _post("x", "1", "ana", "@acme my address is 12 rue Secrète, where is my parcel?"),
        _post("x", "2", "bob", "@acme the new app update is really nice, well done team")])
    do_export_to_slack(sessions, workspace_id, CLI, channel_id="D07REQUESTER", period="7d",
                       watch=None, now=LATER, language="en")

    def exported() -> str:
        with sessions() as session:
            row = session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == KIND_UPLOAD)).one()
            return base64.b64decode(row.payload["content_b64"]).decode("utf-8-sig")

    assert "Secrète" in exported() and "well done" in exported()
    do_forget(sessions, workspace_id, CLI, "ana")
    content = exported()
    assert "Secrète" not in content and "ana" not in content
    records = list(csv.reader(io.StringIO(content)))
    assert records[0][0] == "id" and len(records) == 2 and "well done" in str(records[1])


def delete_first_post(sessions: sessionmaker[Session], workspace_id: int, ids: dict[str, int],
                      purge: bool) -> None:
    """Delete user1's first post ``ids["1"]``: by the retention purge (made 200 days old)
    when ``purge``, else by forgetting user1."""
    if purge:
        with transaction(sessions) as session:
            first = session.get(Mention, ids["1"])
            assert first is not None
            first.created_at = NOW - timedelta(days=200)
        assert purge_older_than(sessions, 90, NOW).mentions == 1
    else:
        assert do_forget(sessions, workspace_id, CLI, "user1").mentions == 1
