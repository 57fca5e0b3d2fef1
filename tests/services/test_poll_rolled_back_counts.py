"""A poll whose transaction rolled back stored nothing, and says so (review of `vigie poll`).

The counts of a source's ingest were kept after its transaction failed at commit: `vigie
poll` printed "1 failed: stored 5 mention(s), 5 alert(s)" with no mention in the
database, and `vigie run` counted them in its log and its ingested metric. The failure is
real: a trigger refusing the source's success write (SQLite), or ending the connection
in the middle of the transaction (PostgreSQL), after the mentions were inserted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from storage import migrations
from storage.db import make_engine, make_session_factory
from storage.models import Mention
from tests.bot.test_cli import vigie

POSTS = 5

SQLITE_FAIL = """
CREATE TRIGGER vigie_test_fail BEFORE UPDATE OF last_success_at ON sources
BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
"""
POSTGRES_FAIL = [
    """CREATE FUNCTION vigie_test_die() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$""",
    """CREATE TRIGGER vigie_test_die BEFORE UPDATE ON sources FOR EACH ROW
    WHEN (NEW.last_success_at IS DISTINCT FROM OLD.last_success_at)
    EXECUTE FUNCTION vigie_test_die()""",
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new migrated database (its triggers are the test's own)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'vigie.db'}"
    else:
        url = request.getfixturevalue("postgres_database_factory")()
    migrations.upgrade(url)
    return url


def _feed() -> str:
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>acme problem {n}</title><link>https://f.example/p/{n}</link>"
        f"<guid>https://f.example/p/{n}</guid><description>acme broken {n}</description>"
        f"<pubDate>{now}</pubDate></item>" for n in range(POSTS))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}'
            "</channel></rss>")


def _mentions(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(Mention)) or 0)
    finally:
        engine.dispose()


def _fail_the_success_write(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in ([SQLITE_FAIL] if engine.dialect.name == "sqlite"
                              else POSTGRES_FAIL):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_a_poll_rolled_back_counts_nothing_stored(
    fresh_url: str, tmp_path: Path, httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        _feed(), content_type="application/rss+xml")
    env = {"VIGIE_DATABASE_URL": fresh_url, "VIGIE_BACKFILL_HOURS": "0"}
    added = vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                  "C0123ABCD", "--alert-threshold", "0", **env)
    assert added.returncode == 0, added.stderr
    source = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url",
                   httpserver.url_for("/feed"), **env)
    assert source.returncode == 0, source.stderr
    _fail_the_success_write(fresh_url)

    polled = vigie(tmp_path, "poll", "--once", **env)
    assert _mentions(fresh_url) == 0
    assert "Polled 1 source(s), 1 failed: stored 0 mention(s), 0 alert(s)." in polled.stdout, (
        polled.stdout + polled.stderr)
    assert "[1/1] #1 rss (acme): FAILED" in polled.stdout


def test_a_poll_the_database_failed_logs_no_statement_values(
    fresh_url: str, tmp_path: Path, httpserver: HTTPServer,
) -> None:
    """The failure is logged without the failed statement's values (personal data); a
    lost connection (PostgreSQL) is one warning line, not a traceback."""
    httpserver.expect_request("/feed").respond_with_data(
        _feed(), content_type="application/rss+xml")
    env = {"VIGIE_DATABASE_URL": fresh_url, "VIGIE_BACKFILL_HOURS": "0"}
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0123ABCD", **env).returncode == 0
    assert vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url",
                 httpserver.url_for("/feed"), **env).returncode == 0
    _fail_the_success_write(fresh_url)

    polled = vigie(tmp_path, "poll", "--once", **env)
    logged = polled.stderr
    assert "polling source 1 (rss)" in logged, polled.stdout + logged
    assert "[parameters:" not in logged and "https://f.example/p/" not in logged, logged
    if fresh_url.startswith("postgresql"):
        assert "Traceback" not in logged, logged
        assert ("polling source 1 (rss): the database could not store this poll "
                "(AdminShutdown)") in logged
