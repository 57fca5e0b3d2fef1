"""A forget looks in the outbox for the messages quoting the person (spike alerts, digests,
notes, DMs, reports, any row naming them) through an index, from their first mention on:
sent rows are kept for the retention window (for ever without one). Its statements are
captured and EXPLAINed over 20,000 sent rows of the weeks before, others' cards and notes
among them (statistics gathered), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.privacy import do_forget
from storage.db import transaction
from storage.models import Author, Mention
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import (
    captured_statements,
    explain,
    gather_statistics,
    plan_nodes,
)

ROWS = 20_000
MENTIONS = 10_000
MENTION_COLUMNS = ("workspace_id, network, external_id, url, text, published_at, status, "
                   "priority, engagement, intent_flags, alerted, version, created_at, "
                   "updated_at")
MENTION_VALUES = (":ws, 'rss', 'g' || i, 'https://example.org/' || i, 'mention ' || i, {ts}, "
                  "'new', 10, 0, '[]', {false}, 1, {ts}, {ts}")
COLUMNS = ("workspace_id, mention_id, kind, channel, payload, status, attempts, "
           "next_attempt_at, created_at, sent_at, result_ts")
# Every kind a forget reads, and others' cards and notes (with their mention), sent one a
# minute until an hour before the person's first mention.
VALUES = (":ws, CASE WHEN i % 10 >= 4 THEN :first + i % :mentions END, "
          "CASE i % 10 WHEN 0 THEN 'post' WHEN 1 THEN 'thread' WHEN 2 THEN 'update_post' "
          "WHEN 3 THEN 'notify' WHEN 4 THEN 'upload' WHEN 5 THEN 'thread' ELSE 'card' END, "
          "'C0SOCIAL01', '{{}}', 'sent', 1, {ts}, {ts}, {ts}, '1700000000.' || i")



def test_a_forget_reads_the_outbox_from_their_first_mention_by_index(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as session:
        insert_generated(session, "mentions", MENTION_COLUMNS, MENTION_VALUES,
                         now - timedelta(hours=1), {"ws": workspace_id, "n": MENTIONS})
        first = session.scalar(select(func.min(Mention.id)))
        insert_generated(session, "outbox", COLUMNS, VALUES, now - timedelta(hours=1),
                         {"ws": workspace_id, "n": ROWS, "first": first,
                          "mentions": MENTIONS})
        author = Author(workspace_id=workspace_id, network="x", handle="ana")
        session.add(author)
        session.flush()
        session.add(Mention(workspace_id=workspace_id, author_id=author.id, network="x",
                            external_id="1", url="https://x.com/ana/1", text="@acme hello",
                            published_at=now))
    engine: Engine = sessions.kw["bind"]
    gather_statistics(engine)
    with captured_statements(engine) as seen:
        assert do_forget(sessions, workspace_id, CLI, "ana").mentions == 1
    reads = [(s, p, explain(engine, s, p)) for s, p in seen
             if "FROM outbox" in s and not s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    by_time = [(s, p, plan) for s, p, plan in reads if "outbox.created_at >=" in s]
    # Uploads, reports, DMs, messages quoting, and the rows naming them otherwise.
    assert len(by_time) == 5, [s for s, _, _ in reads]
    for statement, _, plan in reads:
        assert "SCAN outbox\n" not in plan + "\n", (statement, plan)
        assert not plan_nodes(plan, "Seq Scan", "outbox"), (statement, plan)
    for statement, parameters, plan in by_time:
        # From their first mention on, the kinds read: not every sent row, nor every row
        # without a mention. (The uploads waiting may be read as the rows waiting.)
        waiting = "upload" in str(parameters) and "ix_outbox_status_next_attempt_at_id" in plan
        assert "ix_outbox_workspace_id_kind_created_at" in plan or waiting, (statement, plan)
