"""Migration 0033: on PostgreSQL, three foreign keys give way to statement-level triggers
that do what the keys did on delete; both engines behave the same before and after, and a
downgrade brings the keys back with the data kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage import migrations
from storage.db import make_engine
from storage.models import POSTGRES_TRIGGER_KEPT_KEYS

SETUP = [
    "INSERT INTO workspaces (id, team_id, locale, timezone, allow_self_approval, settings, "
    "created_at) VALUES (1, 'T1', 'en', 'UTC', false, '{}', '2026-03-28 21:00:00')",
    "INSERT INTO watches (id, workspace_id, name, query, channel_id, alert_threshold, weight, "
    "sla_urgent_minutes, sla_high_minutes, sla_normal_minutes, paused, kind, created_at, "
    "updated_at) "
    "VALUES (1, 1, 'acme', '', 'C1', 60, 1.0, 60, 240, 1440, false, 'brand', "
    "'2026-03-28 21:00:00', '2026-03-28 21:00:00')",
]
AUTHOR = (
    "INSERT INTO authors (workspace_id, network, handle, verified, mention_count, "
    "first_seen_at, last_seen_at) VALUES (1, 'rss', :handle, false, 1, "
    "'2026-03-28 21:00:00', '2026-03-28 21:00:00')")
MENTION = (
    "INSERT INTO mentions (workspace_id, watch_id, author_id, network, external_id, url, "
    "text, published_at, engagement, intent_flags, topics, topic_mask, priority, status, "
    "alerted, version, created_at, updated_at, reach) VALUES (1, 1, :author, 'rss', :eid, "
    "'u', 't', '2026-03-28 10:00:00', 0, '[]', '[]', 0, 10, 'new', false, 1, "
    "'2026-03-28 21:00:00', '2026-03-28 21:00:00', 0)")


def _keys(url: str) -> set[str]:
    engine = make_engine(url)
    found = {str(k["name"]) for table in ("mentions", "mention_watches",
                                          "mention_search_pending")
             for k in inspect(engine).get_foreign_keys(table)}
    engine.dispose()
    return found


def _deletes_follow(url: str, suffix: str) -> None:
    """Deleting an author leaves its mentions without one; deleting a mention takes its
    link and its queued search row with it (the rows the keys' actions used to touch)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        kept = conn.execute(text(AUTHOR + " RETURNING id"), {"handle": f"a{suffix}"}).scalar()
        gone = conn.execute(text(AUTHOR + " RETURNING id"), {"handle": f"b{suffix}"}).scalar()
        ids = [conn.execute(text(MENTION + " RETURNING id"),
                            {"author": author, "eid": f"{suffix}-{n}"}).scalar()
               for n, author in enumerate([kept, gone, gone])]
    with engine.begin() as conn:
        queued = set(conn.execute(text(
            "SELECT mention_id FROM mention_search_pending")).scalars())
        assert set(ids) <= queued
        conn.execute(text("DELETE FROM authors WHERE id = :id"), {"id": gone})
        authors = dict(conn.execute(text(
            "SELECT id, author_id FROM mentions WHERE id IN (:a, :b, :c)"),
            dict(zip("abc", ids, strict=True))).tuples().all())
        assert authors == {ids[0]: kept, ids[1]: None, ids[2]: None}
        conn.execute(text("DELETE FROM mentions WHERE id IN (:a, :b)"),
                     {"a": ids[0], "b": ids[1]})
        queued = set(conn.execute(text(
            "SELECT mention_id FROM mention_search_pending")).scalars())
        assert ids[2] in queued and not queued & {ids[0], ids[1]}
        links = set(conn.execute(text("SELECT mention_id FROM mention_watches")).scalars())
        assert ids[2] in links and not links & {ids[0], ids[1]}
    engine.dispose()


def _at_0032_with_setup(url: str) -> None:
    """Migrate ``url`` to 0032 and write the rows the tests start from."""
    migrations.upgrade(url, "0032")
    engine = make_engine(url)
    with engine.begin() as conn:
        for statement in SETUP:
            conn.execute(text(statement))
    engine.dispose()


def _round_trip(url: str, postgres: bool) -> None:
    _at_0032_with_setup(url)
    assert _keys(url) >= POSTGRES_TRIGGER_KEPT_KEYS
    _deletes_follow(url, "before")
    migrations.upgrade(url)
    keys = _keys(url)
    assert not (POSTGRES_TRIGGER_KEPT_KEYS & keys) if postgres else (
        keys >= POSTGRES_TRIGGER_KEPT_KEYS)
    _deletes_follow(url, "after")
    migrations.downgrade(url, "0032")
    assert _keys(url) >= POSTGRES_TRIGGER_KEPT_KEYS
    _deletes_follow(url, "down")
    migrations.upgrade(url)


def test_sqlite_keeps_its_keys(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'keys.db'}", postgres=False)


@pytest.mark.postgres
def test_postgres_triggers_do_what_the_keys_did(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url, postgres=True)


@pytest.mark.postgres
def test_postgres_downgrade_clears_rows_a_truncate_left_behind(fresh_postgres_url: str) -> None:
    """A TRUNCATE fires no delete trigger, so it can leave ids of rows that are gone; the
    downgrade does to them what the keys would have done instead of failing to add them."""
    url = fresh_postgres_url
    _at_0032_with_setup(url)
    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        author = conn.execute(text(AUTHOR + " RETURNING id"), {"handle": "t"}).scalar()
        mention = conn.execute(text(MENTION + " RETURNING id"),
                               {"author": author, "eid": "t-1"}).scalar()
        conn.execute(text("INSERT INTO mention_search_pending (mention_id) VALUES (:m)"),
                     {"m": mention + 1000})
        conn.execute(text("UPDATE mentions SET author_id = :a WHERE id = :m"),
                     {"a": author + 1000, "m": mention})
        conn.execute(text("UPDATE mentions SET watch_id = 999 WHERE id = :m"), {"m": mention})
    engine.dispose()
    migrations.downgrade(url, "0032")
    assert _keys(url) >= POSTGRES_TRIGGER_KEPT_KEYS
    engine = make_engine(url)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT author_id, watch_id FROM mentions WHERE id = :m"),
                           {"m": mention}).one()
        assert tuple(row) == (None, None)
        assert not conn.execute(text(
            "SELECT 1 FROM mention_search_pending WHERE mention_id = :m"),
            {"m": mention + 1000}).first()
    engine.dispose()
