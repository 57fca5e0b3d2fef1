"""The windows of scheduled digests: consecutive daily digests cover each moment exactly
once, across clock changes (a digest time that does not exist that day), a change of the
digest time, a change of the workspace's zone and a host down for a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest import POSTED, run_due_digests
from storage.db import transaction
from storage.models import Workspace
from storage.models_reporting import DigestRun, DigestSchedule

CHANNEL = "C07WINDOW01"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _workspace(sessions: sessionmaker[Session], zone: str, local_time: str) -> int:
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T07WINDOW1", timezone=zone)
        session.add(workspace)
        session.flush()
        session.add(
            DigestSchedule(
                workspace_id=workspace.id,
                channel_id=CHANNEL,
                local_time=local_time,
                enabled=True,
                skip_empty=False,
                updated_at=LONG_AGO,
                created_at=LONG_AGO,
            )
        )
        return workspace.id


def _tick(
    sessions: sessionmaker[Session],
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=15),
) -> list[tuple[date, str]]:
    """The scheduler's ticks from ``start`` to ``end``: what each posted."""
    done = []
    moment = start
    while moment < end:
        done += [
            (o.local_date, o.status)
            for o in run_due_digests(sessions, now=moment, default_timezone="UTC", chart=False)
        ]
        moment += step
    return done


def _windows(sessions: sessionmaker[Session]) -> list[tuple[date, datetime, datetime]]:
    with sessions() as session:
        return [
            (day, start.astimezone(UTC), end.astimezone(UTC))
            for day, start, end in session.execute(
                select(DigestRun.local_date, DigestRun.window_start, DigestRun.window_end)
                .where(DigestRun.channel_id == CHANNEL)
                .order_by(DigestRun.id)
            )
        ]


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "local_time", "day", "start", "end"),
    [
        # 02:30 does not exist in Paris on 29 March: the digest goes out at 03:30 CEST (01:30
        # UTC) and covers the day since 02:30 CET the day before (01:30 UTC).
        ("Europe/Paris", "02:30", date(2026, 3, 29), _utc(3, 28, 1, 30), _utc(3, 29, 1, 30)),
        # Lord Howe moves half an hour, 02:00 -> 02:30, on 4 October.
        (
            "Australia/Lord_Howe",
            "02:15",
            date(2026, 10, 4),
            _utc(10, 2, 15, 45),
            _utc(10, 3, 15, 45),
        ),
        # Santiago's midnight does not exist on 6 September (00:00 -> 01:00).
        ("America/Santiago", "00:00", date(2026, 9, 6), _utc(9, 5, 4), _utc(9, 6, 4)),
    ],
)
def test_a_skipped_digest_time_still_covers_the_whole_day_before(
    sessions: sessionmaker[Session],
    zone: str,
    local_time: str,
    day: date,
    start: datetime,
    end: datetime,
) -> None:
    _workspace(sessions, zone, local_time)
    assert _tick(sessions, end, end + timedelta(minutes=30)) == [(day, POSTED)]
    assert _windows(sessions) == [(day, start, end)]
