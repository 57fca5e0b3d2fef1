"""Migration 0032: one partial index per topic; a topic's listing reads it newest first,
the mentions stay through a downgrade and an upgrade, and the listing's rows do not change."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.analysis.topics import TOPICS, topic_mask
from storage import migrations
from storage.db import make_engine
from storage.models import TOPIC_BITS

MENTION = (
    "INSERT INTO mentions (workspace_id, network, external_id, url, text, published_at, "
    "engagement, intent_flags, topics, topic_mask, priority, status, alerted, version, "
    "created_at, updated_at, reach) VALUES (1, 'rss', :eid, 'u', 't', '2026-03-28 10:00:00', "
    "0, '[]', '[]', :mask, 10, 'new', false, 1, '2026-03-28 21:00:00', "
    "'2026-03-28 21:00:00', 0)")
BILLING = ("SELECT id FROM mentions WHERE workspace_id = 1 AND (topic_mask & 1) <> 0 "
           "ORDER BY id DESC LIMIT 11")
NAMES = {f"ix_mentions_topic_{name}" for name in TOPICS}


def _indexes(url: str) -> set[str]:
    engine = make_engine(url)
    names = {str(i["name"]) for i in inspect(engine).get_indexes("mentions")}
    engine.dispose()
    return names


def _billing(url: str) -> tuple[list[int], str]:
    """The billing listing's ids, and the plan that answered it (table scans refused)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r for (r,) in conn.execute(text(f"EXPLAIN {BILLING}")))
        else:
            plan = "\n".join(str(r[-1]) for r in conn.execute(text(
                f"EXPLAIN QUERY PLAN {BILLING}")))
        ids = list(conn.execute(text(BILLING)).scalars())
    engine.dispose()
    return ids, plan


def _statistics(url: str) -> int:
    """How many topic statistics objects PostgreSQL has (SQLite has none to keep)."""
    engine = make_engine(url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return 0
    with engine.connect() as conn:
        found = int(conn.execute(text(
            "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'mentions_topic_bits'"))
            .scalar_one())
    engine.dispose()
    return found


def _roundtrip(url: str) -> None:
    migrations.upgrade(url, "0031")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, locale, timezone, "
                          "allow_self_approval, settings, created_at) "
                          "VALUES ('T0MIG32', 'en', 'UTC', false, '{}', '2026-03-28 20:00:00')"))
        for n, topics in enumerate((["billing"], [], ["delivery", "billing"], ["churn"],
                                    ["delivery"])):
            conn.execute(text(MENTION), {"eid": f"e{n}", "mask": topic_mask(topics)})
        expected = list(conn.execute(text(
            "SELECT id FROM mentions WHERE external_id IN ('e0', 'e2') ORDER BY id DESC"))
            .scalars())
    engine.dispose()
    assert not NAMES & _indexes(url)
    assert _billing(url)[0] == expected
    migrations.upgrade(url, "0032")
    assert _indexes(url) >= NAMES
    assert _statistics(url) == (1 if url.startswith("postgresql") else 0)
    ids, plan = _billing(url)
    assert ids == expected
    assert "ix_mentions_topic_billing" in plan
    migrations.downgrade(url, "0031")
    assert not NAMES & _indexes(url)
    assert _statistics(url) == 0
    assert _billing(url)[0] == expected
    migrations.upgrade(url)
    assert _billing(url)[0] == expected


def test_topic_bits_are_the_analysis_bits() -> None:
    assert {name: topic_mask([name]) for name in TOPICS} == TOPIC_BITS


def test_sqlite_topic_indexes_added_and_dropped(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm32.db'}")


@pytest.mark.postgres
def test_postgres_topic_indexes_added_and_dropped(fresh_postgres_url: str) -> None:
    _roundtrip(fresh_postgres_url)
