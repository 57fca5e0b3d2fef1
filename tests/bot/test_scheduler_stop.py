"""A stop (Ctrl-C, SIGTERM) that comes while the scheduler hands its due jobs over: the
start-up one-shot jobs are due at once, so `vigie run` stopped early printed a
JobLookupError traceback from the scheduler's thread (tests/bot/test_cli.py's console-mode
stop caught it on a loaded machine)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import STATE_STOPPED

from bot.scheduler import QuietBackgroundScheduler, Stopping, stop_scheduler


class HeldExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Holds the scheduler's pass over its due jobs open at the first job handed over,
    until ``release``: a stop can come in then, as a signal can."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.handing_over = threading.Event()
        self.release = threading.Event()

    def submit_job(self, job: Any, run_times: Any) -> None:
        self.handing_over.set()
        self.release.wait(30)
        super().submit_job(job, run_times)


def test_a_stop_while_a_one_shot_job_is_handed_over_ends_the_scheduler_quietly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    scheduler = QuietBackgroundScheduler(timezone=UTC)
    held = HeldExecutor()
    scheduler.add_executor(held, "default")
    scheduler.add_job(lambda: None, id="once", next_run_time=datetime.now(UTC))
    thread_of_jobs: threading.Thread | None = None
    try:
        scheduler.start()
        thread_of_jobs = scheduler._thread
        assert held.handing_over.wait(30), "the one-shot job was never due"
        stopper = threading.Thread(target=stop_scheduler, args=(scheduler, Stopping()))
        stopper.start()
        # The stop marks the scheduler stopped at once, then waits for the pass's lock.
        while scheduler.state != STATE_STOPPED and stopper.is_alive():
            stopper.join(0.01)
    finally:
        held.release.set()
    stopper.join(30)
    assert not stopper.is_alive(), "the stop never returned"
    assert thread_of_jobs is not None
    thread_of_jobs.join(30)
    assert not thread_of_jobs.is_alive()
    assert died == [], died
