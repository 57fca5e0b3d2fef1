"""SQLite's planner statistics: a database never analyzed gets a bounded ANALYZE, later
runs are ``PRAGMA optimize`` (SQLite's advice for long-lived connections); PostgreSQL's
autovacuum keeps its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage.db import make_engine, make_session_factory, optimize, transaction
from storage.models import Mention, Workspace

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_database_never_analyzed_is_analyzed_then_optimized(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as session:
        workspace = Workspace(team_id="T07STATS01")
        session.add(workspace)
        session.flush()
        session.add_all(Mention(workspace_id=workspace.id, network="x", external_id=str(i),
                                url=f"https://example.org/{i}", text=f"mention {i}",
                                published_at=NOW - timedelta(minutes=i), created_at=NOW)
                        for i in range(300))
    assert optimize(engine) == "analyze"
    with engine.connect() as conn:
        indexes: dict[str, str] = {idx: stat for idx, stat in conn.execute(text(
            "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'mentions'"))}
    assert indexes["ix_mentions_influencer_window"].startswith("300 ")
    assert optimize(engine) == "optimize"
    engine.dispose()


@pytest.mark.postgres
def test_postgres_is_left_to_autovacuum(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    assert optimize(engine) == "none"
    engine.dispose()
