"""Migration 0027: the (workspace_id, published_at) index goes, the mentions stay, and a
period's look-up is answered by the influencer window index; a downgrade brings it back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage import migrations
from storage.db import make_engine

MENTION = (
    "INSERT INTO mentions (workspace_id, network, external_id, url, text, published_at, "
    "engagement, intent_flags, topics, topic_mask, priority, status, alerted, version, "
    "created_at, updated_at, reach) VALUES (1, 'rss', :eid, 'u', 't', :published, 0, '[]', "
    "'[]', 0, 10, 'new', false, 1, '2026-03-28 21:00:00', '2026-03-28 21:00:00', 0)")
PERIOD = ("SELECT count(*) FROM mentions WHERE workspace_id = 1 "
          "AND published_at >= '2026-03-28 00:00:00' AND published_at < '2026-03-29 00:00:00'")


def _indexes(url: str) -> set[str]:
    engine = make_engine(url)
    names = {str(i["name"]) for i in inspect(engine).get_indexes("mentions")}
    engine.dispose()
    return names


def _period(url: str) -> tuple[int, str]:
    """The period's count, and the plan that answered it (scans of the table refused)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r for (r,) in conn.execute(text(f"EXPLAIN {PERIOD}")))
        else:
            plan = "\n".join(str(r[-1]) for r in conn.execute(text(
                f"EXPLAIN QUERY PLAN {PERIOD}")))
        count = int(conn.execute(text(PERIOD)).scalar_one())
    engine.dispose()
    return count, plan


def _roundtrip(url: str) -> None:
    migrations.upgrade(url, "0025")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, locale, timezone, "
                          "allow_self_approval, settings, created_at) "
                          "VALUES ('T0MIG27', 'en', 'UTC', false, '{}', '2026-03-28 20:00:00')"))
        for n, published in enumerate(("2026-03-28 10:00:00", "2026-03-28 20:10:00",
                                       "2026-03-30 08:00:00")):
            conn.execute(text(MENTION), {"eid": f"e{n}", "published": published})
    engine.dispose()
    assert "ix_mentions_workspace_id_published_at" in _indexes(url)
    migrations.upgrade(url, "0027")
    assert "ix_mentions_workspace_id_published_at" not in _indexes(url)
    count, plan = _period(url)
    assert count == 2
    assert "ix_mentions_influencer_window" in plan
    migrations.downgrade(url, "0025")
    assert "ix_mentions_workspace_id_published_at" in _indexes(url)
    assert _period(url)[0] == 2
    migrations.upgrade(url)
    assert _period(url)[0] == 2


def test_sqlite_period_index_dropped_and_restored(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm27.db'}")


@pytest.mark.postgres
def test_postgres_period_index_dropped_and_restored(fresh_postgres_url: str) -> None:
    _roundtrip(fresh_postgres_url)
