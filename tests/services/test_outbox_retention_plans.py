"""The retention purge of the outbox reads it through ``ix_outbox_workspace_id_kind_created_at``
(a workspace and kind at a time, from the cut-off back) and deletes by primary key, a
batch at a time: its statements are captured and EXPLAINed over 20,000 rows (the weeks
before the cut-off, sent, failed and waiting, with newer rows after it; statistics
gathered), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import outbox_retention
from bot.services.outbox_retention import purge_outbox
from storage.db import transaction
from storage.models import OutboxMessage
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import (
    captured_statements,
    explain,
    gather_statistics,
    plan_nodes,
)

ROWS = 20_000
COLUMNS = ("workspace_id, kind, channel, payload, status, attempts, next_attempt_at, "
           "created_at, sent_at, result_ts")
# A row a minute, of a few kinds, to channels and DMs; one in fifty waits (a paused
# workspace) and one in twenty failed.
VALUES = (":ws, CASE i % 5 WHEN 0 THEN 'post' WHEN 1 THEN 'notify' WHEN 2 THEN 'chart' "
          "WHEN 3 THEN 'thread' ELSE 'update_post' END, "
          "CASE i % 3 WHEN 0 THEN 'U0USER' || (i % 40) ELSE 'C0CHAN' || (i % 7) END, "
          "'{{\"text\": \"a customer\"}}', "
          "CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 20 = 0 THEN 'failed' ELSE 'sent' END,"
          " 1, {ts}, {ts}, {ts}, '1700000000.' || i")



def _sorted_rows(plan: str) -> list[int]:
    """How many rows each PostgreSQL Sort node reads to sort, as the index scans under it
    expect them (the filters' estimate is no guide: none on SQLite)."""
    if not plan.startswith("["):
        return []
    found: list[int] = []

    def most(node: dict[str, Any]) -> int:
        return max([int(node.get("Plan Rows", 0)), *map(most, node.get("Plans", []))])

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Sort":
            found.append(most(node))
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return found


def test_the_outbox_purge_reads_by_index_a_batch_at_a_time(
        sessions: sessionmaker[Session], workspace_id: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_retention, "BATCH", 500)
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as session:
        insert_generated(session, "outbox", COLUMNS, VALUES, now,
                         {"ws": workspace_id, "n": ROWS})
    cutoff = now - timedelta(days=7)
    engine: Engine = sessions.kw["bind"]
    gather_statistics(engine)
    with captured_statements(engine) as seen:
        purge_outbox(sessions, cutoff)
    with sessions() as session:
        old = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.created_at < cutoff))
        waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.created_at < cutoff, OutboxMessage.status == "pending"))
    assert old == waiting > 0  # only the rows waiting (each channel sent newer ones)
    reads = [(s, p, explain(engine, s, p)) for s, p in seen if "outbox" in s
             and not s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    deletes = [(s, p, explain(engine, s, p)) for s, p in seen
               if s.lstrip().upper().startswith("DELETE FROM OUTBOX")]
    assert deletes
    batches = [(s, plan) for s, _p, plan in reads if "outbox.created_at <" in s]
    assert len(batches) >= 5 * 4  # each kind's ~2,000 old rows in batches of 500
    assert any("outbox.created_at >=" in s for s, _plan in batches)  # from where it stopped
    for statement, _parameters, plan in [*reads, *deletes]:
        assert "SCAN outbox\n" not in plan + "\n", (statement, plan)
        assert not plan_nodes(plan, "Seq Scan", "outbox"), (statement, plan)
    for statement, plan in batches:
        assert "ix_outbox_workspace_id_kind_created_at" in plan, (statement, plan)
        # In the index's order: a batch reads its rows, not the whole range, sorted
        # (PostgreSQL may sort the last batch of a kind, which is the whole range).
        assert "TEMP B-TREE" not in plan, (statement, plan)
        assert all(rows <= 500 for rows in _sorted_rows(plan)), (statement, plan)
