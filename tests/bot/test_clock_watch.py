"""The scheduler's jobs keep their pace when the wall clock steps back (an NTP step, a VM
restored from a snapshot): APScheduler waits for a job's next run by the wall clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import apscheduler.schedulers.base
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.scheduler import CLOCK_SLACK, ClockWatch, build_scheduler
from tests.bot.test_failure_streak import _closed_port


class _SteppedWall:
    """The wall clock the scheduler reads, which the test steps."""

    offset = timedelta(0)

    @classmethod
    def now(cls, tz: object = None) -> datetime:
        return datetime.now(UTC) + cls.offset


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> type[_SteppedWall]:
    class Stepped(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return _SteppedWall.now().astimezone(tz)  # type: ignore[arg-type]

    _SteppedWall.offset = timedelta(0)
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", Stepped)
    return _SteppedWall


def test_every_interval_job_is_brought_back_after_the_clock_steps_back_an_hour(
        wall: type[_SteppedWall]) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/vigie"
    runtime = build_runtime(load_settings(database_url=url))
    scheduler = build_scheduler(runtime, blocking=False)
    scheduler.start(paused=True)  # next runs computed, no job run
    try:
        watch = ClockWatch(scheduler, wall=lambda: wall.now())
        assert watch.check() == []  # a steady clock moves nothing
        wall.offset = -timedelta(hours=1)
        moved = watch.check()
        # The interval jobs; a one-off job at start (seal_secrets) has no interval to keep.
        jobs = [job for job in scheduler.get_jobs() if isinstance(job.trigger, IntervalTrigger)]
        assert sorted(moved) == sorted(job.id for job in jobs)
        now = wall.now()
        for job in jobs:
            assert job.next_run_time <= now + job.trigger.interval + CLOCK_SLACK, job.id
        assert watch.check() == []  # once moved, they stay
    finally:
        scheduler.shutdown(wait=False)
        runtime.close()


def test_the_outbox_flush_runs_again_at_once_after_the_clock_steps_back(
        wall: type[_SteppedWall]) -> None:
    """The outbox's one-second flush (build_scheduler's settings) ran not once in the 20 s
    after the clock stepped back 20 s."""
    ran = threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(ran.set, IntervalTrigger(seconds=1), id="outbox_flush",
                      max_instances=1, coalesce=True, misfire_grace_time=30)
    watch = ClockWatch(scheduler, wall=lambda: wall.now())
    scheduler.start()
    try:
        assert ran.wait(10)
        wall.offset = -timedelta(seconds=20)
        scheduler.wakeup()
        ran.clear()
        watch.start()
        assert ran.wait(10)  # within about a second, not after the 20 s step
    finally:
        watch.stop()
        scheduler.shutdown(wait=False)
