"""The windows of scheduled digests: consecutive daily digests cover each moment exactly
once, across clock changes (a digest time that does not exist that day), a change of the
digest time, a change of the workspace's zone and a host down for a day."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.stored import spec_payload
from bot.services.actors import CLI
from bot.services.reporting.digest import POSTED, digest_spec, next_digest, run_due_digests
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.periods import next_at
from bot.services.reporting.schedule import channel_config, do_set_digest_time
from bot.services.workspace_settings import do_set_setting
from bot.slack.render import render_payload
from storage.db import transaction
from storage.models import Workspace
from storage.models_reporting import DigestRun, DigestSchedule
from tests.reporting.dataset import CHANNEL as DATASET_CHANNEL
from tests.reporting.dataset import Dataset

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


def _assert_tiled(windows: list[tuple[date, datetime, datetime]]) -> None:
    """Each window starts where the one before ended: each moment in exactly one."""
    for (_d, _s, end), (day, start, _e) in itertools.pairwise(windows):
        assert start == end, f"the digest of {day} starts at {start}, the last ended {end}"


def _moved(
    sessions: sessionmaker[Session], workspace_id: int, local_time: str, at: datetime
) -> None:
    """``/cm digest set local_time``, as if run at ``at`` (the command stamps the real
    clock)."""
    do_set_digest_time(sessions, workspace_id, CLI, channel_id=CHANNEL, local_time=local_time)
    with transaction(sessions) as session:
        session.execute(update(DigestSchedule).values(updated_at=at))


def test_a_later_digest_time_leaves_no_hour_uncovered(sessions: sessionmaker[Session]) -> None:
    workspace_id = _workspace(sessions, "UTC", "09:00")
    assert _tick(sessions, _utc(12, 1, 0), _utc(12, 1, 10)) == [(date(2026, 12, 1), POSTED)]
    _moved(sessions, workspace_id, "18:00", _utc(12, 1, 10))
    # Today's digest is posted; tomorrow's covers from this morning's 09:00.
    assert _tick(sessions, _utc(12, 1, 10), _utc(12, 3, 0)) == [(date(2026, 12, 2), POSTED)]
    assert _windows(sessions) == [
        (date(2026, 12, 1), _utc(11, 30, 9), _utc(12, 1, 9)),
        (date(2026, 12, 2), _utc(12, 1, 9), _utc(12, 2, 18)),
    ]


def test_the_next_digest_is_the_one_the_scheduler_posts(
        sessions: sessionmaker[Session]) -> None:
    # `/cm digest set 04:00` at 03:10 on a day whose 00:00 digest went out: one digest a
    # local date, so the next comes tomorrow at 04:00, where the reply said today.
    workspace_id = _workspace(sessions, "UTC", "00:00")
    assert _tick(sessions, _utc(12, 1, 0), _utc(12, 1, 3, 15)) == [(date(2026, 12, 1), POSTED)]
    _moved(sessions, workspace_id, "04:00", _utc(12, 1, 3, 10))
    with sessions() as session:
        config = channel_config(session, workspace_id, CHANNEL)
    upcoming = next_digest(sessions, config, _utc(12, 1, 3, 10))
    assert (upcoming.at, upcoming.today_done) == (_utc(12, 2, 4), True)
    assert _tick(sessions, _utc(12, 1, 3, 15), _utc(12, 2, 3, 45)) == []
    assert _tick(sessions, _utc(12, 2, 3, 45), _utc(12, 2, 4, 15)) == [
        (date(2026, 12, 2), POSTED)]
    # Moved again on the 2nd, its digest out: the 3rd's; once the new time passed the 2nd
    # would have had no more anyway; on the 3rd, before 09:00, today's.
    _moved(sessions, workspace_id, "09:00", _utc(12, 2, 5))
    with sessions() as session:
        config = channel_config(session, workspace_id, CHANNEL)
    upcoming = next_digest(sessions, config, _utc(12, 2, 5))
    assert (upcoming.at, upcoming.today_done) == (_utc(12, 3, 9), True)
    upcoming = next_digest(sessions, config, _utc(12, 2, 9, 30))
    assert (upcoming.at, upcoming.today_done) == (_utc(12, 3, 9), False)
    upcoming = next_digest(sessions, config, _utc(12, 3, 8))
    assert (upcoming.at, upcoming.today_done) == (_utc(12, 3, 9), False)


def test_an_earlier_digest_time_repeats_no_hour(sessions: sessionmaker[Session]) -> None:
    workspace_id = _workspace(sessions, "UTC", "18:00")
    assert _tick(sessions, _utc(12, 1, 17), _utc(12, 1, 19)) == [(date(2026, 12, 1), POSTED)]
    _moved(sessions, workspace_id, "09:00", _utc(12, 1, 20))
    assert _tick(sessions, _utc(12, 1, 20), _utc(12, 2, 12)) == [(date(2026, 12, 2), POSTED)]
    assert _windows(sessions)[-1] == (date(2026, 12, 2), _utc(12, 1, 18), _utc(12, 2, 9))


def test_a_day_down_is_folded_into_the_next_digest(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, "Europe/Paris", "09:00")
    # Up at 09:00 Paris on 1 December, down from 21:00 until 08:30 on 3 December.
    assert _tick(sessions, _utc(12, 1, 8), _utc(12, 1, 20)) == [(date(2026, 12, 1), POSTED)]
    assert _tick(sessions, _utc(12, 3, 7, 30), _utc(12, 3, 9)) == [(date(2026, 12, 3), POSTED)]
    assert _windows(sessions) == [
        (date(2026, 12, 1), _utc(11, 30, 8), _utc(12, 1, 8)),
        (date(2026, 12, 3), _utc(12, 1, 8), _utc(12, 3, 8)),
    ]


def test_a_digest_off_for_weeks_starts_with_a_day(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, "UTC", "09:00")
    _tick(sessions, _utc(12, 1, 9), _utc(12, 1, 10))
    _tick(sessions, _utc(12, 20, 9), _utc(12, 20, 10))
    assert _windows(sessions)[-1] == (date(2026, 12, 20), _utc(12, 19, 9), _utc(12, 20, 9))


def test_a_zone_moved_west_posts_no_second_digest(sessions: sessionmaker[Session]) -> None:
    workspace_id = _workspace(sessions, "Asia/Tokyo", "09:00")
    # Tokyo's 09:00 on 8 December is 00:00 UTC; an hour later the zone becomes Los
    # Angeles', where it is 17:00 on 7 December, whose 09:00 digest Tokyo's covered.
    assert _tick(sessions, _utc(12, 7, 23), _utc(12, 8, 1)) == [(date(2026, 12, 8), POSTED)]
    do_set_setting(sessions, workspace_id, CLI, "timezone", "America/Los_Angeles")
    # 8 December comes again in Los Angeles: its digest is posted; the next covers since.
    assert _tick(sessions, _utc(12, 8, 1), _utc(12, 9, 18)) == [(date(2026, 12, 9), POSTED)]
    assert _windows(sessions) == [
        (date(2026, 12, 8), _utc(12, 7, 0), _utc(12, 8, 0)),
        (date(2026, 12, 9), _utc(12, 8, 0), _utc(12, 9, 17)),
    ]


def test_a_zone_moved_east_starts_where_the_last_digest_ended(
    sessions: sessionmaker[Session],
) -> None:
    workspace_id = _workspace(sessions, "America/Los_Angeles", "09:00")
    assert _tick(sessions, _utc(12, 7, 16), _utc(12, 7, 18)) == [(date(2026, 12, 7), POSTED)]
    do_set_setting(sessions, workspace_id, CLI, "timezone", "Asia/Tokyo")
    assert _tick(sessions, _utc(12, 7, 18), _utc(12, 8, 1)) == [(date(2026, 12, 8), POSTED)]
    assert _windows(sessions)[-1] == (date(2026, 12, 8), _utc(12, 7, 17), _utc(12, 8, 0))


@pytest.mark.parametrize(
    ("first", "moved", "down", "back", "zoned", "last", "first_start", "last_end", "missed"),
    [
        # Spring: 02:30 is skipped on 29 March; down from 3 April 19:00 to 5 April 11:00 in
        # Paris; the zone moves after 6 April's 18:00 digest (16:00 UTC): 16:00 in New York.
        (
            _utc(3, 26, 0),
            _utc(4, 1, 10),
            _utc(4, 3, 17),
            _utc(4, 5, 9),
            _utc(4, 6, 20),
            _utc(4, 9, 0),
            _utc(3, 25, 1, 30),
            _utc(4, 8, 22),
            date(2026, 4, 4),
        ),
        # Autumn: 02:30 happens twice on 25 October; down from 30 October 19:00 to 1
        # November 10:00 in Paris; New York leaves summer time on 1 November, before the
        # zone moves there after 2 November's digest (17:00 UTC).
        (
            _utc(10, 22, 0),
            _utc(10, 28, 10),
            _utc(10, 30, 18),
            _utc(11, 1, 9),
            _utc(11, 2, 20),
            _utc(11, 5, 0),
            _utc(10, 21, 0, 30),
            _utc(11, 4, 23),
            date(2026, 10, 31),
        ),
    ],
)
def test_each_moment_in_exactly_one_digest(
    sessions: sessionmaker[Session],
    first: datetime,
    moved: datetime,
    down: datetime,
    back: datetime,
    zoned: datetime,
    last: datetime,
    first_start: datetime,
    last_end: datetime,
    missed: date,
) -> None:
    """Two weeks of hourly ticks for a digest at 02:30 in Paris: a clock change, the time
    moved to 18:00, the host down for a day, then the zone moved to New York (whose local
    date of that day comes again: its digest is folded into the next)."""
    workspace_id = _workspace(sessions, "Europe/Paris", "02:30")
    hour = timedelta(hours=1)
    _tick(sessions, first, moved, hour)
    _moved(sessions, workspace_id, "18:00", moved)
    _tick(sessions, moved, down, hour)
    _tick(sessions, back, zoned, hour)
    do_set_setting(sessions, workspace_id, CLI, "timezone", "America/New_York")
    _tick(sessions, zoned, last, hour)
    windows = _windows(sessions)
    _assert_tiled(windows)
    assert (windows[0][1], windows[-1][2]) == (first_start, last_end)
    assert missed not in {day for day, _s, _e in windows}
    assert len(windows) >= 11


def test_a_catch_up_window_compares_with_the_period_as_long_before(
    sessions: sessionmaker[Session], dataset: Dataset
) -> None:
    """A digest folding two days in (the host was down) compares its volumes with the two
    days before it, not with one."""
    # 24 October 10:00 to 26 October 09:00 in Paris: the two days before hold 4 of the
    # data set's posts, the one day before 2 (m13 and m14 are on 23 October).
    end = _utc(10, 26, 8)
    start = end - timedelta(hours=48)
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, DATASET_CHANNEL, "UTC")
        folded = build_digest_report(session, config, start=start, end=end, now=end)
        before = build_digest_report(
            session, config, start=start - (end - start), end=start, now=end
        )
    assert (folded.window_start, folded.window_end) == (start, end)
    assert folded.total.current
    assert folded.total.previous == before.total.current == 4
    # And it says so: not "the day before" but the 48 hours before.
    english, _ = render_payload(spec_payload(digest_spec(folded, "en")))
    french, _ = render_payload(spec_payload(digest_spec(folded, "fr")))
    assert "vs 4 in the 48 hours before" in english and "day before" not in english
    assert "par rapport aux 4 des 48 heures précédentes" in french
    assert "de la veille" not in french


@pytest.mark.parametrize(
    ("zone", "moment", "now", "upcoming"),
    [
        # After 29 March's 02:30 (moved to 03:30 CEST), the next is 30 March 02:30 CEST.
        ("Europe/Paris", time(2, 30), _utc(3, 29, 2), _utc(3, 30, 0, 30)),
        # Before it, it is today's, at 03:30 CEST.
        ("Europe/Paris", time(2, 30), _utc(3, 29, 1), _utc(3, 29, 1, 30)),
        # Santiago's skipped midnight: 6 September's ran at 01:00; 7 September's at 00:00.
        ("America/Santiago", time(0, 0), _utc(9, 6, 5), _utc(9, 7, 3)),
    ],
)
def test_the_next_digest_time_after_a_skipped_one(
    zone: str, moment: time, now: datetime, upcoming: datetime
) -> None:
    assert next_at(moment, ZoneInfo(zone), now) == upcoming
