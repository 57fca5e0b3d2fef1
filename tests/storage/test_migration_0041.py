"""Migration 0041: ``purged_posts`` (a keyed hash per purged post, keyed by workspace and
digest) is created, holds one row per digest, goes with its workspace, and the downgrade
drops it; a workspace's ``purged_before`` is left as it was. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage import migrations
from storage.db import make_engine

CUTOFF = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0040")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval, settings,"
            " created_at, purged_before) VALUES ('T0MIG40', 'en', 'UTC', false, '{}', :now,"
            " :cutoff)"), {"now": CUTOFF, "cutoff": CUTOFF})
        workspace = conn.execute(text("SELECT id FROM workspaces")).scalar_one()
    assert "purged_posts" not in inspect(engine).get_table_names()
    engine.dispose()

    migrations.upgrade(url, "0041")
    engine = make_engine(url)
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("purged_posts")["constrained_columns"] == [
        "workspace_id", "digest"]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO purged_posts (workspace_id, digest) VALUES (:w, 'ab')"),
                     {"w": workspace})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO purged_posts (workspace_id, digest) VALUES (:w, 'ab')"),
                     {"w": workspace})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT purged_before FROM workspaces")).scalar_one() \
            is not None
    engine.dispose()

    migrations.downgrade(url, "0040")
    engine = make_engine(url)
    assert "purged_posts" not in inspect(engine).get_table_names()
    engine.dispose()

    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO purged_posts (workspace_id, digest) VALUES (:w, 'cd')"),
                     {"w": workspace})
        conn.execute(text("DELETE FROM workspaces"))
        assert conn.execute(text("SELECT count(*) FROM purged_posts")).scalar_one() == 0
    engine.dispose()


def test_sqlite_purged_posts_table(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm40.db'}")


@pytest.mark.postgres
def test_postgres_purged_posts_table(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
