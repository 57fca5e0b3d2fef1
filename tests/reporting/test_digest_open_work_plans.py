"""The digest of a channel's watches reads its open work and its answered share from
their partial indexes alone (ix_mentions_open_work, ix_mentions_open_by_urgency,
ix_mentions_answered), never from the list of every link its watches ever had, whose size
grows with the table: its statements are captured and EXPLAINed over 20,000 mentions, on
SQLite and PostgreSQL (statistics gathered). Times are in bench/bench_digest.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from storage.db import transaction
from storage.models import Watch
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import captured_statements, explain, gather_statistics

ROWS = 20_000
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHANNEL = "C0OPENPLAN1"
COLUMNS = ("workspace_id, watch_id, network, external_id, url, text, published_at, status, "
           "sentiment_label, priority, engagement, intent_flags, topics, topic_mask, alerted, "
           "version, created_at, updated_at, first_response_at")
# One mention a minute up to NOW in the channel's two watches; one in five alerted and
# left open (assigned), one in five answered, the rest waiting for the digest.
VALUES = (
    ":ws, CASE WHEN i % 3 = 0 THEN :w1 ELSE :w2 END, "
    "CASE i % 4 WHEN 0 THEN 'reddit' WHEN 1 THEN 'x' WHEN 2 THEN 'rss' ELSE 'mastodon' END, "
    "'e' || i, 'https://example.org/' || i, 'mention ' || i, {ts}, "
    "CASE i % 5 WHEN 0 THEN 'replied' WHEN 1 THEN 'assigned' ELSE 'new' END, "
    "CASE i % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral' ELSE 'positive' END, "
    "i % 100, 0, '[]', '[]', CASE WHEN i % 7 = 0 THEN 2 ELSE 0 END, "
    "CASE WHEN i % 5 = 1 THEN NOT {false} ELSE {false} END, 1, {ts}, {ts}, "
    "CASE WHEN i % 5 = 0 THEN {ts} END"
)
OPEN_WORK = "status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved')"
ANSWERED = "(first_response_at IS NOT NULL OR replied_at IS NOT NULL)"
EVERY_LINK = "ix_mention_watches_watch_id_mention_id (watch_id=?)"
"""SQLite's plan step listing every link of the watches (no mention id to probe)."""


def _load(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        watches = [Watch(workspace_id=workspace_id, name=name, channel_id=CHANNEL)
                   for name in ("w1", "w2")]
        session.add_all(watches)
        session.flush()
        params = {"ws": workspace_id, "w1": watches[0].id, "w2": watches[1].id, "n": ROWS}
        insert_generated(session, "mentions", COLUMNS, VALUES, NOW, params)
    gather_statistics(sessions.kw["bind"])


def _index_only(engine: Engine, index: str, plan: str) -> bool:
    if engine.dialect.name == "postgresql":
        return re.search(f'"Node Type": "Index Only Scan",[^{{}}]*"Index Name": "{index}"',
                         plan) is not None
    return f"USING COVERING INDEX {index} " in plan


def test_channel_digest_reads_open_and_answered_work_from_their_indexes_alone(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    with sessions() as session:
        config = channel_config(session, workspace_id, CHANNEL, "UTC")
    assert config.scope.watch_ids and not config.scope.by_topic
    with captured_statements(engine) as seen, sessions() as session:
        report = build_digest_report(session, config, end=NOW, now=NOW)
    assert report.overdue_count and len(report.overdue) == 10 and report.open_by_topic
    assert report.responses.answered
    mentions = [(statement, parameters) for statement, parameters in seen
                if "FROM mentions" in statement]
    open_pass = [item for item in mentions if OPEN_WORK in item[0] and "GROUP BY" in item[0]]
    answered = [item for item in mentions if ANSWERED in item[0]]
    assert len(open_pass) == 1 and len(answered) >= 2
    plans = {statement: explain(engine, statement, parameters)
             for statement, parameters in mentions if OPEN_WORK in statement
             or ANSWERED in statement}
    for statement, plan in plans.items():
        assert EVERY_LINK not in plan, (statement, plan)
        # From open work, answered work, or the few links beyond a mention's first (the
        # reopened cases' and the quiet mentions' ids may start from those few rows).
        few = statement.startswith(("SELECT cases.", "SELECT quiet_mentions."))
        assert few or any(index in plan for index in (
            "ix_mentions_open", "ix_mentions_answered", "ix_mention_watches_doubles")), \
            (statement, plan)
    # Counting open work (by status, overdue, topic, in the window) visits no mention row.
    assert _index_only(engine, "ix_mentions_open_work", plans[open_pass[0][0]]), \
        plans[open_pass[0][0]]
