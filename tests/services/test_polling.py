"""Polling and ingest over real HTTP (local server) and real databases."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import event, func, inspect, literal_column, select, table, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.net.errors import SourceError
from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.polling import (
    CLAIM_LEASE,
    PollStopped,
    TickReport,
    claim_due_sources,
    record_failure,
    release_claims,
    run_poll_tick,
    why_not_polled,
)
from bot.services.sources_admin import do_add_source, list_sources
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.admin_views import build_source_list
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author, Mention, OutboxMessage, SourceRow, Workspace
from tests.harness.constants import CHANNEL_ID


def trusted_client(_trusted: bool) -> HttpClient:
    return HttpClient()


def count(sessions: sessionmaker[Session], model: type, *where: object) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def serve_feed(httpserver: HTTPServer, shared_data: Path, name: str, path: str) -> str:
    body = (shared_data / "feeds" / name).read_bytes()
    httpserver.expect_request(path).respond_with_data(body, content_type="application/rss+xml")
    return httpserver.url_for(path)


def test_polling_twice_stores_each_mention_once_and_resumes(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    url = serve_feed(httpserver, shared_data, "rssparser__guardian.rss", "/guardian")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    # The Guardian feed is years old: quiet backfill off, so that every mention alerts.
    first = run_poll_tick(sessions, trusted_client, force=True, backfill_hours=0)
    stored = first.totals.stored
    assert first.failures == 0 and stored > 5
    assert count(sessions, Mention) == stored
    assert first.totals.alerts == stored  # threshold 0: every primary mention alerts
    assert count(sessions, OutboxMessage, OutboxMessage.kind == KIND_CARD) == stored
    second = run_poll_tick(sessions, trusted_client, force=True)
    assert second.totals.stored == 0
    assert count(sessions, Mention) == stored
    (source,) = list_sources(sessions, workspace_id)
    assert source.last_success_at is not None and source.consecutive_failures == 0
    with sessions() as session:
        row = session.scalars(select(SourceRow)).one()
        assert row.cursor, "the cursor is stored for the next poll"
        assert row.next_poll_at > datetime.now(UTC) + timedelta(minutes=5)
        authors = session.scalars(select(Author)).all()
        assert sum(a.mention_count for a in authors) == stored


def test_schedule_only_polls_due_sources(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    url = serve_feed(httpserver, shared_data, "rssparser__reddit.rss", "/reddit")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    assert len(run_poll_tick(sessions, trusted_client).outcomes) == 1
    assert run_poll_tick(sessions, trusted_client).outcomes == []  # not due again yet
    later = datetime.now(UTC) + timedelta(hours=1)
    assert len(run_poll_tick(sessions, trusted_client, now=later).outcomes) == 1


def test_one_failing_source_gets_backoff_and_never_stops_the_others(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    good = serve_feed(httpserver, shared_data, "rssparser__heise.atom", "/good")
    httpserver.expect_request("/broken").respond_with_data("oops", status=404)
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": httpserver.url_for("/broken")})
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": good})
    report = run_poll_tick(sessions, trusted_client, force=True)
    assert report.failures == 1 and report.totals.stored > 0
    broken = next(s for s in list_sources(sessions, workspace_id) if s.consecutive_failures)
    assert broken.last_error and "404" in broken.last_error
    assert broken.next_poll_at > datetime.now(UTC) + timedelta(minutes=10)
    run_poll_tick(sessions, trusted_client, force=True)
    broken = next(s for s in list_sources(sessions, workspace_id) if s.consecutive_failures)
    assert broken.consecutive_failures == 2
    assert broken.next_poll_at > datetime.now(UTC) + timedelta(minutes=25)  # backed off


def test_a_hostile_error_is_stored_and_shown_capped(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    """A server's text of any length in an error's parameters (and any number of reasons)
    is cut as ``last_error`` is: the row and the source list stay small."""
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": "https://feeds.example.com/rss"})
    huge = "A" * 100_000
    error = SourceError(f"feeds.example.com answered HTTP 400: {huge}", reasons=[
        ("http_status", {"host": "feeds.example.com", "status": 400, "detail": f": {huge}"}),
    ] * 50)
    with transaction(sessions) as session:
        source_id = session.scalars(select(SourceRow.id)).one()
        record_failure(session, source_id, error, datetime.now(UTC))
    with sessions() as session:
        row = session.get_one(SourceRow, source_id)
        assert row.last_error is not None and len(row.last_error) <= 1000
        reasons = row.last_error_reasons
    assert reasons is not None and 1 <= len(reasons) <= 10
    for key, params in reasons:
        assert key == "http_status" and params["status"] == 400
        assert params["detail"].startswith(": AAA") and params["detail"].endswith("…")
        assert len(params["detail"]) <= 200
    for language in ("en", "fr"):
        _, blocks = build_source_list(list_sources(sessions, workspace_id), language)
        text = blocks[0]["text"]["text"]
        assert len(text) <= 3000 and "HTTP 400" in text  # the translated reason, cut


def test_dry_run_stores_nothing(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    url = serve_feed(httpserver, shared_data, "rssparser__guardian.rss", "/guardian")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    report = run_poll_tick(sessions, trusted_client, dry_run=True, force=True)
    assert report.totals.stored > 0
    assert count(sessions, Mention) == 0
    with sessions() as session:
        assert session.scalars(select(SourceRow.cursor)).one() == {}


def _database(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    """Every row of every table, as text: what a dry run must leave as it found it."""
    with sessions() as session:
        connection = session.connection()
        return {name: sorted(repr(tuple(row)) for row in connection.execute(
                    select(literal_column("*")).select_from(table(name))))
                for name in sorted(inspect(connection).get_table_names())}


def _figures(report: TickReport) -> dict[int, tuple[object, ...]]:
    return {o.source.id: (o.fetched, o.not_modified, o.error, o.report.received,
                          o.report.stored, o.report.duplicates, o.report.near_duplicates,
                          o.report.filtered, o.report.alerts, o.report.backfilled,
                          o.report.linked, o.report.joined_stories, o.report.skipped)
            for o in report.outcomes}


def _dry_run_then_poll(sessions: sessionmaker[Session]) -> dict[int, tuple[object, ...]]:
    """A dry run's figures, checked equal to the real poll's that follows; the database
    the same after the dry run as before it."""
    now = datetime.now(UTC)
    before = _database(sessions)
    dry = run_poll_tick(sessions, trusted_client, force=True, dry_run=True, now=now,
                        concurrency=1)
    assert _database(sessions) == before
    real = run_poll_tick(sessions, trusted_client, force=True, now=now, concurrency=1)
    assert _figures(dry) == _figures(real)
    assert (dry.totals.stored, dry.totals.alerts) == (real.totals.stored, real.totals.alerts)
    return _figures(real)


def test_a_dry_run_counts_what_the_poll_then_does(
    sessions: sessionmaker[Session], workspace_id: int,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="all", query="", channel_id=CHANNEL_ID)
    urls = [serve_feed(httpserver, shared_data, name, path) for name, path in (
        ("fp__atom10_entry_title_type_empty-no-crash.xml", "/undated"),
        ("rssparser__guardian.rss", "/guardian"),
        ("rssparser__heise.atom", "/heise"))]
    for url in urls[:2]:
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="all",
                      values={"url": url})
    # New sources: the undated post alerts (at the threshold of 50); the Guardian's years
    # old posts are backfilled quietly.
    first = _dry_run_then_poll(sessions)
    assert [first[i][4:5] + first[i][8:10] for i in sorted(first)] == [(1, 1, 0), (50, 0, 50)]
    # The same feed again under another address: duplicates of what is stored; a new feed
    # stores its posts.
    for url in (urls[1] + "?x=1", urls[2]):
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="all",
                      values={"url": url})
    second = _dry_run_then_poll(sessions)
    guardian_again, heise = [second[i] for i in sorted(second)][2:]
    assert (guardian_again[4], guardian_again[5]) == (0, 50)
    assert heise[4] > 0


def test_a_dry_run_holds_no_lease_and_no_lock_across_sources(
    sessions: sessionmaker[Session], workspace_id: int,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """A worker polling a source during a dry run does not make the dry run report
    'claim expired' (a dry run holds no lease), and each source is tried in its own
    transaction, rolled back before the next one is stored (one transaction for them all
    deadlocked on PostgreSQL with a worker storing the same posts)."""
    do_add_watch(sessions, workspace_id, CLI, name="all", query="", channel_id=CHANNEL_ID)
    for name, path in (("rssparser__guardian.rss", "/guardian"),
                       ("rssparser__heise.atom", "/heise")):
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="all",
                      values={"url": serve_feed(httpserver, shared_data, name, path)})
    run_poll_tick(sessions, trusted_client, force=True)  # stored once: a lease to compare
    engine = sessions.kw["bind"]
    seen: list[str] = []

    def worker_polls_meanwhile(trusted: bool) -> HttpClient:
        with engine.begin() as conn:  # what a worker's claim writes
            conn.execute(text("UPDATE sources SET last_polled_at = :now"),
                         {"now": datetime.now(UTC) + timedelta(seconds=1)})
        return trusted_client(trusted)

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if re.search(r"FROM sources\b.*WHERE sources\.id = ", sql, re.S):
            seen.append("source")  # _apply reads (and locks) the source it stores

    def rollback(_conn: Any) -> None:
        seen.append("rollback")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "rollback", rollback)
    try:
        dry = run_poll_tick(sessions, worker_polls_meanwhile, force=True, dry_run=True,
                            concurrency=1)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "rollback", rollback)
    assert [o.error for o in dry.outcomes] == [None, None]
    # Each source's work is rolled back before the next source's starts.
    work = [step for n, step in enumerate(seen) if step == "source" or (
        n and seen[n - 1] == "source")]
    assert work == ["source", "rollback", "source", "rollback"], seen


def mention(external_id: str, text: str, *, handle: str = "ana", network: str = "mastodon",
            links: tuple[str, ...] = (), followers: int = 10) -> FetchedMention:
    url = (f"https://bsky.app/profile/{handle}.bsky.social/post/{external_id}"
           if network == "bluesky" else f"https://mastodon.social/@{handle}/{external_id}")
    return FetchedMention(
        network=network, external_id=external_id, url=url,
        author=FetchedAuthor(handle=handle, followers=followers), text=text,
        published_at=datetime(2026, 11, 20, 12, tzinfo=UTC), links=links)


def test_query_exact_and_near_duplicates_and_stories(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme -job",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    article = "https://news.example.com/acme-outage?utm_source=x"
    batch = [
        mention("1", "Acme app is down again, third time this week!", links=(article,)),
        mention("1", "Acme app is down again, third time this week!"),  # same id twice
        mention("2", "RT @ana: Acme app is down again, third time this week!", handle="bob"),
        mention("3", "Acme is hiring: job offer for a designer"),  # excluded by -job
        mention("4", "Nothing about the brand here at all, just weather"),  # no match
        mention("5", "Read this about ACME's outage, quite a story", handle="eve",
                network="bluesky", links=("https://news.example.com/acme-outage",),
                followers=5000),
    ]
    now = datetime(2026, 11, 20, 13, tzinfo=UTC)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        report = do_ingest(session, watch, None, batch, now=now)
    assert (report.received, report.stored, report.duplicates, report.near_duplicates,
            report.filtered, report.joined_stories) == (6, 2, 1, 1, 2, 1)
    assert report.alerts == 1  # the story's second post does not alert again
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        again = do_ingest(session, watch, None, batch, now=now)
    assert again.stored == 0
    with sessions() as session:
        first, story = session.scalars(select(Mention).order_by(Mention.id)).all()
        assert story.story_id == first.id and first.story_id is None
        assert first.language == "en" and first.sentiment_label is not None
        assert first.priority_reason


def test_lang_filter_uses_the_detected_language(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="fr", query="acme lang:fr",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    batch = [
        mention("1", "L'application Acme ne marche plus depuis ce matin, c'est pénible"),
        mention("2", "The Acme app has stopped working since this morning, annoying"),
        mention("3", "Pas de nouvelles de la livraison, rien du tout depuis lundi"),
    ]
    now = datetime(2026, 11, 20, 13, tzinfo=UTC)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "fr")
        report = do_ingest(session, watch, None, batch, now=now)
    assert (report.stored, report.filtered) == (1, 2)
    with sessions() as session:
        stored = session.scalars(select(Mention)).one()
        assert (stored.external_id, stored.language) == ("1", "fr")
        assert stored.intent == "complaint"


@pytest.mark.postgres
def test_several_workers_fetch_each_source_exactly_once(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    engine = make_engine(url, pool_size=10)
    sessions = make_session_factory(engine)
    hits: Counter[str] = Counter()
    lock = threading.Lock()
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><title>Acme {n}</title><link>https://e.example/{n}</link>"
            b"<guid>{n}</guid><description>acme news {n}</description></item>"
            b"</channel></rss>")

    def handler(request: Request) -> Response:
        with lock:
            hits[request.path] += 1
        n = request.path.rsplit("/", 1)[-1].encode()
        return Response(feed.replace(b"{n}", n), content_type="application/rss+xml")

    httpserver.expect_request(re.compile(r"^/feed/\d+$")).respond_with_handler(handler)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0MULTI")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID)
    for n in range(200):
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                      values={"url": httpserver.url_for(f"/feed/{n}")})
    barrier = threading.Barrier(4)
    reports = []

    def worker() -> None:
        barrier.wait()
        reports.append(run_poll_tick(sessions, trusted_client, concurrency=4))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert sum(len(r.outcomes) for r in reports) == 200
    assert len(hits) == 200 and set(hits.values()) == {1}
    assert sum(r.totals.stored for r in reports) == 200


@pytest.mark.postgres
def test_two_workers_share_slow_sources_and_never_fetch_one_twice(
    postgres_database_factory: object,
) -> None:
    """One tick claimed every due source before its first fetch: the other worker found
    nothing to do, and once a slow tick outlasted the lease, it claimed and fetched again
    the sources the first had not reached (whose results were then thrown away). A tick
    now claims only for its free fetch slots: every source it holds is being fetched."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    engine = make_engine(url, pool_size=10)
    sessions = make_session_factory(engine)
    arrived: Counter[str] = Counter()
    changed = threading.Condition()
    release = threading.Event()
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><title>Acme {n}</title><link>https://e.example/{n}</link>"
            b"<guid>{n}</guid><description>acme news {n}</description></item>"
            b"</channel></rss>")

    def held_until_released(request: Request) -> Response:
        with changed:
            arrived[request.path] += 1
            changed.notify_all()
        release.wait(60)
        n = request.path.rsplit("/", 1)[-1].encode()
        return Response(feed.replace(b"{n}", n), content_type="application/rss+xml")

    def in_flight(count: int, worker: threading.Thread | None = None) -> int:
        """Wait until ``count`` requests arrived (or ``worker`` ended); how many did."""
        deadline = time.monotonic() + 20
        with changed:
            while (sum(arrived.values()) < count and time.monotonic() < deadline
                   and (worker is None or worker.is_alive())):
                changed.wait(0.05)
            return sum(arrived.values())

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request(re.compile(r"^/feed/\d+$")).respond_with_handler(
        held_until_released)
    server.start()
    reports: dict[str, TickReport] = {}

    def tick(name: str) -> None:
        reports[name] = run_poll_tick(sessions, trusted_client, concurrency=2, budget=900)

    first = threading.Thread(target=tick, args=("first",))
    second = threading.Thread(target=tick, args=("second",))
    try:
        with transaction(sessions) as session:
            workspace = Workspace(team_id="T0SHARE")
            session.add(workspace)
            session.flush()
            workspace_id = workspace.id
        do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                     channel_id=CHANNEL_ID)
        for n in range(6):
            do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                          values={"url": server.url_for(f"/feed/{n}")})
        started = datetime.now(UTC)
        first.start()
        assert in_flight(2) == 2  # the first worker's two slots are busy
        second.start()
        assert in_flight(4, second) == 4  # the second worker fetches meanwhile
        with sessions() as session:
            leases = session.scalars(select(SourceRow.next_poll_at).where(
                SourceRow.next_poll_at > started)).all()
        assert len(leases) == 4  # held: only the sources being fetched; the rest are due
        # The lease outlasts the fetch budget (900 s, longer than the 10 minute lease).
        assert min(leases) >= started + timedelta(seconds=2 * 900)
    finally:
        release.set()
        for worker in (first, second):
            if worker.ident is not None:
                worker.join(60)
        server.clear()
        server.stop()
        engine.dispose()
    assert not first.is_alive() and not second.is_alive()
    assert len(arrived) == 6 and set(arrived.values()) == {1}  # each fetched once
    polled = {name: {o.source.id for o in report.outcomes} for name, report in reports.items()}
    assert polled["first"] and polled["second"]
    assert not polled["first"] & polled["second"]
    assert len(polled["first"] | polled["second"]) == 6
    assert all(report.failures == 0 for report in reports.values())


def test_why_a_source_is_not_polled(sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="on", query="", channel_id=CHANNEL_ID)
    do_add_watch(sessions, workspace_id, CLI, name="off", query="", channel_id=CHANNEL_ID)
    ids = [do_add_source(sessions, workspace_id, CLI, kind=kind, watch_name=watch,
                         values=values).id for kind, watch, values in (
        ("rss", "on", {"url": "https://a.example/feed"}), ("webhook", "on", {}),
        ("rss", "on", {"url": "https://b.example/feed"}),
        ("rss", "off", {"url": "https://c.example/feed"}))]
    with transaction(sessions) as session:
        session.get(SourceRow, ids[2]).paused = True  # type: ignore[union-attr]
        watch = get_watch_by_name(session, workspace_id, "off")
        watch.paused = True
    assert why_not_polled(sessions, [*ids, 9999], due=True) == {
        ids[0]: "not_due", ids[1]: "pushed", ids[2]: "paused", ids[3]: "watch_paused",
        9999: "missing"}
    assert why_not_polled(sessions, [ids[0]], due=False) == {ids[0]: "busy"}


def test_a_broken_stored_cursor_is_repaired_without_storing_a_post_twice(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    # A min_id written by an earlier bug (an object's repr) stayed stored: every poll
    # asked from it and found nothing new, for good.
    hoot = (shared_data / "api" / "mastodon" / "mastodonpy_timelines_tag_hoot.json").read_text()
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_data(
        hoot, content_type="application/json")
    do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                  values={"base_url": httpserver.url_for("").rstrip("/"), "query": "#hoot"})
    stored = run_poll_tick(sessions, trusted_client, force=True, backfill_hours=0).totals.stored
    assert stored > 0
    with transaction(sessions) as session:
        row = session.scalars(select(SourceRow)).one()
        good_cursor = row.cursor
        row.cursor = {"min_id": "{'a': '" + "x" * 40 + "'}"}
    with caplog.at_level("WARNING", logger="bot.sources"):
        repaired = run_poll_tick(sessions, trusted_client, force=True)
        again = run_poll_tick(sessions, trusted_client, force=True)
    assert repaired.failures == again.failures == 0
    assert repaired.totals.stored == again.totals.stored == 0  # the dedupe: none twice
    assert count(sessions, Mention) == stored
    with sessions() as session:
        assert session.scalars(select(SourceRow.cursor)).one() == good_cursor
    asked = [r.args.get("min_id") for r, _ in httpserver.log if "since_id" not in r.args]
    assert asked == [None, None, good_cursor["min_id"]]  # then the look-back below it
    assert httpserver.log[-1][0].args["max_id"] == good_cursor["min_id"]
    assert len([r for r in caplog.records if "min_id" in r.getMessage()]) == 1


def _schedules(sessions: sessionmaker[Session]) -> dict[int, tuple[object, object]]:
    with sessions() as session:
        return {row.id: (row.next_poll_at, row.last_polled_at)
                for row in session.scalars(select(SourceRow))}


def test_an_interrupted_tick_gives_back_the_sources_it_had_not_stored(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """Ctrl-C on `vigie poll` left the sources it had claimed leased for ten minutes, so
    the scheduler of a running `vigie run` skipped them."""
    for name, path in [("rssparser__reddit.rss", "/a"), ("rssparser__guardian.rss", "/b")]:
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                      values={"url": serve_feed(httpserver, shared_data, name, path)})
    before = _schedules(sessions)

    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_poll_tick(sessions, trusted_client, concurrency=1, progress=interrupt)
    after = _schedules(sessions)
    kept = [source_id for source_id in before if after[source_id] == before[source_id]]
    assert len(kept) == 1  # the one not stored yet: due as before, never polled
    (stored,) = set(before) - set(kept)
    assert after[stored][1] is not None  # the one stored keeps its next poll
    again = run_poll_tick(sessions, trusted_client)
    assert [o.source.id for o in again.outcomes] == kept


def test_a_claim_taken_again_since_is_not_given_back(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": "https://feeds.example/a.rss"})
    now = datetime.now(UTC)
    (first,) = claim_due_sources(sessions, now=now)
    # The lease ran out during a slow tick and another worker claimed it.
    (second,) = claim_due_sources(sessions, now=now + CLAIM_LEASE + timedelta(minutes=1))
    held = _schedules(sessions)
    assert release_claims(sessions, [first]) == 0
    assert _schedules(sessions) == held
    assert release_claims(sessions, [second]) == 1
    assert list(_schedules(sessions).values()) == [second.unclaimed]


def test_a_claim_whose_store_committed_is_not_given_back(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    # The store commits with last_polled_at == the claim's time (one tick, one 'now'):
    # an interrupt landing just after it gave the source back its old schedule (due at
    # once, or its backoff undone).
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": "https://feeds.example/a.rss"})
    now = datetime.now(UTC)
    (claimed,) = claim_due_sources(sessions, now=now)
    with transaction(sessions) as session:
        row = session.get(SourceRow, claimed.id)
        assert row is not None and row.last_polled_at == claimed.claimed_at
        row.next_poll_at = now + timedelta(minutes=15)  # what the store scheduled
    stored = _schedules(sessions)
    assert release_claims(sessions, [claimed]) == 0
    assert _schedules(sessions) == stored


def test_a_stopped_tick_cuts_its_fetch_short_and_gives_the_source_back(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    """A worker told to stop (SIGTERM) polled on until the fetch's budget ran out, its
    source leased meanwhile."""
    import socket
    import time

    silent = socket.socket()  # accepts (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/feed.rss"
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                      values={"url": url})
        before = _schedules(sessions)
        stop = threading.Event()
        raised: list[BaseException] = []

        def tick() -> None:
            try:
                run_poll_tick(sessions, trusted_client, budget=60, stop=stop)
            except BaseException as err:  # noqa: BLE001  (looked at below)
                raised.append(err)

        worker = threading.Thread(target=tick)
        worker.start()
        deadline = time.monotonic() + 10
        while _schedules(sessions) == before:  # claimed: leased
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # the fetch is waiting for an answer
        stopped_at = time.monotonic()
        stop.set()
        worker.join(10)
        assert not worker.is_alive()
        assert time.monotonic() - stopped_at < 3
        assert [type(err) for err in raised] == [PollStopped]
        assert _schedules(sessions) == before  # due again at once
        with pytest.raises(PollStopped):  # a stopped tick claims nothing more
            run_poll_tick(sessions, trusted_client, stop=stop)
        assert _schedules(sessions) == before
    finally:
        silent.close()


def test_a_rate_limited_follower_look_up_stores_the_posts_and_waits(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """Bluesky's follower look-up (getProfiles) answering 429 with Retry-After: the posts
    are stored, followers unknown, and the next poll waits the hour asked, as after a
    rate-limited search; it came at the source's interval and met the limit again."""
    capture = json.loads((shared_data / "api" / "bluesky" /
                          "indigo_automod_capture_atprotocom.json").read_text("utf-8"))
    record, meta = capture["postRecords"][1], capture["accountMeta"]
    post = {"uri": record["uri"], "cid": record["cid"], "record": record["value"],
            "indexedAt": record["value"]["createdAt"],
            "author": {"did": meta["Identity"]["DID"], "handle": meta["Identity"]["Handle"]}}
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST"
                              ).respond_with_json({"accessJwt": "jwt-1", "refreshJwt": "r-1"})
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json(
        {"posts": [post]})
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_response(
        Response(json.dumps({"error": "RateLimitExceeded"}), status=429,
                 headers={"Retry-After": "3600"}, content_type="application/json"))
    do_add_source(sessions, workspace_id, CLI, kind="bluesky", watch_name=watch_name,
                  values={"query": "atproto", "handle": "brand.bsky.social",
                          "app_password": "app-pass-word",
                          "service_url": httpserver.url_for("").rstrip("/")})
    before = datetime.now(UTC)
    report = run_poll_tick(sessions, trusted_client, force=True, backfill_hours=0)
    assert report.failures == 0 and report.totals.stored == 1
    with sessions() as session:
        row = session.scalars(select(SourceRow)).one()
        assert row.consecutive_failures == 0 and row.cursor.get("since")
        assert row.next_poll_at >= before + timedelta(minutes=59)
        author = session.scalars(select(Author)).one()
        assert author.followers is None
