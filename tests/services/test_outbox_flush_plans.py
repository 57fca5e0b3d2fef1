"""A flush reads the waiting rows in the order they go (rank, then id) from
``ix_outbox_status_send_rank_id``, a batch at a time with no sort, and finds the channels
held by a retry through ``ix_outbox_status_next_attempt_at_id``: its statements are captured
and EXPLAINed over 20,000 rows (mostly sent, a few hundred waiting of every rank in a few
channels, a few waiting for a retry; statistics gathered), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import (
    captured_statements,
    explain,
    gather_statistics,
    plan_nodes,
)
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

ROWS = 20_000
COLUMNS = ("workspace_id, kind, channel, payload, status, attempts, next_attempt_at, "
           "created_at, sent_at, result_ts, send_rank")
# A row a minute to seven channels; the last 700 wait, of every rank, and a few of them, in
# five of the channels, wait for their retry, an hour on.
VALUES = (":ws, 'post', 'C0CHAN' || (i % 7), '{{\"text\": \"hello\"}}', "
          "CASE WHEN i > :n - 700 THEN 'pending' ELSE 'sent' END, "
          "CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, "
          "CASE WHEN i > :n - 700 AND i % 50 = 0 AND i % 7 < 5 THEN {later} ELSE {ts} END, "
          "{ts}, {ts}, '1700000000.' || i, (i % 5) * 100")



def test_a_flush_reads_the_waiting_rows_in_rank_order_by_index(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    engine: Engine = sessions.kw["bind"]
    later = ("TIMESTAMPTZ '{0}' + interval '1 hour'" if engine.dialect.name == "postgresql"
             else "datetime('{0:%Y-%m-%d %H:%M:%S}', '+1 hour')").format(now)
    with transaction(sessions) as session:
        insert_generated(session, "outbox", COLUMNS,
                         VALUES.replace("{later}", later),
                         now, {"ws": workspace_id, "n": ROWS})
    gather_statistics(engine)
    for number in range(7):
        slack_standin.set_channel(f"C0CHAN{number}", name=f"chan{number}")
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=1.0)
    with captured_statements(engine) as seen:
        report = sender.flush(limit=50)
    assert report.sent == 2  # the two channels no retry holds, one message each
    reads = [(s, explain(engine, s, p)) for s, p in seen
             if s.lstrip().upper().startswith("SELECT") and "FROM outbox" in s]
    scans = [(s, plan) for s, plan in reads if "ORDER BY outbox.send_rank" in s]
    held = [(s, plan) for s, plan in reads if "outbox.next_attempt_at >" in s]
    assert scans and held
    for statement, plan in [*scans, *held]:
        assert "SCAN outbox\n" not in plan + "\n", (statement, plan)
        assert not plan_nodes(plan, "Seq Scan"), (statement, plan)
    for statement, plan in scans:
        assert "ix_outbox_status_send_rank_id" in plan or plan.startswith("["), (statement, plan)
        assert "TEMP B-TREE" not in plan, (statement, plan)
        # Only waiting rows are read (PostgreSQL may sort those of a last batch it expects
        # to find empty, every channel left being held).
        assert all("status" in node.get("Index Cond", "") for kind in (
            "Index Scan", "Index Only Scan", "Bitmap Index Scan")
            for node in plan_nodes(plan, kind)), plan
    # The first batch reads the waiting rows in the index's order: the first 50, not all.
    statement, plan = scans[0]
    assert "ix_outbox_status_send_rank_id" in plan, (statement, plan)
    assert not plan_nodes(plan, "Sort"), (statement, plan)
    for statement, plan in held:
        assert "ix_outbox_status_next_attempt_at_id" in plan, (statement, plan)
