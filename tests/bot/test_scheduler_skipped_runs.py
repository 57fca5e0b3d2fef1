"""A single-instance job still running when it is due again (the outbox flush waiting on a
slow Slack answer, every second): the run is skipped, as intended, and logged at DEBUG, not
as an APScheduler WARNING each second; a job that raises is still logged as an error.
A run that goes on past its bound (a poll stuck for hours) is one warning, not one a skip."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduler import QuietBackgroundScheduler


def test_a_skipped_run_is_no_warning_and_an_error_still_is(
        caplog: pytest.LogCaptureFixture) -> None:
    scheduler = QuietBackgroundScheduler(timezone=UTC)
    held, release = threading.Event(), threading.Event()
    skipped, failed = threading.Event(), threading.Event()

    def slow_flush() -> None:
        held.set()
        release.wait(30)

    def broken() -> None:
        raise RuntimeError("the job broke")

    def heard(event: JobEvent) -> None:
        (failed if event.code == EVENT_JOB_ERROR else skipped).set()

    scheduler.add_listener(heard, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
    scheduler.add_job(slow_flush, IntervalTrigger(seconds=1), id="outbox_flush",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    with caplog.at_level(logging.DEBUG, logger="apscheduler"):
        scheduler.start()
        try:
            assert held.wait(30), "the job never ran"
            assert skipped.wait(30), "no run was skipped"
            release.set()
            scheduler.add_job(broken, id="broken", next_run_time=datetime.now(UTC))
            assert failed.wait(30), "the broken job never ran"
        finally:
            release.set()
            scheduler.shutdown(wait=True)
    warnings = [(r.levelno, r.getMessage()) for r in caplog.records
                if r.name.startswith("apscheduler") and r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0][0] == logging.ERROR
    assert ".broken (trigger" in warnings[0][1] and "raised an exception" in warnings[0][1]
    assert any("skipped: maximum number of running instances reached (1)" in r.getMessage()
               and r.levelno == logging.DEBUG and r.name == "apscheduler.scheduler"
               for r in caplog.records)


class _Heard(logging.Handler):
    """The warnings of bot.scheduler, each also setting an event."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.logged = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.logged.set()


def _held_job(stuck_after: timedelta, *, warned_before_release: bool) -> list[str]:
    """Run a single-instance job every 50 ms whose first run is held: until one warning
    and five more skips (``warned_before_release``), else until one skip; returns the
    warnings of bot.scheduler."""
    scheduler = QuietBackgroundScheduler(timezone=UTC, stuck_after=stuck_after)
    held, release = threading.Event(), threading.Event()
    skips_after_warning = 0
    enough_skips = threading.Event()
    runs = 0
    second_run = threading.Event()
    heard = _Heard()
    logger = logging.getLogger("bot.scheduler")
    logger.addHandler(heard)

    def poll() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            held.set()
            release.wait(30)
        else:
            second_run.set()

    def skipped(event: JobEvent) -> None:
        nonlocal skips_after_warning
        if heard.logged.is_set():
            skips_after_warning += 1
        if not warned_before_release or skips_after_warning >= 5:
            enough_skips.set()

    scheduler.add_listener(skipped, EVENT_JOB_MAX_INSTANCES)
    scheduler.add_job(poll, IntervalTrigger(seconds=0.05), id="poll_tick",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    scheduler.start()
    try:
        assert held.wait(30), "the job never ran"
        if warned_before_release:
            assert heard.logged.wait(30), "the stuck job was never reported"
        assert enough_skips.wait(30), "no run was skipped"
        release.set()
        assert second_run.wait(30), "the job never ran again"
    finally:
        release.set()
        scheduler.shutdown(wait=True)
        logger.removeHandler(heard)
    return heard.messages


def test_a_job_stuck_past_its_bound_is_reported_once() -> None:
    # Bound: max(0.2 s, 10 intervals of 50 ms) = 0.5 s.
    warnings = _held_job(timedelta(seconds=0.2), warned_before_release=True)
    assert len(warnings) == 1, warnings
    assert "job poll_tick has been running for" in warnings[0]


def test_a_short_overlap_is_not_reported() -> None:
    assert _held_job(timedelta(minutes=5), warned_before_release=False) == []
