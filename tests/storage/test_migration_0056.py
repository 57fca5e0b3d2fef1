"""Migration 0056: ``outbox.send_rank``; the rows waiting or failed when it runs are ranked
from what they are (a card by its mention's priority, a spike event's alert, an update, the
rest), the sent ones keep the default; the downgrade drops it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, inspect, text

from storage import migrations
from storage.db import make_engine

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
ROW = ("INSERT INTO outbox (workspace_id, mention_id, kind, channel, payload, status,"
       " attempts, next_attempt_at, created_at) VALUES (:w, :m, :kind, 'C0SOCIAL', '{}',"
       " :status, 0, :now, :now)")


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0055")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval, settings,"
            " created_at) VALUES ('T0MIG55', 'en', 'UTC', false, '{}', :now)"), {"now": NOW})
        workspace = conn.execute(text("SELECT id FROM workspaces")).scalar_one()
        conn.execute(text(
            "INSERT INTO mentions (workspace_id, network, external_id, url, text, published_at,"
            " engagement, intent_flags, topics, topic_mask, priority, status, alerted, version,"
            " created_at, updated_at) VALUES (:w, 'x', '1', 'https://x.com/1', 'fire', :now,"
            " 0, '[]', '[]', 0, 91, 'new', true, 1, :now, :now)"), {"w": workspace, "now": NOW})
        mention = conn.execute(text("SELECT id FROM mentions")).scalar_one()
        for kind, status, of in (("card", "pending", mention), ("card", "sent", mention),
                                 ("card", "failed", mention), ("update_card", "pending", mention),
                                 ("post", "pending", None), ("post", "pending", None)):
            conn.execute(text(ROW), {"w": workspace, "m": of, "kind": kind, "status": status,
                                     "now": NOW})
        alert = conn.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        conn.execute(text(
            "INSERT INTO spike_events (workspace_id, channel_id, first_hour, last_hour,"
            " alert_outbox_id, created_at) VALUES (:w, 'C0SOCIAL', :now, :now, :a, :now)"),
            {"w": workspace, "a": alert, "now": NOW})
    engine.dispose()

    migrations.upgrade(url, "0056")
    engine = make_engine(url)
    with engine.begin() as conn:
        ranks = conn.execute(text("SELECT send_rank FROM outbox ORDER BY id")).scalars().all()
    assert ranks == [209, 400, 209, 0, 400, 100]
    assert "ix_outbox_status_send_rank_id" in {
        index["name"] for index in inspect(engine).get_indexes("outbox")}
    engine.dispose()

    migrations.downgrade(url, "0055")
    engine = make_engine(url)
    assert "send_rank" not in {column["name"] for column in inspect(engine).get_columns("outbox")}
    engine.dispose()
    migrations.upgrade(url)


def test_sqlite_outbox_send_rank(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm55.db'}")


@pytest.mark.postgres
def test_postgres_outbox_send_rank(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)


@pytest.mark.postgres
def test_postgres_builds_the_index_without_holding_the_outbox(fresh_postgres_url: str) -> None:
    """The column, the backfill and the index were one transaction: the outbox stayed locked
    for readers and writers (every sender, click and poll) while an index of all its rows
    was built (8 s on 3,000,000 rows). The index is now built CONCURRENTLY, in autocommit,
    after the column's transaction committed; a run after a failed build finishes it."""
    url = fresh_postgres_url
    migrations.upgrade(url, "0055")
    seen: list[tuple[str, bool]] = []

    def record(conn: object, _cursor: object, statement: str, *_: object) -> None:
        raw = conn.connection.dbapi_connection  # type: ignore[attr-defined]
        seen.append((" ".join(statement.split()), bool(raw.autocommit)))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        migrations.upgrade(url, "0056")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    (build,) = [(sql, auto) for sql, auto in seen if sql.startswith("CREATE INDEX")]
    assert build == ("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_outbox_status_send_rank_id "
                     "ON outbox (status, send_rank, id)", True)
    (added,) = [auto for sql, auto in seen if "ADD COLUMN" in sql]
    assert added is False  # in the migration's transaction, committed before the build

    # A build that failed (cancelled, a deadlock) leaves an invalid index and the column,
    # with the database still at 0055: the next upgrade completes it.
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0055'"))
        conn.execute(text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                          "'ix_outbox_status_send_rank_id'::regclass"))
    migrations.upgrade(url, "0056")
    with engine.begin() as conn:
        assert conn.execute(text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = 'ix_outbox_status_send_rank_id'")).scalar_one() is True
    engine.dispose()
