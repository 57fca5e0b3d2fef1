"""Nudges (outbox, replies) coalesce: one background run at a time, one more after a burst."""

from __future__ import annotations

import threading

import pytest

from bot.runtime import CoalescingRunner
from tests.e2e.conftest import eventually


def test_a_burst_of_nudges_costs_one_run_plus_one_after_it() -> None:
    release = threading.Event()
    started = threading.Event()
    runs: list[int] = []

    def job() -> None:
        runs.append(len(runs))
        started.set()
        release.wait(5)

    runner = CoalescingRunner(job, "test-nudge")
    runner()
    assert started.wait(5)
    for _ in range(50):
        runner()  # while the first run is busy: all of these ask for a single rerun
    release.set()
    eventually(lambda: len(runs) == 2)
    threading.Event().wait(0.2)
    assert len(runs) == 2
    runner()  # idle again: a nudge starts a new run
    eventually(lambda: len(runs) == 3)


def test_a_failing_run_is_logged_and_the_next_nudge_runs_again(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        raise RuntimeError("database went away")

    runner = CoalescingRunner(job, "test-failing")
    runner()
    eventually(lambda: "test-failing failed" in caplog.text)
    runner()
    eventually(lambda: len(calls) == 2)
