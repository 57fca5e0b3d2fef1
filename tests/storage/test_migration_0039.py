"""Migration 0039: follow-ups stored before the ``follow_up`` status, still ``new``, get it;
a case's first mention, a follow-up someone already worked and a mention in no case keep
theirs; the downgrade gives ``new`` back. Rows are inserted as the schema at 0038 has them
(Core inserts into the reflected tables), on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import ColumnDefault, Connection, MetaData, String, Table, inspect, text

from storage import migrations
from storage.db import make_engine
from storage.migrations import SCRIPT_LOCATION
from storage.models import Mention, Workspace
from storage.models_cases import Case, CasePost

WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# external id -> status as an older Vigie left it.
MENTIONS = {
    "root": "assigned",       # case 1's first mention: carries the work
    "again": "new",           # the customer wrote again: phantom New -> follow_up
    "later": "new",           # and again
    "worked": "assigned",     # a follow-up someone assigned: kept
    "dropped": "ignored",     # a follow-up ignored: kept
    "alone": "new",           # in no case
    "root2": "new",           # case 2's first mention, still new: kept
    "both": "new",            # a follow-up of case 2 that an older race made case 3's root
    "next": "new",            # case 3's follow-up
}
FOLLOW_UPS = {"again", "later", "next"}


def _insert(conn: Connection, model: type[Any], row: dict[str, object]) -> int:
    """A row of ``model``'s table as the schema at 0038 has it: the model's later columns
    must not be in the INSERT; its Python defaults fill the columns the row leaves out."""
    table = Table(model.__tablename__, MetaData(), autoload_with=conn, resolve_fks=False)
    for column in model.__table__.columns:
        if column.name in table.c and column.name not in row and not column.primary_key \
                and isinstance(column.default, ColumnDefault):
            arg = column.default.arg
            row[column.name] = arg(None) if callable(arg) else arg
    return int(conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one())


def _seed(url: str) -> dict[str, int]:
    """Three cases as an older Vigie filed them; external id -> mention id."""
    engine = make_engine(url)
    with engine.begin() as conn:
        workspace = _insert(conn, Workspace, {"team_id": "T0MIG39"})
        ids = {eid: _insert(conn, Mention, {
            "workspace_id": workspace, "network": "x", "external_id": eid,
            "url": f"https://x.example/{eid}", "text": eid, "published_at": WHEN,
            "status": status}) for eid, status in MENTIONS.items()}
        cases = {}
        for number, (root, key) in enumerate([("root", "root"), ("root2", "root2"),
                                               ("both", "both")], start=1):
            cases[number] = _insert(conn, Case, {
                "workspace_id": workspace, "network": "x", "thread_key": key,
                "customer": f"customer{number}", "root_mention_id": ids[root]})
        posts = [(1, "root"), (1, "again"), (1, "later"), (1, "worked"), (1, "dropped"),
                 (2, "root2"), (2, "both"), (3, "next")]
        for number, eid in posts:
            _insert(conn, CasePost, {
                "workspace_id": workspace, "case_id": cases[number], "mention_id": ids[eid],
                "network": "x", "external_id": eid, "author": f"customer{number}",
                "published_at": WHEN})
        _insert(conn, CasePost, {  # the brand's answer: a case post with no mention
            "workspace_id": workspace, "case_id": cases[1], "mention_id": None,
            "network": "x", "external_id": "brand-answer", "by_brand": True,
            "author": "acme", "published_at": WHEN})
    engine.dispose()
    return ids


def _states(url: str) -> dict[str, tuple[str, int]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {eid: (status, int(version)) for eid, status, version in conn.execute(text(
            "SELECT external_id, status, version FROM mentions"))}
    engine.dispose()
    return found


def _migration() -> ModuleType:
    """A private copy of the migration module (its functions, for small batches)."""
    path = SCRIPT_LOCATION / "versions" / "0039_follow_up_status.py"
    spec = importlib.util.spec_from_file_location("vigie_migration_0039_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_status_column(url: str) -> None:
    """``follow_up`` fits the column as it is: VARCHAR(24), no enum, no check on it."""
    engine = make_engine(url)
    inspector = inspect(engine)
    column = next(c for c in inspector.get_columns("mentions") if c["name"] == "status")
    assert isinstance(column["type"], String), column["type"]
    assert column["type"].length == 24
    assert not [c for c in inspector.get_check_constraints("mentions")
                if "status" in str(c.get("sqltext", ""))]
    engine.dispose()


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0038")
    _check_status_column(url)
    _seed(url)
    before = {eid: (status, 1) for eid, status in MENTIONS.items()}
    assert _states(url) == before

    migrations.upgrade(url, "0039")
    upgraded = {**before, **{eid: ("follow_up", 2) for eid in FOLLOW_UPS}}
    assert _states(url) == upgraded

    migrations.downgrade(url, "0038")
    assert _states(url) == {**before, **{eid: ("new", 3) for eid in FOLLOW_UPS}}

    # The same walk a case post (upgrade) or a mention (downgrade) at a time.
    module = _migration()
    engine = make_engine(url)
    for batch in (1, 2):
        with engine.begin() as conn:
            assert module.mark_follow_ups(conn, batch) == len(FOLLOW_UPS)
            assert module.mark_follow_ups(conn, batch) == 0
        assert {eid for eid, (status, _) in _states(url).items()
                if status == "follow_up"} == FOLLOW_UPS
        with engine.begin() as conn:
            assert module.unmark_follow_ups(conn, batch) == len(FOLLOW_UPS)
        assert {eid: status for eid, (status, _) in _states(url).items()} == MENTIONS
    engine.dispose()

    migrations.upgrade(url)
    assert {eid: status for eid, (status, _) in _states(url).items()} == {
        **MENTIONS, **dict.fromkeys(FOLLOW_UPS, "follow_up")}


def test_sqlite_old_follow_ups_get_their_status(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm39.db'}")


@pytest.mark.postgres
def test_postgres_old_follow_ups_get_their_status(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
