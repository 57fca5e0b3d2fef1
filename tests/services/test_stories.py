"""Stories (one link carried by several posts), on SQLite and PostgreSQL: an article shared
by several sources is one card, but a customer waiting for the brand's answer is never
folded into one, whatever link they share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import IngestReport, do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.reporting.digest import preview_digests
from bot.services.sla import due_at
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import SLACK_PACE, Clock, sender_for

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
SOCIAL = "C0SOCIAL01"
RECALL = "https://news.example/2026/11/21/acme-kettle-recall"
COMPLAINT = "@acme my kettle caught fire this morning, I want a refund now! #{n}"


def x_post(n: int, text: str, links: tuple[str, ...] = (RECALL,),
           followers: int = 300) -> FetchedMention:
    """A post on X by its own author (user{n}), carrying ``links``."""
    return FetchedMention(network="x", external_id=str(n), url=f"https://x.com/u{n}/status/{n}",
                          text=text, author=FetchedAuthor(handle=f"user{n}", followers=followers),
                          published_at=NOW - timedelta(minutes=30 - n % 30), links=links)


def poll(sessions: sessionmaker[Session], workspace_id: int, watch: str,
         items: list[FetchedMention], now: datetime = NOW) -> IngestReport:
    """One batch of ``items`` ingested for ``watch``."""
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, watch), None,
                         items, now=now)


def stories(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    """Each mention's story: external id -> the external id of its story's first post."""
    with sessions() as session:
        rows = session.execute(select(Mention.id, Mention.external_id, Mention.story_id)).all()
    ids = {mention_id: external_id for mention_id, external_id, _ in rows}
    return {external_id: ids.get(story) if story else None for _, external_id, story in rows}


def test_customers_waiting_for_an_answer_each_get_their_card_whatever_link_they_share(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL)
    report = poll(sessions, workspace_id, "acme",
                  [x_post(n, COMPLAINT.format(n=n)) for n in range(1, 31)])
    assert (report.stored, report.joined_stories, report.alerts) == (30, 0, 30)
    assert set(stories(sessions).values()) == {None}
    sender_for(sessions, slack_standin, Clock(),
               per_channel_interval=SLACK_PACE).flush(wait=True)
    assert len(slack_standin.calls("chat.postMessage", ok=True)) == 30
    with sessions() as session:
        mentions = session.scalars(select(Mention)).all()
        assert all(m.alerted and due_at(session, m) is not None for m in mentions)
    # Each is open work, and overdue once its SLA passed: none hides behind another.
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=9))
    assert digest.open_by_status == {"new": 30} and digest.overdue_count == 30


def test_a_story_groups_the_shares_of_a_link_around_the_customers_waiting_for_an_answer(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL,
                 alert_threshold=0)
    # A stored complaint is not the story's first post for the shares that follow it.
    poll(sessions, workspace_id, "acme", [x_post(1, COMPLAINT.format(n=1))])
    poll(sessions, workspace_id, "acme", [
        x_post(2, "Acme recalls its kettles after fires, read this"),
        x_post(3, COMPLAINT.format(n=3)),
        x_post(4, "the Acme kettle recall is in the news today"),
        x_post(5, "@acme is my kettle part of the recall? Where do I send it back?"),
    ])
    poll(sessions, workspace_id, "acme", [x_post(6, "Acme kettle recall covered again")])
    assert stories(sessions) == {"1": None, "2": None, "3": None, "4": "2", "5": None,
                                 "6": "2"}
    with sessions() as session:
        carded = set(session.scalars(select(Mention.external_id).join(
            OutboxMessage, OutboxMessage.mention_id == Mention.id).where(
            OutboxMessage.kind == KIND_CARD)))
    assert carded == {"1", "2", "3", "5"}


def test_a_story_card_counts_and_sums_the_reach_of_all_its_posts_and_names_a_few(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL,
                 alert_threshold=0)
    report = poll(sessions, workspace_id, "acme", [
        x_post(n, f"Acme recalls its kettles after fires, read this #{n}") for n in range(1, 31)])
    assert (report.joined_stories, report.alerts) == (29, 1)
    sender_for(sessions, slack_standin, Clock()).flush()
    (card,) = slack_standin.calls("chat.postMessage", ok=True)
    blocks = str(card.args["blocks"])
    assert "story: 30 posts, 9k reach" in blocks
    assert "Same link also posted by" in blocks and "and 21 more" in blocks
    assert "|user9 (x.com)>" in blocks and "user10" not in blocks  # the first eight others


def test_a_second_watch_holding_a_storys_posts_alerts_through_the_storys_card(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    # Two watches on one channel, a third elsewhere; each holds the same three shares.
    kettles = "C0KETTLE01"
    for name, channel in (("acme", SOCIAL), ("kettle", SOCIAL), ("appliances", kettles)):
        do_add_watch(sessions, workspace_id, CLI, name=name, query="acme kettle",
                     channel_id=channel, alert_threshold=0)
    shares = [x_post(n, f"Acme kettle recall covered by the news #{n}") for n in range(1, 4)]
    assert poll(sessions, workspace_id, "acme", shares).joined_stories == 2
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    assert poll(sessions, workspace_id, "kettle", shares).alerts == 0
    assert poll(sessions, workspace_id, "appliances", shares).alerts == 1
    sender.flush()
    posted = slack_standin.calls("chat.postMessage", ok=True)
    assert [(c.args["channel"], "story: 3 posts" in str(c.args["blocks"])) for c in posted] == [
        (SOCIAL, True), (kettles, True)]
    updated = slack_standin.calls("chat.update", ok=True)
    assert updated and "acme, kettle" in str(updated[-1].args["blocks"])


def test_a_story_post_another_watch_holds_without_its_first_post_gets_its_own_card(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="kettle", query="kettle",
                 channel_id="C0KETTLE01", alert_threshold=0)
    shares = [x_post(1, "Acme recall in the news"), x_post(2, "Acme kettle recall news")]
    poll(sessions, workspace_id, "acme", shares)
    assert stories(sessions) == {"1": None, "2": "1"}
    assert poll(sessions, workspace_id, "kettle", shares).alerts == 1
    with sessions() as session:
        cards = session.execute(select(Mention.external_id, OutboxMessage.channel).join(
            OutboxMessage, OutboxMessage.mention_id == Mention.id).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert sorted(cards) == [("1", SOCIAL), ("2", "C0KETTLE01")]
