"""A poll whose database goes away between the claim and the store.

The tick stored nothing (its transaction failed) and then tried to record the failure in
the source's health, in a database still down: that second failure escaped the tick as a
second traceback (the scheduler's failure streak) instead of the one warning line of a
passing database failure. The database is reached through a TCP relay that the feed's
server closes while it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import StrandedClaims, run_poll_tick
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, SourceRow, Workspace
from tests.harness.constants import CHANNEL_ID
from tests.harness.tcp_relay import TcpRelay, tcp_relay

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Acme news</title><link>https://news.example/1</link>"
        b"<guid>post-1</guid><description>acme news</description>"
        b"<pubDate>Mon, 07 Dec 2026 09:00:00 +0000</pubDate></item></channel></rss>")


@pytest.mark.postgres
def test_a_poll_that_finds_the_database_down_logs_one_warning_and_the_next_retries(
    postgres_database_factory: object, httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _relayed(postgres_database_factory) as (sessions, relay):
        _run(sessions, httpserver, relay, caplog)


@contextmanager
def _relayed(factory: object) -> Iterator[tuple[sessionmaker[Session], TcpRelay]]:
    """A migrated PostgreSQL database reached through a TCP relay the test can close."""
    url: str = factory()  # type: ignore[operator]
    migrations.upgrade(url)
    with tcp_relay(url) as relay:
        engine = make_engine(relay.url(url))
        try:
            yield make_session_factory(engine), relay
        finally:
            engine.dispose()


def _run(sessions: sessionmaker[Session], httpserver: HTTPServer, relay: TcpRelay,
         caplog: pytest.LogCaptureFixture) -> None:
    _source_whose_first_poll_loses_the_database(sessions, httpserver, relay)

    with caplog.at_level(logging.WARNING):
        first = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
    assert first.failures == 1
    (outcome,) = first.outcomes
    assert outcome.error is not None and "nothing was lost" in outcome.error
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in said), [
        (r.levelname, r.getMessage()) for r in said]
    assert len(said) == 2, [r.getMessage() for r in said]  # the store, the health

    relay.open()
    second = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
    assert second.failures == 0, [o.error for o in second.outcomes]
    with sessions() as session:
        assert list(session.scalars(select(Mention.external_id))) == ["post-1"]
        assert session.scalars(select(SourceRow.consecutive_failures)).one() == 0


@pytest.mark.postgres
def test_the_first_tick_after_the_outage_polls_the_source_again(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """The database goes away during a scheduled tick's fetch, and is back for the next
    tick: that tick polls the source (not forced: it is due). Before, the source kept the
    claim the failed tick took (ten minutes): neither the store nor the failure could be
    written, and nothing gave the claim back, so the next ticks skipped it."""
    with _relayed(postgres_database_factory) as (sessions, relay):
        _source_whose_first_poll_loses_the_database(sessions, httpserver, relay)
        stranded = StrandedClaims()  # the process's, as the scheduler's ticks share it
        first = run_poll_tick(sessions, lambda _trusted: HttpClient(), stranded=stranded)
        assert first.failures == 1
        relay.open()
        second = run_poll_tick(sessions, lambda _trusted: HttpClient(), stranded=stranded)
        assert [o.error for o in second.outcomes] == [None]
        with sessions() as session:
            assert list(session.scalars(select(Mention.external_id))) == ["post-1"]
        assert len(stranded) == 0


def _source_whose_first_poll_loses_the_database(
        sessions: sessionmaker[Session], httpserver: HTTPServer, relay: TcpRelay) -> None:
    """An RSS source, due, whose feed closes the relay to the database as it answers the
    first poll."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0DOWN")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    answered: list[int] = []

    def feed(_request: Request) -> Response:
        if not answered:  # the first poll: the database goes away while it fetches
            relay.close()
        answered.append(1)
        return Response(FEED, content_type="application/rss+xml")

    httpserver.expect_request("/feed").respond_with_handler(feed)
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                  values={"url": httpserver.url_for("/feed")})
