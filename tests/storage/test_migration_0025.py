"""Migration 0025: existing mentions get their author's followers as reach, their links
copy it, the hourly counts sum it; after a downgrade the 0016 triggers count again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage import migrations
from storage.db import make_engine

MENTION = (
    "INSERT INTO mentions (workspace_id, author_id, network, external_id, url, text, "
    "published_at, engagement, intent_flags, topics, topic_mask, priority, status, alerted, "
    "version, created_at, updated_at, sentiment_label) VALUES (1, :author, 'rss', :eid, 'u', "
    "'t', '2026-03-28 20:10:00', 0, '[]', '[]', 0, 10, 'new', false, 1, "
    "'2026-03-28 21:00:00', '2026-03-28 21:00:00', 'negative')")


def _seed(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, locale, timezone, "
                          "allow_self_approval, settings, created_at) "
                          "VALUES ('T0MIG25', 'en', 'UTC', false, '{}', '2026-03-28 20:00:00')"))
        conn.execute(text("INSERT INTO authors (workspace_id, network, handle, followers, "
                          "verified, mention_count, first_seen_at, last_seen_at) VALUES "
                          "(1, 'rss', 'big', 2000000000, false, 0, '2026-03-28 20:00:00', "
                          "'2026-03-28 20:00:00'), (1, 'rss', 'nobody', NULL, false, 0, "
                          "'2026-03-28 20:00:00', '2026-03-28 20:00:00')"))
        for n, author in enumerate((1, 1, 2, None)):
            conn.execute(text(MENTION), {"author": author, "eid": f"e{n}"})
    engine.dispose()


def _hour_counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        mentions, reach = conn.execute(text(
            "SELECT sum(mentions), sum(reach) FROM mention_hour_counts")).one()
    engine.dispose()
    return int(mentions), int(reach)


def _roundtrip(url: str) -> None:
    migrations.upgrade(url, "0017")
    _seed(url)
    migrations.upgrade(url, "0025")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert [r for (r,) in conn.execute(text("SELECT reach FROM mentions ORDER BY id"))] \
            == [2_000_000_000, 2_000_000_000, 0, 0]
        assert [r for (r,) in conn.execute(text(
            "SELECT reach FROM mention_watches ORDER BY mention_id"))] \
            == [2_000_000_000, 2_000_000_000, 0, 0]
    engine.dispose()
    assert _hour_counts(url) == (4, 4_000_000_000)  # beyond a 32-bit sum
    migrations.downgrade(url, "0017")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(MENTION), {"author": 2, "eid": "after-downgrade"})
        assert conn.execute(text("SELECT sum(mentions) FROM mention_hour_counts")).scalar() == 5
    engine.dispose()
    migrations.upgrade(url)
    assert _hour_counts(url) == (5, 4_000_000_000)


def test_sqlite_reach_backfill_and_downgrade(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm25.db'}")


@pytest.mark.postgres
def test_postgres_reach_backfill_and_downgrade(fresh_postgres_url: str) -> None:
    _roundtrip(fresh_postgres_url)
