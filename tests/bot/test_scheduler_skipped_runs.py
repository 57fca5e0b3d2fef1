"""A single-instance job still running when it is due again (the outbox flush waiting on a
slow Slack answer, every second): the run is skipped, as intended, and logged at DEBUG, not
as an APScheduler WARNING each second; a job that raises is still logged as an error."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

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
