"""Migration 0036: a watch's or a group's name is unique in its workspace whatever its case.
Names an older Vigie let in twice in different cases are renamed (the oldest keeps its
name, the others get the first free ``-N``, within 40 characters) and logged, then the
database refuses a name that differs only in case; the downgrade drops the refusal and
keeps the names. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import migrations
from storage.db import make_engine, transaction
from storage.models import Watch, Workspace
from storage.models_competitors import WatchGroup

WORKSPACE = (
    "INSERT INTO workspaces (id, team_id, locale, timezone, allow_self_approval, settings, "
    "created_at) VALUES (:id, :team, 'en', 'UTC', false, '{}', '2026-03-28 21:00:00')")
WATCH = (
    "INSERT INTO watches (id, workspace_id, name, query, channel_id, alert_threshold, weight, "
    "sla_urgent_minutes, sla_high_minutes, sla_normal_minutes, paused, kind, created_at, "
    "updated_at) VALUES (:id, :ws, :name, '', 'C1', 60, 1.0, 60, 240, 1440, false, 'brand', "
    "'2026-03-28 21:00:00', '2026-03-28 21:00:00')")
GROUP = ("INSERT INTO watch_groups (id, workspace_id, name, conquest, created_at) "
         "VALUES (:id, :ws, :name, false, '2026-03-28 21:00:00')")
LONG = "L" + "o" * 39
"""A name of the longest length allowed (40): its renamed duplicate must be shortened."""

# (id, workspace, name) as an older Vigie could leave them: ids 2, 3 and 6 repeat an
# older row's name in another case; "ACME-2" holds the first free-looking suffix.
WATCHES = [(1, 1, "Acme"), (2, 1, "acme"), (3, 1, "ACME"), (4, 1, "ACME-2"), (5, 1, LONG),
           (6, 1, LONG.upper()), (7, 2, "acme"), (8, 2, "beta")]
RENAMED_WATCHES = {1: "Acme", 2: "acme-3", 3: "ACME-4", 4: "ACME-2", 5: LONG,
                   6: LONG.upper()[:38] + "-2", 7: "acme", 8: "beta"}
GROUPS = [(1, 1, "Rivals"), (2, 1, "rivals"), (3, 2, "RIVALS")]
RENAMED_GROUPS = {1: "Rivals", 2: "rivals-2", 3: "RIVALS"}
INDEXES = {"watches": "uq_watches_workspace_id_lower_name",
           "watch_groups": "uq_watch_groups_workspace_id_lower_name"}


def _names(url: str, table: str) -> dict[int, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = dict(conn.execute(text(f"SELECT id, name FROM {table}")).tuples().all())  # noqa: S608
    engine.dispose()
    return found


def _indexed(url: str) -> set[str]:
    """Which of the two indexes the database has (SQLAlchemy cannot reflect an index on
    an expression from SQLite: each engine's catalog is read instead)."""
    engine = make_engine(url)
    catalog = ("SELECT name FROM sqlite_master WHERE type = 'index'"
               if engine.dialect.name == "sqlite" else "SELECT indexname FROM pg_indexes")
    with engine.connect() as conn:
        found = set(conn.execute(text(catalog)).scalars()) & set(INDEXES.values())
    engine.dispose()
    return found


def _insert(url: str, statement: str, **values: object) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), values)
    finally:
        engine.dispose()


def _round_trip(url: str, caplog: pytest.LogCaptureFixture) -> None:
    migrations.upgrade(url, "0035")
    engine = make_engine(url)
    with engine.begin() as conn:
        for workspace in (1, 2):
            conn.execute(text(WORKSPACE), {"id": workspace, "team": f"T{workspace}"})
        for row_id, workspace, name in WATCHES:
            conn.execute(text(WATCH), {"id": row_id, "ws": workspace, "name": name})
        for row_id, workspace, name in GROUPS:
            conn.execute(text(GROUP), {"id": row_id, "ws": workspace, "name": name})
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="vigie.migrations"):
        migrations.upgrade(url, "0036")
    assert _names(url, "watches") == RENAMED_WATCHES
    assert _names(url, "watch_groups") == RENAMED_GROUPS
    logged = [r.getMessage() for r in caplog.records if r.name == "vigie.migrations"]
    assert logged == [
        "watches: workspace 1 had 'acme' twice in different cases; the newer one is now "
        "called 'acme-3'",
        "watches: workspace 1 had 'ACME' twice in different cases; the newer one is now "
        "called 'ACME-4'",
        f"watches: workspace 1 had {LONG.upper()!r} twice in different cases; the newer one "
        f"is now called {RENAMED_WATCHES[6]!r}",
        "watch_groups: workspace 1 had 'rivals' twice in different cases; the newer one is "
        "now called 'rivals-2'"], logged
    assert _indexed(url) == set(INDEXES.values())
    with pytest.raises(IntegrityError):
        _insert(url, WATCH, id=20, ws=2, name="BETA")
    with pytest.raises(IntegrityError):
        _insert(url, GROUP, id=20, ws=1, name="RIVALS")
    _insert(url, WATCH, id=20, ws=2, name="Rivals")  # another table, another namespace
    _insert(url, GROUP, id=20, ws=2, name="acme")

    migrations.downgrade(url, "0035")
    assert not _indexed(url)
    assert _names(url, "watches") == {**RENAMED_WATCHES, 20: "Rivals"}
    _insert(url, WATCH, id=21, ws=2, name="BETA")  # as before 0036
    _insert(url, GROUP, id=21, ws=1, name="RIVALS")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM watches WHERE id = 21"))
        conn.execute(text("DELETE FROM watch_groups WHERE id = 21"))
    engine.dispose()
    migrations.upgrade(url)
    assert _indexed(url) == set(INDEXES.values())


def test_sqlite_case_only_duplicates_renamed_then_refused(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm36.db'}", caplog)


@pytest.mark.postgres
def test_postgres_case_only_duplicates_renamed_then_refused(
        fresh_postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _round_trip(fresh_postgres_url, caplog)


def test_the_database_refuses_a_name_differing_only_in_case(
        sessions: sessionmaker[Session]) -> None:
    """Whatever the services check: a second ``Acme`` as ``acme``, watch or group, breaks
    the unique index; the same name in another workspace does not."""
    with transaction(sessions) as session:
        first, second = Workspace(team_id="T1"), Workspace(team_id="T2")
        session.add_all([first, second])
        session.flush()
        ids = first.id, second.id
        session.add_all([Watch(workspace_id=ids[0], name="Acme", channel_id="C1"),
                         WatchGroup(workspace_id=ids[0], name="Rivals")])
    for row in (Watch(workspace_id=ids[0], name="acme", channel_id="C1"),
                WatchGroup(workspace_id=ids[0], name="RIVALS")):
        with pytest.raises(IntegrityError), transaction(sessions) as session:
            session.add(row)
            session.flush()
    with transaction(sessions) as session:
        session.add_all([Watch(workspace_id=ids[1], name="acme", channel_id="C1"),
                         WatchGroup(workspace_id=ids[1], name="RIVALS")])
    with sessions() as session:
        assert sorted(session.scalars(Watch.__table__.select().with_only_columns(
            Watch.name))) == ["Acme", "acme"]
