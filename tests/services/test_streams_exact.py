"""Issue 14's remaining gaps, on SQLite and PostgreSQL: figures over a scope of several
watches count a post once, a mention's thread notes reach every one of its cards, the SLA
rule over several watches, retention keeping each watch's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import IngestReport, do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.privacy import purge_older_than
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.queries import Scope, hour_histogram, response_times
from bot.services.reporting.schedule import DigestChannel
from bot.services.sla import do_set_targets, due_at, run_sla_checks, target_minutes
from bot.services.watch_links import do_record_card
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from storage.models_reporting import MentionHourCount
from storage.models_sla import SlaNotice
from storage.reporting_counts import priority_floor, utc_hour_totals
from tests.harness.constants import CHANNEL_ID

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
RECALL_CHANNEL = "C07RECALLS"
FEED = [
    ("1", "Acme bikes recall: brakes fail on the 2026 models, my son got hurt. Refund now!"),
    ("2", "Acme bikes look great this spring"),
    ("3", "Toy maker announces a recall of its scooters"),
]


def item(external_id: str, text: str, published: datetime) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://news.example/{external_id}", text=text,
                          author=FetchedAuthor(handle=f"writer{external_id}", followers=90_000),
                          published_at=published)


def feed(published: datetime = NOW - timedelta(hours=1)) -> list[FetchedMention]:
    return [item(e, text, published - timedelta(minutes=int(e))) for e, text in FEED]


def watches(sessions: sessionmaker[Session], workspace_id: int, recall_channel: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=recall_channel, alert_threshold=0)


def poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
         items: list[FetchedMention], now: datetime = NOW) -> IngestReport:
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items,
                         now=now)


def both(session: Session, workspace_id: int) -> Scope:
    return Scope(workspace_id, tuple(sorted(
        get_watch_by_name(session, workspace_id, name).id for name in ("acme", "recall"))))


def test_a_channel_with_two_watches_counts_a_post_in_both_once(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    watches(sessions, workspace_id, CHANNEL_ID)  # one channel, two watches
    # Post 1 is in both watches; 2 only in acme; 3 only in recall. Whole hours and
    # fringes: published 08:26..08:29, one more two hours earlier at 06:10.
    for name in ("acme", "recall"):
        poll(sessions, workspace_id, name, feed())
        poll(sessions, workspace_id, name,
             [item("4", "Acme recall again", datetime(2026, 11, 21, 6, 10, tzinfo=UTC))])
    with transaction(sessions) as session:  # taken up: each needs an answer, once
        session.execute(update(Mention).values(status="assigned"))
    with sessions() as session:
        scope = both(session, workspace_id)
        config = DigestChannel(workspace_id, CHANNEL_ID, NOW.time(), ZoneInfo("UTC"), False,
                               True, scope, "en", None)
        report = build_digest_report(session, config, end=NOW + timedelta(minutes=7),
                                     now=NOW)
        assert report.total.current == 4
        assert sum(change.current for _label, change in report.by_sentiment) == 4
        assert sum(change.current for _name, change in report.by_network) == 4
        assert report.responses.actionable == 4
        assert sum(day.counts[k] for day in report.chart for k in day.counts) == 4
        start, end = datetime(2026, 11, 21, 0, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)
        assert response_times(session, scope, start, end).actionable == 4
        totals = utc_hour_totals(session, workspace_id, scope.watch_ids, start, end)
        assert totals is not None and sum(totals.values()) == 4
        assert sum(hour_histogram(session, scope, [(start, 0)], end)) == 4
        # Four mentions in the window: a floor for the top four must keep all four.
        floor = priority_floor(session, workspace_id, scope.watch_ids, start, end, 4)
        lowest = min(session.scalars(select(Mention.priority)))
        assert floor is None or floor <= lowest


def test_retention_keeps_every_watch_history_exact(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    watches(sessions, workspace_id, RECALL_CHANNEL)
    for name in ("acme", "recall"):
        poll(sessions, workspace_id, name, feed())
    assert purge_older_than(sessions, 30, NOW + timedelta(days=31)).mentions == 3
    with sessions() as session:
        ids = {name: get_watch_by_name(session, workspace_id, name).id
               for name in ("acme", "recall")}
        assert session.scalar(select(Mention.id)) is None
        counts = session.scalars(select(MentionHourCount)).all()
        per_watch = {name: sum(c.mentions for c in counts if c.watch_id == watch_id)
                     for name, watch_id in ids.items()}
        assert per_watch == {"acme": 2, "recall": 2}  # 1 and 2; 1 and 3
        assert sum(c.mentions for c in counts if c.is_first) == 3  # each post once


def record_cards(sessions: sessionmaker[Session]) -> None:
    """Every queued card posted, as the outbox records them."""
    with transaction(sessions) as session:
        for n, row in enumerate(session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == KIND_CARD).order_by(OutboxMessage.id)).all()):
            mention = session.get(Mention, row.mention_id)
            assert mention is not None
            do_record_card(session, mention, row.channel, f"1700000000.{n:06d}")


def test_the_sla_is_the_strictest_of_the_watches_that_alerted(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    watches(sessions, workspace_id, RECALL_CHANNEL)
    do_set_targets(sessions, workspace_id, CLI, "recall",
                   {"urgent": 30, "high": 30, "normal": 30})
    for name in ("acme", "recall"):  # acme first: post 1's first watch, 24 h targets
        poll(sessions, workspace_id, name, feed())
    record_cards(sessions)
    with sessions() as session:
        one, two = (session.scalars(select(Mention).where(Mention.external_id == e)).one()
                    for e in ("1", "2"))
        assert due_at(session, one) == one.created_at + timedelta(minutes=30)
        assert due_at(session, two) == two.created_at + timedelta(
            minutes=target_minutes(get_watch_by_name(session, workspace_id, "acme"),
                                   two.priority))
        scope = Scope(workspace_id, (get_watch_by_name(session, workspace_id, "acme").id,))
        config = DigestChannel(workspace_id, CHANNEL_ID, NOW.time(), ZoneInfo("UTC"), False,
                               True, scope, "en", None)
        late = one.created_at + timedelta(minutes=40)
        assert build_digest_report(session, config, end=late, now=late).overdue_count == 1
    assert run_sla_checks(sessions, one.created_at + timedelta(minutes=40), "UTC") >= 1
    with sessions() as session:
        breached = select(SlaNotice.mention_id).where(SlaNotice.kind == "breach")
        # 1 (in both, recall alerted) and 3 (recall's only); 2 is acme's: 24 h.
        assert sorted(session.scalars(select(Mention.external_id).where(
            Mention.id.in_(breached)))) == ["1", "3"]


def test_a_watch_that_did_not_alert_does_not_shorten_the_sla(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    watches(sessions, workspace_id, RECALL_CHANNEL)
    do_set_targets(sessions, workspace_id, CLI, "recall",
                   {"urgent": 30, "high": 30, "normal": 30})
    with transaction(sessions) as session:  # recall holds its posts without alerting
        get_watch_by_name(session, workspace_id, "recall").alert_threshold = 101
    for name in ("acme", "recall"):
        poll(sessions, workspace_id, name, feed())
    record_cards(sessions)
    with sessions() as session:
        one = session.scalars(select(Mention).where(Mention.external_id == "1")).one()
        acme = get_watch_by_name(session, workspace_id, "acme")
        assert due_at(session, one) == one.created_at + timedelta(
            minutes=target_minutes(acme, one.priority))
    assert run_sla_checks(sessions, one.created_at + timedelta(minutes=40), "UTC") == 0
