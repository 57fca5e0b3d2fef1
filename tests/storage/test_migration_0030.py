"""Migration 0030: the day counts are backfilled from the hourly counts and then kept by
the link triggers (insert, update, delete); after a downgrade 0025's triggers count the
hours again and the table is gone; upgraded again, it is backfilled. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage import migrations
from storage.db import make_engine
from tests.storage.test_migration_0025 import MENTION, _seed

DAYS = ("SELECT day, sum(mentions), sum(reach) FROM mention_day_counts GROUP BY day "
        "ORDER BY day")
HOURS_BY_DAY = ("SELECT hour / 24, sum(mentions), sum(reach) FROM mention_hour_counts "
                "GROUP BY hour / 24 ORDER BY hour / 24")


def _days(url: str) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        days = [(int(d), int(m), int(r)) for d, m, r in conn.execute(text(DAYS)) if m]
        hours = [(int(d), int(m), int(r)) for d, m, r in conn.execute(text(HOURS_BY_DAY)) if m]
    engine.dispose()
    return days, hours


def _roundtrip(url: str) -> None:
    migrations.upgrade(url, "0017")
    _seed(url)  # 0025 gives them their authors' followers as reach
    migrations.upgrade(url, "0030")
    days, hours = _days(url)
    # 2026-03-28 is day 20540 since 1970; four mentions, two with a 2e9 reach.
    assert days == hours == [(20540, 4, 4_000_000_000)]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(MENTION), {"author": 1, "eid": "next-day"})
        conn.execute(text("UPDATE mentions SET published_at = '2026-03-29 01:00:00', "
                          "reach = 7 WHERE external_id = 'next-day'"))
        conn.execute(text("DELETE FROM mentions WHERE external_id = 'e0'"))
    engine.dispose()
    days, hours = _days(url)
    assert days == hours == [(20540, 3, 2_000_000_000), (20541, 1, 7)]
    migrations.downgrade(url, "0025")
    engine = make_engine(url)
    assert "mention_day_counts" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(text(MENTION), {"author": 2, "eid": "after-downgrade"})
        assert conn.execute(text("SELECT sum(mentions) FROM mention_hour_counts")).scalar() == 5
    engine.dispose()
    migrations.upgrade(url)
    days, hours = _days(url)
    assert days == hours == [(20540, 4, 2_000_000_000), (20541, 1, 7)]


def test_sqlite_day_counts_backfill_triggers_and_downgrade(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm30.db'}")


@pytest.mark.postgres
def test_postgres_day_counts_backfill_triggers_and_downgrade(fresh_postgres_url: str) -> None:
    _roundtrip(fresh_postgres_url)
