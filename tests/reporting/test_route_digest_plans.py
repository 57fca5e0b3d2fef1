"""The digest of a topic route's channel reads its volumes and top priorities from the
window's mentions of the routed topic (ix_mentions_topic_window), never every mention of
the day: its statements are captured and EXPLAINed over 20,000 mentions, on SQLite and
PostgreSQL (statistics gathered). Times are in bench/bench_digest.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from storage.db import transaction
from storage.models import Watch
from storage.models_topics import TopicRoute
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import captured_statements, explain

ROWS = 20_000
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BUGS = "C0PRODBUG1"
INDEX = "ix_mentions_topic_window"
WHOLE_MENTIONS = "SELECT mentions.id, mentions.workspace_id, "
"""How a statement that loads whole mentions (the overdue walk's pages) begins."""
COLUMNS = ("workspace_id, watch_id, network, external_id, url, text, published_at, status, "
           "sentiment_label, priority, engagement, intent_flags, topics, topic_mask, alerted, "
           "version, created_at, updated_at")
# One mention a minute up to NOW, in two watches; about one in twelve about an outage
# (bit 8), some with billing (bit 1) too, a few with billing only.
VALUES = (
    ":ws, CASE WHEN i % 3 = 0 THEN :w1 ELSE :w2 END, "
    "CASE i % 4 WHEN 0 THEN 'reddit' WHEN 1 THEN 'x' WHEN 2 THEN 'rss' ELSE 'mastodon' END, "
    "'e' || i, 'https://example.org/' || i, 'mention ' || i, {ts}, "
    "CASE WHEN i % 5 = 0 THEN 'replied' ELSE 'new' END, "
    "CASE i % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral' ELSE 'positive' END, "
    "i % 100, 0, '[]', '[]', "
    "CASE WHEN i % 12 = 0 THEN 8 + (i / 12) % 2 WHEN i % 29 = 0 THEN 1 ELSE 0 END, {false}, 1, "
    "{ts}, {ts}"
)


def _load(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        watches = [Watch(workspace_id=workspace_id, name=name, channel_id=f"C0{name.upper()}01")
                   for name in ("w1", "w2")]
        session.add_all(watches)
        session.flush()
        session.add(TopicRoute(workspace_id=workspace_id, watch_id=watches[0].id,
                               topic="outage", channel_id=BUGS))
        params = {"ws": workspace_id, "w1": watches[0].id, "w2": watches[1].id, "n": ROWS}
        insert_generated(session, "mentions", COLUMNS, VALUES, NOW, params)
    with sessions.kw["bind"].connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def test_route_digest_reads_the_routed_topic_through_its_index(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    with sessions() as session:
        config = channel_config(session, workspace_id, BUGS, "UTC")
    assert config.scope.by_topic
    with captured_statements(engine) as seen, sessions() as session:
        report = build_digest_report(session, config, end=NOW, now=NOW)
    assert report.total.current and len(report.top_priority) == 5
    # The day's and the chart's volumes (GROUP BY sentiment) and the top priorities
    # (ORDER BY priority): the statements that read the window's mentions; not the
    # overdue walk's pages (``overdue_now``: whole mentions, for the SLA rule), which
    # read open work.
    reads = [(statement, parameters) for statement, parameters in seen
             if "topic_mask" in statement and "published_at" in statement
             and not statement.startswith(WHOLE_MENTIONS)
             and (("GROUP BY" in statement and "sentiment_label" in statement)
                  or "ORDER BY mentions.priority DESC" in statement)]
    walk = [(statement, parameters) for statement, parameters in seen
            if statement.startswith(WHOLE_MENTIONS)]
    assert walk
    for statement, parameters in walk:  # open work, read through its own indexes
        assert "ix_mentions_open" in explain(engine, statement, parameters), statement
    assert len(reads) >= 3
    for statement, parameters in reads:
        plan = explain(engine, statement, parameters)
        assert INDEX in plan, (statement, plan)
        assert "SCAN mentions\n" not in plan + "\n", plan
