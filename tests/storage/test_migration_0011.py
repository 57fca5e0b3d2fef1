"""Migration 0011 back-fills draft authors and the approvals' version and text hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnDefault, MetaData, Table, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Draft, Mention, Workspace


def _insert(session: Session, model: type[Any], row: dict[str, object]) -> int:
    """A row of ``model``'s table as the schema at 0009 has it: the model's later columns
    (added by later migrations) must not be in the INSERT."""
    table = Table(model.__tablename__, MetaData(), autoload_with=session.connection())
    for column in model.__table__.columns:
        if column.name in table.c and column.name not in row and not column.primary_key \
                and isinstance(column.default, ColumnDefault):
            arg = column.default.arg
            row[column.name] = arg(None) if callable(arg) else arg
    return int(session.execute(table.insert().values(**row).returning(table.c.id)).scalar_one())


def _insert_mention(session: Session, workspace_id: int) -> int:
    """A mention row as the schema at 0009 has it."""
    return _insert(session, Mention, {
        "workspace_id": workspace_id, "network": "rss", "external_id": "1",
        "url": "https://blog.example/1", "text": "Where is it?",
        "published_at": datetime(2026, 11, 20, tzinfo=UTC)})


def _check(url: str) -> None:
    migrations.upgrade(url, "0009")
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            workspace_id = _insert(session, Workspace, {"team_id": "T0MIGRATE1"})
            mention_id = _insert_mention(session, workspace_id)
            # Through the table as 0009 has it: the model's later columns are not there yet.
            ids = [_insert(session, Draft, {"mention_id": mention_id, "version": version,
                                            "text": body, "author_user_id": author})
                   for version, body, author in [(1, "Hi", "U0LEA0001"), (2, "Hi", "U0AGENT01"),
                                                 (3, "Hello", None)]]
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO approvals (draft_id, mention_id, approver_user_id, decision, "
                "override, created_at) VALUES (:d, :m, 'U0MAX0001', 'approved', false, :t)"),
                {"d": ids[2], "m": mention_id, "t": datetime(2026, 11, 20, tzinfo=UTC)})
        migrations.upgrade(url)
        with engine.connect() as conn:
            authors = conn.execute(text(
                "SELECT draft_id, user_id FROM draft_authors ORDER BY draft_id, user_id")).all()
            approval = conn.execute(text(
                "SELECT draft_version, text_hash FROM approvals")).one()
        # Conservative: everyone who saved any version up to this one.
        assert [tuple(row) for row in authors] == [
            (ids[0], "U0LEA0001"), (ids[1], "U0AGENT01"), (ids[1], "U0LEA0001"),
            (ids[2], "U0AGENT01"), (ids[2], "U0LEA0001")]
        assert tuple(approval) == (3, hashlib.sha256(b"Hello").hexdigest())
        migrations.downgrade(url, "0009")
        migrations.upgrade(url)
    finally:
        engine.dispose()


def test_backfill_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_backfill_on_postgres(fresh_postgres_url: str) -> None:
    _check(fresh_postgres_url)
