"""Migration 0016 keeps existing data: each mention is linked to its watch, the hourly counts
are rebuilt from the links by published hour, and the downgrade restores 0009's counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage import migrations
from storage.db import make_engine

MENTIONS = [  # (watch, published, created): the last one claims a future published time
    (1, "2026-03-28 20:10:00", "2026-03-28 21:00:00"),
    (1, "2026-03-28 18:05:00", "2026-03-28 21:00:00"),
    (2, "2026-03-28 20:30:00", "2026-03-28 21:30:00"),
    (None, "2026-03-27 10:00:00", "2026-03-28 21:30:00"),
    (2, "2027-01-01 00:00:00", "2026-03-28 22:15:00"),
]


def _seed(url: str) -> None:
    migrations.upgrade(url, "0015")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, team_id, locale, timezone, "
                          "allow_self_approval, settings, created_at) VALUES "
                          "(1, 'T0MIGR016', 'en', 'UTC', false, '{}', '2026-03-28 20:00:00')"))
        for watch_id in (1, 2):
            conn.execute(text(
                "INSERT INTO watches (id, workspace_id, name, query, channel_id, "
                "alert_threshold, weight, sla_urgent_minutes, sla_high_minutes, "
                "sla_normal_minutes, paused, created_at, updated_at) VALUES (:id, 1, :name, "
                "'', 'C0MIGR016', 50, 1.0, 60, 240, 1440, false, '2026-03-28 20:00:00', "
                "'2026-03-28 20:00:00')"), {"id": watch_id, "name": f"w{watch_id}"})
        for n, (watch_id, published, created) in enumerate(MENTIONS):
            conn.execute(text(
                "INSERT INTO mentions (workspace_id, watch_id, network, external_id, url, "
                "text, published_at, engagement, intent_flags, priority, status, alerted, "
                "version, created_at, updated_at, sentiment_label) VALUES (1, :watch, 'rss', "
                ":eid, 'u', 't', :published, 0, '[]', :priority, 'new', :alerted, 1, "
                ":created, :created, 'negative')"),
                {"watch": watch_id, "eid": f"e{n}", "published": published, "created": created,
                 "priority": 10 * n, "alerted": n % 2 == 0})
    engine.dispose()


def _check(url: str) -> None:
    _seed(url)
    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        links = conn.execute(text(
            "SELECT m.external_id, l.watch_id, l.is_first, l.priority, l.alerted "
            "FROM mention_watches l JOIN mentions m ON m.id = l.mention_id "
            "ORDER BY m.external_id")).all()
        assert [(e, w, bool(f), p, bool(a)) for e, w, f, p, a in links] == [
            (f"e{n}", watch, True, 10 * n, n % 2 == 0)
            for n, (watch, _p, _c) in enumerate(MENTIONS)]
        # Counted by published hour; the future one by its discovery hour.
        hours = conn.execute(text(
            "SELECT watch_id, hour, mentions FROM mention_hour_counts WHERE is_first "
            "ORDER BY watch_id, hour")).all()
        base = 492_980  # 2026-03-28 20:00 UTC in hours since 1970
        assert [tuple(row) for row in hours] == [
            (0, base - 34, 1), (1, base - 2, 1), (1, base, 1), (2, base, 1), (2, base + 2, 1)]
    engine.dispose()
    migrations.downgrade(url, "0015")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == len(MENTIONS)
        hours = conn.execute(text(
            "SELECT watch_id, sum(mentions) FROM mention_hour_counts GROUP BY watch_id "
            "ORDER BY watch_id")).all()
        assert [tuple(row) for row in hours] == [(0, 1), (1, 2), (2, 2)]
    engine.dispose()


def test_sqlite_upgrade_links_existing_mentions_and_downgrades(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_links_existing_mentions_and_downgrades(fresh_postgres_url: str
                                                                  ) -> None:
    _check(fresh_postgres_url)
