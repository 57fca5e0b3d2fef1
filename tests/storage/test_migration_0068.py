"""Migration 0068: links keep the side of their removed watch. Existing links are the
brand's (false) and no count moves; a competitor's link losing its watch is counted under
watch -1, a brand's under 0, in the hourly, daily and priority counts. The downgrade adds
watch -1's counts to watch 0's and 0030's triggers count again; upgraded again, the
column is back. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine
from storage.models import Mention, Watch, Workspace

NOW = datetime(2026, 11, 7, 9, 30, tzinfo=UTC)
TABLES = ("mention_hour_counts", "mention_day_counts", "mention_priority_counts")


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _counts(url: str) -> list[dict[int, int]]:
    """Per count table, the mentions counted under each watch id (rows at 0 left out)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [{int(watch): int(count) for watch, count in conn.execute(text(
                f"SELECT watch_id, sum(mentions) FROM {table} "  # noqa: S608 (constant)
                "GROUP BY watch_id ORDER BY watch_id")) if count}
                for table in TABLES]
    finally:
        engine.dispose()


def _execute(url: str, statement: str, **values: object) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), values)
    finally:
        engine.dispose()


def _seed(url: str) -> tuple[int, int, list[int]]:
    """A brand watch and a competitor's: m0 the brand's, m1 and m2 the competitor's, m2
    the brand's too (a second link)."""
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG68")
                                       .returning(Workspace.id)).scalar_one()
        brand, competitor = (session.execute(insert(Watch).values(
            workspace_id=workspace_id, name=name, channel_id="C0ACME001", kind=kind)
            .returning(Watch.id)).scalar_one()
            for name, kind in (("acme", "brand"), ("rival", "competitor")))
        mentions = [session.execute(insert(Mention).values(
            workspace_id=workspace_id, watch_id=watch, network="mastodon",
            external_id=f"m{n}", url=f"https://toot.example/@a/{n}", text="words",
            published_at=NOW).returning(Mention.id)).scalar_one()
            for n, watch in enumerate((brand, competitor, competitor))]
        session.execute(text(
            "INSERT INTO mention_watches (workspace_id, mention_id, watch_id, is_first, "
            "network, sentiment, published_at, priority, reach, alerted, alert_forced, "
            "created_at) VALUES (:w, :m, :watch, false, 'mastodon', 'unknown', :at, 0, 0, "
            "false, false, :at)"),
            {"w": workspace_id, "m": mentions[2], "watch": brand, "at": NOW})
        session.commit()
    engine.dispose()
    return brand, competitor, mentions


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0067")
    brand, competitor, mentions = _seed(url)
    assert _counts(url) == [{brand: 2, competitor: 2}] * 3

    migrations.upgrade(url, "0068")
    assert "competitor" in _columns(url, "mention_watches")
    assert "competitor" in _columns(url, "purged_links")
    assert _counts(url) == [{brand: 2, competitor: 2}] * 3  # nothing moved
    # What removing each watch does to its links (storage.reporting_counts.release_watch).
    _execute(url, "UPDATE mention_watches SET watch_id = NULL, competitor = true "
             "WHERE watch_id = :watch", watch=competitor)
    assert _counts(url) == [{-1: 2, brand: 2}] * 3
    _execute(url, "UPDATE mention_watches SET watch_id = NULL WHERE watch_id = :watch",
             watch=brand)
    assert _counts(url) == [{-1: 2, 0: 2}] * 3
    _execute(url, "DELETE FROM mentions WHERE id = :m", m=mentions[1])
    assert _counts(url) == [{-1: 1, 0: 2}] * 3

    migrations.downgrade(url, "0067")
    assert "competitor" not in _columns(url, "mention_watches")
    assert "competitor" not in _columns(url, "purged_links")
    assert _counts(url) == [{0: 3}] * 3  # as 0030's triggers count them
    _execute(url, "DELETE FROM mentions WHERE id = :m", m=mentions[2])  # both its links
    assert _counts(url) == [{0: 1}] * 3

    migrations.upgrade(url)
    assert "competitor" in _columns(url, "mention_watches")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert [bool(v) for (v,) in conn.execute(text(
            "SELECT competitor FROM mention_watches"))] == [False]
    engine.dispose()
    _execute(url, "DELETE FROM mentions WHERE id = :m", m=mentions[0])
    assert _counts(url) == [{}] * 3


def test_sqlite_links_keep_their_removed_watchs_side(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm68.db'}")


@pytest.mark.postgres
def test_postgres_links_keep_their_removed_watchs_side(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
