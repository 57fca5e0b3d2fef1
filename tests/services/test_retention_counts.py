"""Retention keeps the purged mentions in the hourly, priority and day counts (the reports'
figures of purged days), and leaves no emptied count row behind. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.privacy import purge_older_than
from storage.db import transaction
from storage.models import Mention, Watch, Workspace
from storage.models_reporting import MentionDayCount, MentionHourCount, MentionPriorityCount

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_retention_keeps_the_counts_and_leaves_no_emptied_row(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        ws = Workspace(team_id="T0PROBE01")
        session.add(ws)
        session.flush()
        watch = Watch(workspace_id=ws.id, name="w", channel_id="C0PROBE1", alert_threshold=40)
        session.add(watch)
        session.flush()
        session.add_all([Mention(
            workspace_id=ws.id, watch_id=watch.id, network="rss", external_id=f"m{n}",
            url="https://example.com", text="x",
            published_at=NOW - timedelta(days=100 + n), priority=10,
            created_at=NOW - timedelta(days=100 + n)) for n in range(5)])
    assert purge_older_than(sessions, 30, NOW).mentions == 5
    with sessions() as session:
        counted = [session.scalar(select(func.sum(table.mentions))) for table in (
            MentionHourCount, MentionDayCount, MentionPriorityCount)]
        zero = [session.scalar(select(func.count()).select_from(table).where(
            table.mentions == 0)) for table in (
            MentionHourCount, MentionDayCount, MentionPriorityCount)]
    assert counted == [5, 5, 5]
    assert zero == [0, 0, 0]
