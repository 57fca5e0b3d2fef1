"""Migration 0069: ``mentions.aside`` (the words outside a post's text that its network's
search reads) is added empty, dropped by the downgrade and added again by the upgrade; the
mentions stay. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine
from storage.models import Mention, Workspace

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("mentions")}
    finally:
        engine.dispose()


def _rows(url: str, statement: str, **values: object) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0068")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG69")
                                       .returning(Workspace.id)).scalar_one()
        session.execute(insert(Mention).values(
            workspace_id=workspace_id, network="mastodon", external_id="m1",
            url="https://toot.example/@a/1", text="look at this", published_at=NOW))
        session.commit()
    engine.dispose()

    migrations.upgrade(url, "0069")
    assert "aside" in _columns(url)
    assert _rows(url, "SELECT text, aside FROM mentions") == [("look at this", None)]
    _rows(url, "UPDATE mentions SET aside = 'an Acme screenshot'")

    migrations.downgrade(url, "0068")
    assert "aside" not in _columns(url)
    assert _rows(url, "SELECT text FROM mentions") == [("look at this",)]

    migrations.upgrade(url)
    assert "aside" in _columns(url)
    assert _rows(url, "SELECT text, aside FROM mentions") == [("look at this", None)]


def test_sqlite_mentions_aside_round_trip(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm69.db'}")


@pytest.mark.postgres
def test_postgres_mentions_aside_round_trip(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
