"""Posts a feed lists late (dated days before newer posts it served already, as Google
Alerts list articles they found late), on SQLite and PostgreSQL, through a real local
HTTP server: stored and counted, alerted when they need it (or quiet when they belong to
the history the source's first poll backfilled), and a feed rewriting its GUIDs does not
re-deliver its archive as new posts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.cli.listening import _progress_line
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.home import home_summary
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.outbox import KIND_CARD
from bot.services.polling import run_poll_tick
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.queries import Scope
from bot.services.reporting.schedule import DigestChannel
from bot.services.sla import due_at, run_sla_checks
from bot.services.sources_admin import do_add_source
from bot.services.watch_links import do_record_card
from bot.services.watches import do_add_watch
from bot.slack.cards import build_card
from bot.slack.escape import slack_date
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from storage.models_cases import QuietMention
from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.services.test_polling import trusted_client

NOW = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
LEGAL = "@acme my account was hacked and you did nothing, I will sue"


class Feed:
    """An RSS feed whose items the test changes between polls: (guid, date, text)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, datetime, str]] = []

    def __call__(self, _request: Request) -> Response:
        body = "".join(
            f"<item><guid>{guid}</guid><link>https://forum.example/{guid.split('?')[0]}</link>"
            f"<title>{text}</title><description>{text}</description>"
            f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate></item>"
            for guid, date, text in self.items)
        return Response(f"<rss version='2.0'><channel><title>Forum</title>{body}"
                        "</channel></rss>", content_type="application/rss+xml")


@pytest.fixture
def feed(httpserver: HTTPServer) -> Feed:
    served = Feed()
    httpserver.expect_request("/feed").respond_with_handler(served)
    return served


@pytest.fixture
def source(sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
           feed: Feed) -> int:
    """An RSS source of a watch alerting at the default threshold (50)."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    return do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                         values={"url": httpserver.url_for("/feed")}).id


def mention(sessions: sessionmaker[Session], external_id: str) -> Mention | None:
    with sessions() as session:
        return session.scalar(select(Mention).where(Mention.external_id == external_id))


def carded(sessions: sessionmaker[Session], mention_id: int) -> bool:
    with sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD, OutboxMessage.mention_id == mention_id)))


def quiet(sessions: sessionmaker[Session], mention_id: int) -> bool:
    with sessions() as session:
        return session.get(QuietMention, mention_id) is not None


def test_a_late_complaint_is_stored_counted_listed_and_alerted(
        sessions: sessionmaker[Session], workspace_id: int, feed: Feed, source: int) -> None:
    # Polled for over a week: the post dated 6 days ago is after the history its first
    # poll backfilled, so it is news to the team and goes through the alert decision.
    feed.items = [("a", NOW - timedelta(days=8, hours=1), "Acme ships the spring catalogue")]
    run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(days=8))
    feed.items.append(("b", NOW - timedelta(minutes=40), "Acme store opens in Lyon today"))
    run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(minutes=30))
    feed.items += [("c", NOW - timedelta(minutes=10), "Acme store in Lyon has a queue"),
                   ("late", NOW - timedelta(days=6), LEGAL)]
    report = run_poll_tick(sessions, trusted_client, force=True, now=NOW)
    outcome = report.outcomes[0]
    assert (outcome.report.stored, outcome.report.late, outcome.report.backfilled) == (2, 1, 0)
    late = mention(sessions, "late")
    assert late is not None and late.priority == 100 and late.source_id == source
    assert carded(sessions, late.id) and not quiet(sessions, late.id)
    listed = search_mentions(sessions, workspace_id, MentionFilter(), now=NOW)
    assert "late" in [row.external_id for row in listed]


def test_the_poll_report_counts_what_was_found_late(
        sessions: sessionmaker[Session], feed: Feed, source: int,
        capsys: pytest.CaptureFixture[str]) -> None:
    feed.items = [("b", NOW - timedelta(minutes=40), "Acme store opens in Lyon today")]
    run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(minutes=30))
    feed.items += [("c", NOW - timedelta(minutes=10), "Acme store in Lyon has a queue"),
                   ("late", NOW - timedelta(days=6), LEGAL)]
    report = run_poll_tick(sessions, trusted_client, force=True, now=NOW)
    _progress_line(report.outcomes[0], 1, 1)
    line = capsys.readouterr().out
    assert "2 fetched, 2 new" in line and "1 found late" in line
    assert "1 older backfilled quietly" in line


def test_a_late_post_from_before_the_sources_history_is_stored_quietly(
        sessions: sessionmaker[Session], feed: Feed, source: int) -> None:
    # Added half an hour ago: its first poll backfilled quietly what was older than 48 h,
    # so a post of 6 days ago found now is that history, quiet as a new source keeps it
    # (a new source on this feed would store it exactly so).
    feed.items = [("b", NOW - timedelta(minutes=40), "Acme store opens in Lyon today")]
    run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(minutes=30))
    feed.items += [("c", NOW - timedelta(minutes=10), "Acme store in Lyon has a queue"),
                   ("late", NOW - timedelta(days=6), LEGAL)]
    totals = run_poll_tick(sessions, trusted_client, force=True, now=NOW).totals
    assert (totals.stored, totals.late, totals.backfilled, totals.alerts) == (2, 1, 1, 0)
    late, fresh = mention(sessions, "late"), mention(sessions, "c")
    assert late is not None and quiet(sessions, late.id) and not carded(sessions, late.id)
    assert fresh is not None and not quiet(sessions, fresh.id)


def test_a_feed_rewriting_its_guids_does_not_bring_its_archive_back(
        sessions: sessionmaker[Session], feed: Feed, source: int) -> None:
    # Ten days of posts, polled daily; then every GUID changes (a feed moved to another
    # platform): each post comes back under a new id, most of them late. The stored
    # posts' content fingerprints recognise them: nothing is stored or alerted again.
    texts = [f"Acme customers discuss the delivery delays of week {n} on the forum"
             for n in range(10)]
    for day in range(10):
        feed.items.append((f"p{day}", NOW - timedelta(days=10 - day, hours=1), texts[day]))
        run_poll_tick(sessions, trusted_client, force=True,
                      now=NOW - timedelta(days=10 - day))
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Mention))
        cards = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert stored == 10
    feed.items = [(f"{guid}?v=2", date, text) for guid, date, text in feed.items]
    totals = run_poll_tick(sessions, trusted_client, force=True, now=NOW).totals
    assert totals.late == 0 and totals.stored == 0 and totals.alerts == 0
    assert totals.near_duplicates == 10
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == stored
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == cards


def test_a_feed_rewriting_its_guids_and_texts_sends_no_new_cards(
        sessions: sessionmaker[Session], feed: Feed, source: int) -> None:
    # Worse: new GUIDs and a changed text (a new footer), same links. The texts no longer
    # match, so the posts are stored again, but each joins the story of the stored post
    # with its link, whose card went out already: no card goes out again.
    texts = [f"Acme customers are angry, the delivery of order {n} is late again and "
             "nobody answers" for n in range(6)]
    for day in range(6):
        feed.items.append((f"p{day}", NOW - timedelta(days=6 - day, hours=1), texts[day]))
        run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(days=6 - day))
    with sessions() as session:
        cards = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD))
    assert cards
    feed.items = [(f"{guid}?v=2", date, f"{text} Read the whole thread on our new forum")
                  for guid, date, text in feed.items]
    totals = run_poll_tick(sessions, trusted_client, force=True, now=NOW).totals
    assert totals.stored == 6 and totals.joined_stories == 6 and totals.alerts == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)) == cards


def test_a_late_complaint_gets_its_whole_sla_from_when_vigie_found_it(
        sessions: sessionmaker[Session], workspace_id: int, feed: Feed, source: int) -> None:
    """The complaint dated 6 days ago reached Vigie now: its urgent SLA (60 min) counts
    from now, so nothing calls it overdue on arrival (no breach notice, no escalation, not
    in Home's overdue list) until its hour has passed; its card still dates the post."""
    feed.items = [("a", NOW - timedelta(days=8, hours=1), "Acme ships the spring catalogue")]
    run_poll_tick(sessions, trusted_client, force=True, now=NOW - timedelta(days=8))
    feed.items.append(("late", NOW - timedelta(days=6), LEGAL))
    run_poll_tick(sessions, trusted_client, force=True, now=NOW)
    late = mention(sessions, "late")
    assert late is not None and late.created_at == NOW and carded(sessions, late.id)
    with transaction(sessions) as session:  # the card went out, as the outbox records it
        do_record_card(session, session.get_one(Mention, late.id), CHANNEL_ID, "1.000100")
    with sessions() as session:
        assert due_at(session, late) == NOW + timedelta(minutes=60)
        view = load_card_view(session, late.id)
    assert view is not None and view.published_at == NOW - timedelta(days=6)
    # The card dates the post, and says it was found late (why its SLA runs from now).
    card = json.dumps(build_card(view, "en")[1])
    assert slack_date(view.published_at) in card
    assert "found 6 d 0 h after it was posted" in card
    assert "trouvée 6 j 0 h après sa publication" in json.dumps(build_card(view, "fr")[1],
                                                                 ensure_ascii=False)
    prompt = replace(view, received_at=view.published_at + timedelta(minutes=20))
    assert "after it was posted" not in json.dumps(build_card(prompt, "en")[1])
    assert run_sla_checks(sessions, NOW + timedelta(minutes=5), "UTC") == 0
    assert late.id not in overdue(sessions, workspace_id, NOW + timedelta(minutes=5))
    assert digest_overdue(sessions, workspace_id, NOW + timedelta(minutes=5)) == 0
    assert run_sla_checks(sessions, NOW + timedelta(minutes=61), "UTC") >= 1
    assert late.id in overdue(sessions, workspace_id, NOW + timedelta(minutes=61))
    assert digest_overdue(sessions, workspace_id, NOW + timedelta(minutes=61)) == 1


def overdue(sessions: sessionmaker[Session], workspace_id: int, now: datetime) -> set[int]:
    return {item.id for item in home_summary(sessions, workspace_id, USER_ID, now).overdue}


def digest_overdue(sessions: sessionmaker[Session], workspace_id: int, now: datetime) -> int:
    """How many mentions the channel's digest, built at ``now``, calls overdue."""
    with sessions() as session:
        config = DigestChannel(workspace_id, CHANNEL_ID, now.time(), ZoneInfo("UTC"), False,
                               True, Scope(workspace_id), "en", None)
        return build_digest_report(session, config, end=now, now=now).overdue_count
