"""Retention leaves no emptied count rows behind: the hourly, priority and day counts
follow the purge down to zero and their zero rows before the cut-off go (found in review).
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.privacy import purge_older_than
from storage.db import transaction
from storage.models import Mention, Watch, Workspace
from storage.models_reporting import MentionDayCount, MentionHourCount

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_retention_drops_emptied_day_counts_like_hour_counts(
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
    assert purge_older_than(sessions, 30, NOW) == 5
    with sessions() as session:
        hours = session.scalar(select(func.count()).select_from(MentionHourCount))
        days = session.scalar(select(func.count()).select_from(MentionDayCount))
        zero_days = session.scalar(select(func.count()).select_from(MentionDayCount)
                                   .where(MentionDayCount.mentions == 0))
    assert hours == 0
    assert (days, zero_days) == (0, 0), f"{days} day rows left, {zero_days} at zero"
