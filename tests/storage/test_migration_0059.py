"""Migration 0059: ``home_ranking_versions``, the version of App Home's influencer ranking
that every process compares its cached copy with. A workspace starts at version 0 (no
row, nothing backfilled), a change raises it, and the table goes on downgrade. SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from bot.services.influencer_cache import home_ranking_changed, home_ranking_version
from storage import migrations
from storage.db import make_engine
from storage.models import Workspace


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0058")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core insert: the columns of that revision only (the model may hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG59")
                                       .returning(Workspace.id)).scalar_one()
        session.commit()
    assert "home_ranking_versions" not in inspect(engine).get_table_names()
    engine.dispose()

    migrations.upgrade(url, "0059")
    engine = make_engine(url)
    with Session(engine) as session:
        assert home_ranking_version(session, workspace_id) == 0
        home_ranking_changed(session, workspace_id)
        home_ranking_changed(session, workspace_id)
        session.commit()
        assert home_ranking_version(session, workspace_id) == 2
    engine.dispose()

    migrations.downgrade(url, "0058")
    engine = make_engine(url)
    assert "home_ranking_versions" not in inspect(engine).get_table_names()
    engine.dispose()
    migrations.upgrade(url)


def test_sqlite_home_ranking_versions(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm59.db'}")


@pytest.mark.postgres
def test_postgres_home_ranking_versions(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
