"""Quiet backfill on SQLite and PostgreSQL: an old feed's first poll stores and counts its
posts, never alerts on them and never gives them an SLA, and says how many it backfilled.
The feed is the real Guardian capture of the shared data (feeds/rssparser__guardian.rss)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient
from bot.services.actors import CLI, Actor
from bot.services.ingest import do_ingest
from bot.services.members import do_set_role
from bot.services.outbox import KIND_CARD
from bot.services.polling import run_poll_tick
from bot.services.sla import due_at, run_sla_checks
from bot.services.sources_admin import do_add_source, do_set_source_paused, list_sources
from bot.services.watches import get_watch_by_name
from bot.services.workflow import do_assign
from bot.slack.admin_views import build_source_list
from bot.sources.base import Author, FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage, Role
from storage.models_cases import QuietMention
from storage.models_sla import SlaNotice


def trusted_client(_trusted: bool) -> HttpClient:
    return HttpClient()


def count(sessions: sessionmaker[Session], model: type, *where: object) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_an_old_feeds_first_poll_is_stored_counted_and_quiet(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    body = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    httpserver.expect_request("/guardian").respond_with_data(
        body, content_type="application/rss+xml")
    source = do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                           values={"url": httpserver.url_for("/guardian")})
    before = list_sources(sessions, workspace_id)[0]
    assert before.backfilled is None  # not polled yet: nothing to report
    report = run_poll_tick(sessions, trusted_client, force=True)  # default window, 48 h
    totals = report.totals
    assert report.failures == 0 and totals.stored > 5
    assert totals.backfilled == totals.stored and totals.alerts == 0
    assert count(sessions, Mention) == totals.stored  # stored and counted
    assert count(sessions, QuietMention) == totals.stored
    assert count(sessions, OutboxMessage, OutboxMessage.kind == KIND_CARD) == 0
    view = list_sources(sessions, workspace_id)[0]
    assert (view.id, view.backfilled, view.backfill_hours) == (source.id, totals.stored, 48)
    assert f"{totals.stored} post(s) older than 48 h" in (view.backfill_note() or "")
    french = view.backfill_note("fr") or ""
    assert f"{totals.stored} message(s) de plus de 48 h enregistrés sans alerte ni SLA" in french
    assert "older than" not in french and "stored without" not in french
    _, blocks = build_source_list([view], "en")
    assert f"Quiet backfill: {totals.stored} post(s) older than 48 h" in str(blocks)

    # No SLA, even once someone takes one up.
    agent = "U0AGENT01"
    do_set_role(sessions, workspace_id, CLI, agent, Role.AGENT.value)
    with sessions() as session:
        first_id = session.scalar(select(func.min(Mention.id)))
        assert first_id is not None
    do_assign(sessions, workspace_id, Actor(agent, "slash_command"), first_id, agent)
    with sessions() as session:
        mention = session.get(Mention, first_id)
        assert mention is not None and due_at(session, mention) is None
    assert run_sla_checks(sessions, datetime.now(UTC) + timedelta(days=3), "UTC") == 0
    assert count(sessions, SlaNotice) == 0

    # Paused and resumed: the next poll is quiet again and counts afresh.
    do_set_source_paused(sessions, workspace_id, CLI, source.id, True)
    do_set_source_paused(sessions, workspace_id, CLI, source.id, False)
    assert list_sources(sessions, workspace_id)[0].backfilled is None
    again = run_poll_tick(sessions, trusted_client, force=True)
    assert again.totals.stored == 0 and again.totals.alerts == 0
    assert list_sources(sessions, workspace_id)[0].backfilled == 0


def post(external_id: str, published: datetime) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://news.example/{external_id}",
                          author=Author(handle="news"),
                          text=f"Acme recalls its e-bike batteries, report {external_id}",
                          published_at=published)


def test_only_posts_older_than_the_window_are_quiet(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    batch = [post("old", now - timedelta(hours=49)), post("fresh", now - timedelta(hours=47))]
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, watch_name)
        report = do_ingest(session, watch, None, batch, now=now,
                           backfill_before=now - timedelta(hours=48))
    assert (report.stored, report.backfilled, report.alerts) == (2, 1, 1)
    with sessions() as session:
        fresh = session.scalar(select(Mention).where(Mention.external_id == "fresh"))
        old = session.scalar(select(Mention).where(Mention.external_id == "old"))
        assert fresh is not None and old is not None
        assert due_at(session, fresh) is not None and due_at(session, old) is None
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert list(cards) == [fresh.id]
