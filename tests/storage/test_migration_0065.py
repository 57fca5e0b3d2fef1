"""Migration 0065: drafts keep the customer post they were written to answer. A draft saved
before it has none (NULL: approved as before); the downgrade drops the column and keeps the
drafts. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine
from storage.models import Draft, Mention, Watch, Workspace

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("drafts")}
    finally:
        engine.dispose()


def _drafts(url: str, columns: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(
                f"SELECT {columns} FROM drafts ORDER BY id"))]  # noqa: S608 (constant)
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0064")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG65")
                                       .returning(Workspace.id)).scalar_one()
        watch_id = session.execute(insert(Watch).values(
            workspace_id=workspace_id, name="acme", channel_id="C0ACME001")
            .returning(Watch.id)).scalar_one()
        mention_id = session.execute(insert(Mention).values(
            workspace_id=workspace_id, watch_id=watch_id, network="mastodon",
            external_id="1", url="https://toot.example/@a/1", text="words",
            published_at=NOW).returning(Mention.id)).scalar_one()
        session.execute(insert(Draft).values(mention_id=mention_id, version=1, text="Sorry!",
                                             risk_flags=[]))
        session.commit()
    engine.dispose()

    migrations.upgrade(url, "0065")
    assert _drafts(url, "version, text, target_external_id") == [(1, "Sorry!", None)]

    migrations.downgrade(url, "0064")
    assert "target_external_id" not in _columns(url)
    assert _drafts(url, "version, text") == [(1, "Sorry!")]
    migrations.upgrade(url)
    assert "target_external_id" in _columns(url)


def test_sqlite_drafts_keep_the_post_they_answer(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm65.db'}")


@pytest.mark.postgres
def test_postgres_drafts_keep_the_post_they_answer(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
