"""Migration 0046: ``mention_rollups`` (written by retention, read by nothing) is dropped
with its rows; the downgrade brings it back empty, with its key. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage import migrations
from storage.db import make_engine

NOW = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)
ROLLUP = ("INSERT INTO mention_rollups (workspace_id, watch_id, network, sentiment, day,"
          " is_first, mentions, replied) VALUES (:w, NULL, 'x', 'negative', '2026-08-01',"
          " true, 3, 1)")


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0045")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval, settings,"
            " created_at) VALUES ('T0MIG45', 'en', 'UTC', false, '{}', :now)"), {"now": NOW})
        workspace = conn.execute(text("SELECT id FROM workspaces")).scalar_one()
        conn.execute(text(ROLLUP), {"w": workspace})
    engine.dispose()

    migrations.upgrade(url, "0046")
    engine = make_engine(url)
    assert "mention_rollups" not in inspect(engine).get_table_names()
    engine.dispose()

    migrations.downgrade(url, "0045")
    engine = make_engine(url)
    keys = [sorted(u["column_names"])
            for u in inspect(engine).get_unique_constraints("mention_rollups")]
    assert keys == [sorted(["workspace_id", "watch_id", "network", "sentiment", "day",
                            "is_first"])]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM mention_rollups")).scalar_one() == 0
        conn.execute(text(ROLLUP), {"w": workspace})
    engine.dispose()

    migrations.upgrade(url)
    engine = make_engine(url)
    assert "mention_rollups" not in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_mention_rollups_dropped(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm46.db'}")


@pytest.mark.postgres
def test_postgres_mention_rollups_dropped(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
