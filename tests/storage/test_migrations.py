"""Every migration goes up and down cleanly on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Index, MetaData, inspect, select, text
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.elements import ColumnClause

from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.oauth import OAUTH_METADATA
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage import migrations
from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory, transaction
from storage.models import POSTGRES_TRIGGER_KEPT_KEYS, Author, Base, Workspace
from storage.models_influencers import TrackedInfluencer
from storage.models_search import is_search_index_table


def _modelled(name: str | None, kind: str, _parents: object) -> bool:
    """Leave out the full-text index tables: engine-specific, made by raw DDL (0023)."""
    return not (kind == "table" and name is not None and is_search_index_table(name))


def _declared(postgres: bool) -> object:
    """Compare every object but, on PostgreSQL, the keys its triggers keep instead (0033)."""
    def include(_object: object, name: str | None, kind: str, reflected: bool,
                _compare_to: object) -> bool:
        return not (postgres and kind == "foreign_key_constraint" and not reflected
                    and name in POSTGRES_TRIGGER_KEPT_KEYS)
    return include


def _expression_indexes(metadata: MetaData) -> list[Index]:
    """The indexes of ``metadata`` on an expression (``lower(name)``), not only columns."""
    return [index for table in metadata.tables.values() for index in table.indexes
            if any(not isinstance(e, ColumnClause) or e.is_literal for e in index.expressions)]


def _check_sqlite_expression_indexes(conn: Connection, metadata: MetaData) -> None:
    """SQLAlchemy cannot reflect an index on an expression from SQLite (it skips it with a
    warning, and autogenerate leaves it out): each one the models declare is looked up in
    sqlite_master and must be the statement the models would emit."""
    def spaced(sql: str) -> str:
        return re.sub(r"\s+", " ", sql).strip()

    for index in _expression_indexes(metadata):
        found = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                  "AND name = :name"), {"name": index.name}).scalar()
        assert found is not None, f"index {index.name} is missing"
        assert spaced(found) == spaced(str(CreateIndex(index).compile(dialect=conn.dialect)))


def _roundtrip(url: str) -> None:
    engine = make_engine(url)
    try:
        migrations.upgrade(url)
        assert migrations.current_revision(engine) == migrations.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        expected = MetaData()
        for table in [*Base.metadata.tables.values(), *OAUTH_METADATA.tables.values()]:
            table.to_metadata(expected)
        with engine.connect() as conn, warnings.catch_warnings():
            if conn.dialect.name == "sqlite":
                warnings.filterwarnings("ignore", ".*expression-based index")
                _check_sqlite_expression_indexes(conn, expected)
            context = MigrationContext.configure(conn, opts={
                "include_name": _modelled,
                "include_object": _declared(conn.dialect.name == "postgresql")})
            diff = compare_metadata(context, expected)
        assert diff == [], f"models and migrations differ: {diff}"
        migrations.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert migrations.current_revision(engine) is None
        migrations.upgrade(url)
        assert migrations.current_revision(engine) == migrations.head_revision()
    finally:
        engine.dispose()


def test_sqlite_up_down_up(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_up_down_up(fresh_postgres_url: str) -> None:
    _roundtrip(fresh_postgres_url)


def test_step_by_step_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steps.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    while migrations.current_revision(engine) is not None:
        migrations.downgrade(url, "-1")
    engine.dispose()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_authors_stored_before_0050_get_the_handle_key_from_searches_by(tmp_path: Path
                                                                        ) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrations.upgrade(url, "0049")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval, "
                "settings, created_at) VALUES ('T1', 'en', 'UTC', 0, '{}', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO authors (workspace_id, network, handle, verified, mention_count, "
                "first_seen_at, last_seen_at) VALUES (1, 'mastodon', :h, 0, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                [{"h": "@Élodie@piaille.fr"}, {"h": "Alice.bsky.social"}, {"h": "bob"}])
        migrations.upgrade(url)
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT handle, handle_key FROM authors ORDER BY id")).all()
        assert [tuple(row) for row in keys] == [("@Élodie@piaille.fr", "elodie"),
                                                ("Alice.bsky.social", "alice"), ("bob", "bob")]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_migration_statement_past_its_time_stops_with_what_to_do(
        postgres_database_factory: object) -> None:
    """A statement guard on PostgreSQL: one that runs (here: waits for a table another
    session holds, with no lock timeout) past ``statement_timeout`` is cancelled, and the
    upgrade says what to do instead of going on for as long as it takes."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url, "0049")
    engine = make_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE authors IN ACCESS SHARE MODE"))
            with pytest.raises(migrations.MigrationBlocked) as blocked:
                migrations.upgrade(url, lock_timeout=0, statement_timeout=0.5)
            holder.rollback()
        message = str(blocked.value)
        assert "a statement ran longer than 0.5 s (ALTER TABLE authors" in message
        assert "the database is at 0049" in message
        assert "VIGIE_MIGRATION_STATEMENT_TIMEOUT_SECONDS" in message
        migrations.upgrade(url)
        assert migrations.is_current(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_blocked_downgrade_says_to_run_the_downgrade_again(
        postgres_database_factory: object) -> None:
    """A downgrade that gives up waiting for a lock names the downgrade as what to run
    again: it said `vigie db upgrade`, which would undo the part already rolled back."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE mentions IN ACCESS SHARE MODE"))
            with pytest.raises(migrations.MigrationBlocked) as blocked:
                migrations.downgrade(url, "0050", lock_timeout=0.5)
            holder.rollback()
        message = str(blocked.value)
        assert "run `vigie db downgrade 0050` again in a moment" in message, message
        assert "vigie db upgrade" not in message, message
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_feed_authors_stored_before_0055_are_split_by_site_and_merged_back(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A byline stored for two sites' posts becomes one author per site (their mentions,
    counts and tracking with them); mentions of no feed source stay on the byline's row,
    and a one-site author keeps its row. The downgrade merges them back."""
    url = (f"sqlite:///{tmp_path / 'sites.db'}" if database == "sqlite"
           else str(request.getfixturevalue("fresh_postgres_url")))
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        ids = _feed_authors_before_0055(engine)
        migrations.downgrade(url, "0054")
        migrations.upgrade(url)
        query = text("SELECT a.handle, a.site, a.handle_key, a.mention_count, m.external_id, "
                     "t.id IS NOT NULL FROM authors a JOIN mentions m ON m.author_id = a.id "
                     "LEFT JOIN tracked_influencers t ON t.author_id = a.id "
                     "ORDER BY a.handle, m.external_id")
        with engine.connect() as conn:
            rows = [tuple(row) for row in conn.execute(query)]
            kept = dict(conn.execute(text("SELECT handle, id FROM authors")).tuples().all())
        assert rows == [
            ("@ana", None, "ana", 2, "x1", False),
            ("@ana", None, "ana", 2, "x2", False),
            ("Admin", None, "admin", 1, "w1", True),
            ("Admin@blog-a.example", "blog-a.example", "admin", 2, "a1", True),
            ("Admin@blog-a.example", "blog-a.example", "admin", 2, "a2", True),
            ("Admin@blog-b.example", "blog-b.example", "admin", 1, "b1", True),
            ("John Smith@blog-a.example", "blog-a.example", "john smith", 1, "a3", False),
        ]
        assert kept["Admin"] == ids["Admin"]
        assert kept["John Smith@blog-a.example"] == ids["John Smith"]

        migrations.downgrade(url, "0054")
        with engine.connect() as conn:
            rows = [tuple(row) for row in conn.execute(text(
                "SELECT a.id, a.handle, a.handle_key, a.mention_count, m.external_id "
                "FROM authors a JOIN mentions m ON m.author_id = a.id "
                "ORDER BY a.handle, m.external_id"))]
            tracked = list(conn.execute(text(
                "SELECT author_id FROM tracked_influencers")).scalars())
        admin, smith = ids["Admin"], ids["John Smith"]
        assert rows == [*((ids["@ana"], "@ana", "ana", 2, e) for e in ("x1", "x2")),
                        *((admin, "Admin", "admin", 4, e) for e in ("a1", "a2", "b1", "w1")),
                        (smith, "John Smith", "john smith", 1, "a3")]
        assert tracked == [admin]
        migrations.upgrade(url)
    finally:
        engine.dispose()


def _feed_authors_before_0055(engine: Engine) -> dict[str, int]:
    """Authors as ingest stored feed entries before 0055 (the byline alone), from two
    feed sources, a mention of no source and X posts; the byline "Admin" is tracked.
    Returns their ids by handle."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T1")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id="C0123ABCD")
    sources = [do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                             values={"url": f"https://{site}/feed.xml"}).id
               for site in ("blog-a.example", "www.blog-b.example")]

    def post(network: str, external_id: str, handle: str, url: str) -> FetchedMention:
        return FetchedMention(network=network, external_id=external_id, url=url,
                              text=f"Acme news {external_id}",
                              author=FetchedAuthor(handle=handle), published_at=now)

    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        for source_id, items in (
                (sources[0], [post("rss", "a1", "Admin", "https://blog-a.example/1"),
                              post("rss", "a2", "Admin", "https://BLOG-A.example/2"),
                              post("rss", "a3", "John Smith", "https://blog-a.example/3"),
                              # A feed labelled x before such labels were refused: X's.
                              post("x", "x2", "@ana", "https://blog-a.example/4")]),
                (sources[1], [post("rss", "b1", "Admin", "https://www.blog-b.example/1")]),
                (None, [post("rss", "w1", "Admin", "https://hook.example/1"),
                        post("x", "x1", "@ana", "https://x.com/ana/status/1")])):
            do_ingest(session, watch, source_id, items, now=now)
        ids = {a.handle: a.id for a in session.scalars(select(Author))}
        session.add(TrackedInfluencer(workspace_id=workspace_id, author_id=ids["Admin"],
                                      created_at=now))
    return ids
