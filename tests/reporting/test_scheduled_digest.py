"""run_due_digests: due at the local time, once per channel and local day, across workers,
restarts and the clock change; empty days; the schedule commands."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI, Actor
from bot.services.errors import Forbidden, ServiceError
from bot.services.outbox import KIND_CHART, KIND_POST
from bot.services.reporting.digest import ALREADY_DONE, POSTED, SKIPPED_EMPTY, run_due_digests
from bot.services.reporting.schedule import (
    do_disable_digest,
    do_set_digest_skip_empty,
    do_set_digest_time,
    get_channel_config,
)
from bot.slack.render import render_payload
from storage.models import OutboxMessage
from storage.models_reporting import DigestRun, DigestSchedule
from tests.reporting.dataset import CHANNEL, OTHER_CHANNEL, Dataset, utc

QUIET_CHANNEL = "C07QUIET001"


def _outbox(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(row.kind, row.channel) for row in session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


def _backdate_schedules(sessions: sessionmaker[Session]) -> None:
    # Schedules set "now" (real time) would not be due on the data set's past dates.
    with sessions() as session, session.begin():
        session.execute(update(DigestSchedule).values(updated_at=utc(1, 1, 0)))


def test_due_at_local_nine_once_per_day(sessions: sessionmaker[Session],
                                        dataset: Dataset) -> None:
    tz = "Europe/Paris"
    assert run_due_digests(sessions, now=utc(10, 25, 7, 59), default_timezone=tz,
                           chart=False) == []
    outcomes = run_due_digests(sessions, now=utc(10, 25, 8), default_timezone=tz, chart=False)
    assert sorted((o.channel_id, o.status, o.local_date) for o in outcomes) == [
        (CHANNEL, POSTED, date(2026, 10, 25)), (OTHER_CHANNEL, POSTED, date(2026, 10, 25))]
    assert {o.channel_id: o.mention_count for o in outcomes} == {CHANNEL: 11, OTHER_CHANNEL: 1}
    # Later ticks the same day, and a "restarted" process, do nothing more.
    assert run_due_digests(sessions, now=utc(10, 25, 8, 1), default_timezone=tz,
                           chart=False) == []
    assert run_due_digests(sessions, now=utc(10, 25, 22, 59), default_timezone=tz,
                           chart=False) == []
    assert _outbox(sessions) == [(KIND_POST, CHANNEL), (KIND_POST, OTHER_CHANNEL)]


def test_summer_time_day_is_due_an_hour_earlier_in_utc(sessions: sessionmaker[Session],
                                                       dataset: Dataset) -> None:
    assert run_due_digests(sessions, now=utc(10, 24, 6, 59), default_timezone="UTC",
                           chart=False) == []
    outcomes = run_due_digests(sessions, now=utc(10, 24, 7), default_timezone="UTC",
                               chart=False)
    assert {o.local_date for o in outcomes} == {date(2026, 10, 24)}
    with sessions() as session:
        run = session.scalar(select(DigestRun).where(DigestRun.channel_id == CHANNEL))
    assert run is not None
    assert (run.window_start, run.window_end) == (utc(10, 23, 7), utc(10, 24, 7))


def test_missed_digest_is_sent_later_the_same_day(sessions: sessionmaker[Session],
                                                  dataset: Dataset) -> None:
    outcomes = run_due_digests(sessions, now=utc(10, 25, 15), default_timezone="UTC",
                               chart=False)
    assert {o.status for o in outcomes} == {POSTED}
    with sessions() as session:
        run = session.scalar(select(DigestRun).where(DigestRun.channel_id == CHANNEL))
    # The window still ends at the scheduled 09:00, so the next day starts where it stopped.
    assert run is not None and run.window_end == utc(10, 25, 8)


def test_chart_is_uploaded_after_the_message(sessions: sessionmaker[Session],
                                             dataset: Dataset) -> None:
    run_due_digests(sessions, now=utc(10, 25, 8), default_timezone="UTC")
    rows = [row for row in _outbox(sessions) if row[1] == CHANNEL]
    assert rows == [(KIND_POST, CHANNEL), (KIND_CHART, CHANNEL)]
    with sessions() as session:
        run = session.scalar(select(DigestRun).where(DigestRun.channel_id == CHANNEL))
    assert run is not None
    # The complete days are kept for the next run's chart (13 of 14; today is not over).
    assert len(run.series["days"]) == 13


def test_configured_time_zone_and_empty_days(sessions: sessionmaker[Session],
                                             dataset: Dataset) -> None:
    do_set_digest_time(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                       local_time="8:30", zone_name="America/New_York")
    do_set_digest_skip_empty(sessions, dataset.workspace_id, CLI, channel_id=QUIET_CHANNEL,
                             skip=True)
    do_set_digest_time(sessions, dataset.workspace_id, CLI, channel_id=QUIET_CHANNEL,
                       local_time="07:00")
    do_disable_digest(sessions, dataset.workspace_id, CLI, channel_id=OTHER_CHANNEL)
    _backdate_schedules(sessions)
    # 08:30 in New York (EDT until 1 November) is 12:30 UTC.
    outcomes = run_due_digests(sessions, now=utc(10, 25, 12, 29), default_timezone="UTC",
                               chart=False)
    # The quiet channel has no watch, so its digest covers the whole workspace; it was due
    # at 07:00 Paris (06:00 UTC) and its day had mentions.
    assert [(o.channel_id, o.status) for o in outcomes] == [(QUIET_CHANNEL, POSTED)]
    outcomes = run_due_digests(sessions, now=utc(10, 25, 12, 30), default_timezone="UTC",
                               chart=False)
    assert [(o.channel_id, o.status) for o in outcomes] == [(CHANNEL, POSTED)]
    # A week later nothing happened: the quiet channel skips its empty day, the other posts
    # one line.
    outcomes = run_due_digests(sessions, now=utc(11, 5, 18), default_timezone="UTC",
                               chart=False)
    assert sorted((o.channel_id, o.status) for o in outcomes) == [
        (CHANNEL, POSTED), (QUIET_CHANNEL, SKIPPED_EMPTY)]
    with sessions() as session:
        last = session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert last is not None and last.channel == CHANNEL
    text, blocks = render_payload(last.payload)
    assert blocks is not None and len(blocks) == 1 and "No new mention" in text


def test_settings_are_validated(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    for value in ("25:00", "9h", "08:60", ""):
        with pytest.raises(ServiceError) as err:
            do_set_digest_time(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                               local_time=value)
        assert err.value.key == "digest.bad_time"
    for zone in ("Mars/Olympus", "../etc/passwd", "Europe/Pariss"):
        with pytest.raises(ServiceError) as err:
            do_set_digest_time(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                               local_time="08:00", zone_name=zone)
        assert err.value.key == "digest.bad_zone"
    with pytest.raises(Forbidden):
        do_set_digest_time(sessions, dataset.workspace_id, Actor("U07NOBODY1", "test"),
                           channel_id=CHANNEL, local_time="08:00")
    config = get_channel_config(sessions, dataset.workspace_id, CHANNEL)
    assert (config.local_time.strftime("%H:%M"), config.timezone_name) == ("09:00",
                                                                           "Europe/Paris")


def test_a_schedule_set_after_the_time_waits_for_tomorrow(sessions: sessionmaker[Session],
                                                          dataset: Dataset) -> None:
    do_set_digest_time(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                       local_time="08:30", zone_name="Europe/Paris")
    with sessions() as session, session.begin():
        session.execute(update(DigestSchedule).values(updated_at=utc(10, 25, 10)))
    outcomes = run_due_digests(sessions, now=utc(10, 25, 11), default_timezone="UTC",
                               chart=False)
    assert CHANNEL not in {o.channel_id for o in outcomes}
    outcomes = run_due_digests(sessions, now=utc(10, 26, 7, 30), default_timezone="UTC",
                               chart=False)
    assert (CHANNEL, POSTED) in {(o.channel_id, o.status) for o in outcomes}


def test_two_workers_post_once(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def worker() -> None:
        barrier.wait()
        outcomes = run_due_digests(sessions, now=utc(10, 25, 8), default_timezone="UTC",
                                   chart=False)
        results.append([o.status for o in outcomes if o.channel_id == CHANNEL])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = [status for result in results for status in result]
    assert statuses.count(POSTED) == 1
    assert set(statuses) <= {POSTED, ALREADY_DONE}
    with sessions() as session:
        posts = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == CHANNEL))
        runs = session.scalar(select(func.count()).select_from(DigestRun).where(
            DigestRun.channel_id == CHANNEL))
    assert (posts, runs) == (1, 1)
