"""A database failing for a passing reason during an ingest loses nothing (chaos review).

A statement that waited past its lock timeout (a maintenance session holding a lock on
`mentions`, as CREATE INDEX does), was cancelled, or lost its connection says nothing of
the post it carried. Such posts used to be dropped as bad items while the cursor moved
past them and the poll reported success: they were never fetched again. Now the whole
poll rolls back and is recorded as failed, and the next poll stores them; a webhook push
is answered 503 with Retry-After, and its retry stores it once. The lock is real (a
second session's LOCK TABLE), so is Vigie's lock_timeout, so is the feed server.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import BUSY_GRACE, run_poll_tick
from bot.services.sources_admin import do_add_source, list_sources
from bot.services.watches import do_add_watch
from bot.slack.admin_views import build_source_list
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.db_errors import is_refused_item, is_size_bound, is_transient
from storage.models import Mention, SourceRow, Workspace, utcnow
from tests.bot.test_cli import vigie
from tests.e2e.conftest import VigieApp, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers

LOCK_TIMEOUT = "-c lock_timeout=300"
"""Vigie's sessions give up waiting for a lock after 0.3 s (a managed database's or a
DBA's setting; statement_timeout fails the same way, with another code)."""
POSTS = 20


def _feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Acme {n}</title><link>https://news.example/{n}</link>"
        f"<guid>post-{n}</guid><description>acme news {n}</description>"
        f"<pubDate>Mon, 07 Dec 2026 09:{n:02d}:00 +0000</pubDate></item>"
        for n in range(count))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()


def _migrated(postgres_database_factory: object) -> str:
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    return url


def _stored(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def _busy(row: SourceRow) -> tuple[str, str]:
    """The key and error type of the row's one reason (a ``database_busy`` one here)."""
    ((key, params),) = row.last_error_reasons or [[None, {}]]
    return key, params["type"]


def _busy_since(sessions: sessionmaker[Session], source_id: int, when: datetime) -> None:
    """As if the database had failed the source's polls (pushes) since ``when``."""
    with sessions.begin() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.last_error_reasons
        ((key, params),) = row.last_error_reasons
        row.last_error_reasons = [[key, {**params, "since": when.isoformat()}]]


def _rss_source(sessions: sessionmaker[Session], httpserver: HTTPServer) -> int:
    """A workspace with a watch and an RSS source on a local feed of POSTS posts."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0LOCKED")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    httpserver.expect_request("/feed").respond_with_data(
        _feed(POSTS), content_type="application/rss+xml")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                  values={"url": httpserver.url_for("/feed")})
    return workspace_id


@pytest.mark.postgres
def test_a_source_the_database_has_not_stored_for_long_shows_failing(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """A database failure that never passes (a post whose own insert always exceeds a
    statement timeout) left the source refetching at full rate, shown "ok", for ever:
    once the database has failed its polls for longer than BUSY_GRACE (and it has stored
    none for three intervals), it counts as the source's failure."""
    url = _migrated(postgres_database_factory)
    engine = make_engine(url, connect_args={"options": LOCK_TIMEOUT})
    sessions = make_session_factory(engine)
    locker = create_engine(url)
    try:
        workspace_id = _rss_source(sessions, httpserver)
        with transaction(sessions) as session:
            row = session.scalars(select(SourceRow)).one()
            source_id = row.id
            # Past the grace and past three intervals, whichever is longer.
            row.created_at -= BUSY_GRACE + timedelta(seconds=3 * row.interval_seconds)

        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            first = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
            with sessions() as session:
                assert session.get(SourceRow, source_id).consecutive_failures == 0
            _busy_since(sessions, source_id, utcnow() - BUSY_GRACE - timedelta(minutes=1))
            ticks = [first] + [run_poll_tick(sessions, lambda _trusted: HttpClient(),
                                             force=True) for _ in range(2)]
            held.rollback()

        assert [tick.failures for tick in ticks] == [1, 1, 1]
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.consecutive_failures == 2
            assert _busy(row) == ("database_busy", "LockNotAvailable")
            assert row.next_poll_at is not None and row.last_error_at is not None
            assert row.next_poll_at - row.last_error_at > timedelta(
                seconds=row.interval_seconds)  # backed off
        (view,) = list_sources(sessions, workspace_id)
        for language in ("en", "fr"):
            assert ":warning:" in build_source_list([view], language)[1][0]["text"]["text"]
    finally:
        locker.dispose()
        engine.dispose()


@pytest.mark.postgres
def test_a_lock_timeout_during_a_poll_fails_the_poll_and_the_next_one_stores_every_post(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    url = _migrated(postgres_database_factory)
    engine = make_engine(url, connect_args={"options": LOCK_TIMEOUT})
    sessions = make_session_factory(engine)
    locker = create_engine(url)
    try:
        workspace_id = _rss_source(sessions, httpserver)
        with sessions() as session:
            cursor_before = session.scalars(select(SourceRow.cursor)).one()

        with locker.connect() as held:
            # What CREATE INDEX (without CONCURRENTLY) holds: reads go on, writes wait.
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            ticks = [run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
                     for _ in range(3)]
            held.rollback()

        assert [tick.failures for tick in ticks] == [1, 1, 1], [
            o.error for tick in ticks for o in tick.outcomes]
        assert _stored(sessions) == []
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.cursor == cursor_before, "the cursor moved past posts never stored"
            # The database's failure, not the source's: no streak, no growing backoff.
            assert row.consecutive_failures == 0
            assert row.last_success_at is None
            assert row.next_poll_at is not None and row.last_error_at is not None
            assert row.next_poll_at - row.last_error_at == timedelta(
                seconds=row.interval_seconds)
            assert _busy(row) == ("database_busy", "LockNotAvailable")
            assert "nothing was lost" in (row.last_error or "")
        (view,) = list_sources(sessions, workspace_id)
        english = build_source_list([view], "en")[1][0]["text"]["text"]
        french = build_source_list([view], "fr")[1][0]["text"]["text"]
        assert "The database could not store this poll (LockNotAvailable" in english
        assert "La base de données n'a pas pu enregistrer cette collecte" in french
        assert "internal" not in english.lower() and "interne" not in french
        assert ":warning:" not in english and ":warning:" not in french  # not failing
        # Nor "healthy": the last poll stored nothing, which the health says first.
        assert ":white_check_mark:" not in english + french
        assert "waiting for the database" in english
        assert "en attente de la base de données" in french
        listed = vigie(Path.cwd(), "source", "list", VIGIE_DATABASE_URL=url).stdout
        assert listed.split()[3] == "waiting", listed  # the health column, not "ok"
        assert "0 failure(s)" not in listed and "waiting for the database" in listed, listed

        second = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
        assert second.failures == 0, [o.error for o in second.outcomes]
        assert second.totals.stored == POSTS
        assert _stored(sessions) == sorted(f"post-{n}" for n in range(POSTS))
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.consecutive_failures == 0 and row.last_error is None
    finally:
        locker.dispose()
        engine.dispose()


@pytest.fixture
def locked_vigie(postgres_database_factory: object, slack_standin: SlackStandIn
                 ) -> Iterator[VigieApp]:
    """Vigie's web app on PostgreSQL, its sessions giving up on a lock after 0.3 s."""
    url = _migrated(postgres_database_factory)
    yield from start_vigie(f"{url}?options={LOCK_TIMEOUT.replace(' ', '%20')}", slack_standin)


@pytest.mark.postgres
def test_a_push_the_database_cannot_store_now_is_answered_503_and_its_retry_stored_once(
    locked_vigie: VigieApp,
) -> None:
    vigie = locked_vigie
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    body = json.dumps([
        {"id": f"w-{n}", "url": f"https://hooks.example/{n}", "text": f"acme {n}",
         "author": {"handle": f"fan{n}"}, "published_at": f"2026-12-07T09:0{n}:00Z"}
        for n in range(3)]).encode()
    address = f"{vigie.url}/ingest/{source_id}"
    locker = create_engine(str(vigie.runtime.sessions.kw["bind"].url.set(query={})))
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            refused = httpx.post(address, content=body, headers=webhook_headers(secret, body))
            held.rollback()
    finally:
        locker.dispose()
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "30"
    assert "nothing was stored" in refused.json()["error"]
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0

    retried = httpx.post(address, content=body, headers=webhook_headers(secret, body))
    assert retried.status_code == 200, retried.text
    assert retried.json()["stored"] == 3 and retried.json()["skipped"] == 0
    again = httpx.post(address, content=body, headers=webhook_headers(secret, body))
    assert again.status_code == 200 and again.json()["stored"] == 0
    with vigie.runtime.sessions() as session:
        assert sorted(session.scalars(select(Mention.external_id))) == ["w-0", "w-1", "w-2"]


def test_sqlite_busy_is_passing_and_a_constraint_refusal_is_the_item(tmp_path: Path) -> None:
    """Real SQLite errors: a write while another connection holds the write lock is a
    passing failure; a row breaking a constraint is refused for its data."""
    path = tmp_path / "busy.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        setup.execute("INSERT INTO t VALUES (1)")
    holder = sqlite3.connect(path, isolation_level=None)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(DBAPIError) as busy, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        holder.execute("ROLLBACK")
        assert is_transient(busy.value) and not is_refused_item(busy.value)
        with pytest.raises(DBAPIError) as duplicate, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert is_refused_item(duplicate.value) and not is_transient(duplicate.value)
    finally:
        holder.close()
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_lock_timeout_is_passing_and_a_value_past_its_column_is_the_item(
    postgres_database_factory: object,
) -> None:
    """Real PostgreSQL errors, classified by their SQLSTATE."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (name VARCHAR(3))"))
        with engine.connect() as held, engine.connect() as waiting:
            held.execute(text("LOCK TABLE t IN SHARE MODE"))
            waiting.execute(text("SET lock_timeout = 100"))
            with pytest.raises(DBAPIError) as locked:
                waiting.execute(text("INSERT INTO t VALUES ('a')"))
            waiting.rollback()
            waiting.execute(text("SET statement_timeout = 50"))
            with pytest.raises(DBAPIError) as cancelled:
                waiting.execute(text("SELECT pg_sleep(5)"))
            waiting.rollback()
            # What an administrator's pg_cancel_backend does: 57014 as well.
            with pytest.raises(DBAPIError) as stopped:
                waiting.execute(text("SELECT pg_cancel_backend(pg_backend_pid()), "
                                     "pg_sleep(1)"))
            waiting.rollback()
            held.rollback()
        assert getattr(stopped.value.orig, "sqlstate", None) == "57014"
        for error in (locked.value, cancelled.value, stopped.value):
            assert is_transient(error) and not is_refused_item(error)
        # Only the statement timeout may pass in smaller statements; the lock would not,
        # nor would a statement someone cancelled.
        assert is_size_bound(cancelled.value) and not is_size_bound(locked.value)
        assert not is_size_bound(stopped.value)
        with pytest.raises(DBAPIError) as too_long, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('abcd')"))
        assert is_refused_item(too_long.value) and not is_transient(too_long.value)
    finally:
        engine.dispose()


def test_an_error_without_a_database_code_is_neither() -> None:
    """A Python error (a bug) is no passing failure, and drops no item."""
    error = ValueError("boom")
    assert not is_transient(error) and not is_refused_item(error)


SLOW_BULK = """
CREATE FUNCTION vigie_slow_bulk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM new_rows) > 1 THEN
        PERFORM pg_sleep(60);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER vigie_slow_bulk AFTER INSERT ON mentions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vigie_slow_bulk();
"""
"""A statement inserting more than one mention outlasts any statement_timeout; one
inserting a single mention takes no longer than without the trigger."""


@pytest.mark.postgres
def test_a_batch_always_slower_than_the_statement_timeout_is_stored_item_by_item(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """A role's statement_timeout (common on managed PostgreSQL) that a large batch's
    bulk insert always exceeds: the batch goes item by item, as a refused one does,
    where the poll failed for ever (backoff up to six hours) and stored nothing."""
    url = _migrated(postgres_database_factory)
    with create_engine(url).begin() as conn:
        conn.execute(text(SLOW_BULK))
    engine = make_engine(url, connect_args={"options": "-c statement_timeout=2000"})
    sessions = make_session_factory(engine)
    try:
        _rss_source(sessions, httpserver)
        with sessions() as session:
            cursor_before = session.scalars(select(SourceRow.cursor)).one()

        tick = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)

        assert tick.failures == 0, [o.error for o in tick.outcomes]
        assert tick.totals.stored == POSTS
        assert _stored(sessions) == sorted(f"post-{n}" for n in range(POSTS))
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.cursor != cursor_before
            assert row.consecutive_failures == 0 and row.last_error is None
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_a_value_past_a_program_limit_is_the_item(
    postgres_database_factory: object,
) -> None:
    """A real 54000 (program_limit_exceeded: a btree index row too large), which psycopg
    raises as an OperationalError: the item's data, never a passing failure."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (body TEXT)"))
            conn.execute(text("CREATE INDEX t_body ON t (body)"))
        with pytest.raises(DBAPIError) as too_large, engine.begin() as conn:
            conn.execute(text("INSERT INTO t SELECT string_agg(md5(n::text), '') "
                              "FROM generate_series(1, 1000) AS n"))
        assert getattr(too_large.value.orig, "sqlstate", None) == "54000"
        assert is_refused_item(too_large.value) and not is_transient(too_large.value)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_poll_held_by_a_lock_waits_for_it_once(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """A lock timeout on the batch's insert is no statement too slow for its size: the
    poll fails at once, where it went item by item and waited for the lock a second time
    (the first item) before failing. Counted as the lock timeouts the database raised."""
    url = _migrated(postgres_database_factory)
    engine = make_engine(url, connect_args={"options": LOCK_TIMEOUT})
    sessions = make_session_factory(engine)
    waits: list[str] = []

    @event.listens_for(engine, "handle_error")
    def _seen(context: ExceptionContext) -> None:
        code = getattr(context.original_exception, "sqlstate", None)
        if code == "55P03":  # lock_not_available
            waits.append(code)

    locker = create_engine(url)
    try:
        _rss_source(sessions, httpserver)
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            tick = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
            held.rollback()

        assert tick.failures == 1
        assert len(waits) == 1, f"{len(waits)} lock waits for one poll"
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert _busy(row) == ("database_busy", "LockNotAvailable")
        second = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
        assert second.failures == 0 and second.totals.stored == POSTS
    finally:
        locker.dispose()
        engine.dispose()


POISON_INSERT = """
CREATE FUNCTION vigie_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows WHERE external_id = 'w-poison') THEN
        PERFORM pg_sleep(60);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER vigie_poison AFTER INSERT ON mentions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vigie_poison();
"""
"""Any statement inserting the post ``w-poison`` outlasts any statement_timeout: a post
the database can never store, for a passing reason (what a huge post's index entries can
cost on a slow disk); the others store as fast as without the trigger."""


def _push(vigie: VigieApp, source_id: int, secret: str, ids: list[str]) -> httpx.Response:
    body = json.dumps([
        {"id": post, "url": f"https://hooks.example/{post}", "text": f"acme {post}",
         "author": {"handle": "fan"}, "published_at": "2026-12-07T09:00:00Z"}
        for post in ids]).encode()
    return httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                      headers=webhook_headers(secret, body), timeout=30)


@pytest.fixture
def slow_vigie(postgres_database_factory: object, slack_standin: SlackStandIn
               ) -> Iterator[VigieApp]:
    """Vigie's web app on PostgreSQL, its statements cancelled after 1 s, where inserting
    the post ``w-poison`` always takes longer."""
    url = _migrated(postgres_database_factory)
    with create_engine(url).begin() as conn:
        conn.execute(text(POISON_INSERT))
    options = "-c statement_timeout=1000".replace(" ", "%20")
    yield from start_vigie(f"{url}?options={options}", slack_standin)


@pytest.mark.postgres
def test_a_push_holding_a_post_the_database_never_stores_is_refused_only_for_the_grace(
    slow_vigie: VigieApp,
) -> None:
    """A post whose own insert always exceeds the statement timeout made its push answer
    503 to every retry, for ever (only the log said so). Past BUSY_GRACE since it first
    failed, the push stores the others, skips that one and is answered 200; until then
    it is refused, and the source's health says the database is waiting."""
    vigie = slow_vigie
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    posts = ["w-0", "w-poison", "w-2"]

    for _ in range(2):
        refused = _push(vigie, source_id, secret, posts)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "30"
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0
        row = session.get(SourceRow, source_id)
        assert row is not None and row.consecutive_failures == 0
        assert _busy(row) == ("database_busy_push", "QueryCanceled")
        workspace_id = row.workspace_id
    (view,) = list_sources(vigie.runtime.sessions, workspace_id)
    assert view.waiting_for_database
    for language, words in (("en", "could not store the last push"),
                            ("fr", "pas pu enregistrer le dernier envoi")):
        assert words in build_source_list([view], language)[1][0]["text"]["text"]

    # As if the first refusal was BUSY_GRACE ago (whatever the push remembers it by).
    long_ago = (utcnow() - BUSY_GRACE - timedelta(minutes=1)).isoformat()
    with vigie.runtime.sessions.begin() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.cursor["unstored"]
        row.cursor = {**row.cursor, "unstored": dict.fromkeys(row.cursor["unstored"], long_ago)}

    stored = _push(vigie, source_id, secret, posts)
    assert stored.status_code == 200, stored.text
    assert stored.json()["stored"] == 2 and stored.json()["skipped"] == 1
    with vigie.runtime.sessions() as session:
        assert sorted(session.scalars(select(Mention.external_id))) == ["w-0", "w-2"]
        row = session.get(SourceRow, source_id)
        assert row is not None and "w-poison" in (row.last_error or "")
    (view,) = list_sources(vigie.runtime.sessions, workspace_id)
    assert not view.waiting_for_database
    # Pushed again (its sender lost the answer): skipped at once, not refused again.
    again = _push(vigie, source_id, secret, ["w-poison", "w-3"])
    assert again.status_code == 200, again.text
    assert again.json()["stored"] == 1 and again.json()["skipped"] == 1


@pytest.mark.postgres
def test_a_push_held_by_a_lock_past_the_grace_skips_no_post(
    locked_vigie: VigieApp,
) -> None:
    """A lock held longer than BUSY_GRACE says nothing of the posts: the push is still
    refused (none is skipped, so none is lost), and the webhook now shows failing."""
    vigie = locked_vigie
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    with vigie.runtime.sessions.begin() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None
        row.created_at -= BUSY_GRACE + timedelta(minutes=1)
    locker = create_engine(str(vigie.runtime.sessions.kw["bind"].url.set(query={})))
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            first = _push(vigie, source_id, secret, ["w-0", "w-1"])
            _busy_since(vigie.runtime.sessions, source_id,
                        utcnow() - BUSY_GRACE - timedelta(minutes=1))
            refused = _push(vigie, source_id, secret, ["w-0", "w-1"])
            held.rollback()
    finally:
        locker.dispose()
    assert first.status_code == 503, first.text
    assert refused.status_code == 503, refused.text
    with vigie.runtime.sessions() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.consecutive_failures == 1
        assert _busy(row) == ("database_busy_push", "LockNotAvailable")
    retried = _push(vigie, source_id, secret, ["w-0", "w-1"])
    assert retried.status_code == 200 and retried.json()["stored"] == 2


@pytest.mark.postgres
def test_a_lock_under_a_statement_timeout_alone_fails_a_poll_once_as_a_lock(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """With only statement_timeout set (a managed database's usual setting), a lock wait
    ended as a statement timeout (57014): the poll took it for a batch too slow for its
    size, went item by item and waited for the lock a second time. Its lock waits now end
    as lock timeouts, half the statement timeout: one wait, a lock's."""
    url = _migrated(postgres_database_factory)
    engine = make_engine(url, connect_args={"options": "-c statement_timeout=1000"})
    sessions = make_session_factory(engine)
    failed: list[str | None] = []

    @event.listens_for(engine, "handle_error")
    def _seen(context: ExceptionContext) -> None:
        failed.append(getattr(context.original_exception, "sqlstate", None))

    locker = create_engine(url)
    try:
        _rss_source(sessions, httpserver)
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            tick = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
            held.rollback()

        assert tick.failures == 1
        assert failed == ["55P03"], f"{failed}: the poll's statements that failed"
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.last_error_reasons is not None
            assert row.last_error_reasons[0][1]["type"] == "LockNotAvailable"
        second = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
        assert second.failures == 0 and second.totals.stored == POSTS
    finally:
        locker.dispose()
        engine.dispose()


@pytest.mark.postgres
def test_a_push_held_by_a_lock_under_a_statement_timeout_alone_skips_no_post(
    slow_vigie: VigieApp,
) -> None:
    """With only statement_timeout set, a lock wait ended as a statement timeout: the
    webhook remembered the post as one whose own insert times out, and a push held by a
    lock past BUSY_GRACE skipped it (answered 200: lost for good). A lock now ends as a
    lock timeout: the push is refused until the lock is gone, then stored."""
    vigie = slow_vigie
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    locker = create_engine(str(vigie.runtime.sessions.kw["bind"].url.set(query={})))
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            first = _push(vigie, source_id, secret, ["w-0"])
            # As if the lock had held the post since BUSY_GRACE ago.
            long_ago = (utcnow() - BUSY_GRACE - timedelta(minutes=1)).isoformat()
            with vigie.runtime.sessions.begin() as session:
                row = session.get(SourceRow, source_id)
                assert row is not None
                unstored = dict.fromkeys((row.cursor or {}).get("unstored", {}), long_ago)
                row.cursor = {**row.cursor, "unstored": unstored} if unstored else row.cursor
            second = _push(vigie, source_id, secret, ["w-0"])
            held.rollback()
    finally:
        locker.dispose()
    assert first.status_code == 503, first.text
    assert second.status_code == 503, second.text
    with vigie.runtime.sessions() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and not (row.cursor or {}).get("unstored")
        assert row.last_error_reasons is not None
        assert row.last_error_reasons[0][1]["type"] == "LockNotAvailable"
    stored = _push(vigie, source_id, secret, ["w-0"])
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text


@pytest.mark.postgres
def test_one_refused_poll_after_a_long_pause_is_no_failure_of_the_source(
    postgres_database_factory: object, httpserver: HTTPServer,
) -> None:
    """A source that stored no poll for long (paused, or its workers stopped) counted its
    first poll refused by a passing lock as its failure, shown failing and backed off: the
    grace was measured from its last stored poll. It is measured from the first refusal."""
    url = _migrated(postgres_database_factory)
    engine = make_engine(url, connect_args={"options": LOCK_TIMEOUT})
    sessions = make_session_factory(engine)
    locker = create_engine(url)
    try:
        workspace_id = _rss_source(sessions, httpserver)
        with transaction(sessions) as session:
            row = session.scalars(select(SourceRow)).one()
            row.interval_seconds = 6 * 3600
            row.last_success_at = utcnow() - timedelta(days=2)  # resumed after a pause
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            tick = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
            held.rollback()

        assert tick.failures == 1
        with sessions() as session:
            row = session.scalars(select(SourceRow)).one()
            assert row.consecutive_failures == 0
            assert _busy(row) == ("database_busy", "LockNotAvailable")
        (view,) = list_sources(sessions, workspace_id)
        assert view.waiting_for_database
        for language in ("en", "fr"):
            assert ":warning:" not in build_source_list([view], language)[1][0]["text"]["text"]
    finally:
        locker.dispose()
        engine.dispose()


@pytest.mark.postgres
def test_one_refused_push_on_a_quiet_webhook_is_no_failure_of_it(
    locked_vigie: VigieApp,
) -> None:
    """A webhook whose last push was stored an hour ago showed "1 failure(s) in a row"
    (and counted among the failing sources) after one push a brief lock refused: the
    grace measured how quiet it was, not how long the database had been busy."""
    vigie = locked_vigie
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    assert _push(vigie, source_id, secret, ["w-0"]).status_code == 200
    with vigie.runtime.sessions.begin() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.last_success_at is not None
        row.last_success_at -= timedelta(hours=1)
        row.created_at -= timedelta(hours=2)
        workspace_id = row.workspace_id
    locker = create_engine(str(vigie.runtime.sessions.kw["bind"].url.set(query={})))
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE mentions IN SHARE MODE"))
            refused = _push(vigie, source_id, secret, ["w-1"])
            held.rollback()
    finally:
        locker.dispose()
    assert refused.status_code == 503, refused.text
    with vigie.runtime.sessions() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.consecutive_failures == 0
        assert _busy(row) == ("database_busy_push", "LockNotAvailable")
    (view,) = list_sources(vigie.runtime.sessions, workspace_id)
    assert view.waiting_for_database
    for language in ("en", "fr"):
        assert ":warning:" not in build_source_list([view], language)[1][0]["text"]["text"]
    assert _push(vigie, source_id, secret, ["w-1"]).status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["database", "role"])
def test_a_connection_refused_for_good_is_no_passing_outage(
        postgres_database_factory: object, target: str) -> None:
    # psycopg gives every connect failure no SQLSTATE: a database or role that does not
    # exist (dropped, a password rotated) is a configuration error, not "try again".
    url = make_url(_migrated(postgres_database_factory))
    wrong = (url.set(database=f"{url.database}_missing") if target == "database"
             else url.set(username="vigie_no_such_role"))
    with (pytest.raises(DBAPIError) as refused,
          make_engine(wrong.render_as_string(hide_password=False)).connect() as conn):
        conn.execute(text("SELECT 1"))
    assert not is_transient(refused.value)
    # A server that does not answer at all is one.
    closed = url.set(host="127.0.0.1", port=_closed_port())
    with (pytest.raises(DBAPIError) as unanswered,
          make_engine(closed.render_as_string(hide_password=False)).connect() as conn):
        conn.execute(text("SELECT 1"))
    assert is_transient(unanswered.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
