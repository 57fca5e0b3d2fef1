"""Nudges (outbox, replies) coalesce: one background run at a time, one more after a burst."""

from __future__ import annotations

import io
import threading

import pytest

from bot.config import load_settings
from bot.runtime import CoalescingRunner, build_runtime
from bot.services.outbox import KIND_POST, do_enqueue
from storage.db import transaction
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
    eventually(lambda: "test-failing failing: RuntimeError: database went away" in caplog.text)
    runner()
    eventually(lambda: len(calls) == 2)


def test_an_outage_is_logged_once_per_streak_not_once_per_nudge(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    down = threading.Event()
    down.set()

    def job() -> None:
        calls.append(1)
        if down.is_set():
            raise RuntimeError("database went away")

    runner = CoalescingRunner(job, "test-outage")
    for count in range(1, 21):
        runner()
        eventually(lambda count=count: len(calls) == count)  # type: ignore[misc]
    down.clear()
    runner()
    eventually(lambda: "works again" in caplog.text)
    mine = [r for r in caplog.records if "test-outage" in r.getMessage()]
    assert [r.levelname for r in mine] == ["ERROR", "WARNING"], [r.getMessage() for r in mine]
    assert mine[0].exc_info is not None  # the traceback, once
    assert "after 20 failures" in mine[1].getMessage()


def test_a_closed_runtime_delivers_nothing_more(sqlite_url: str) -> None:
    """A nudge still running when its process (or test) closes the runtime must not go on
    sending: with a shared database it would take rows meant for another process."""
    console = io.StringIO()
    runtime = build_runtime(load_settings(database_url=sqlite_url), console=console)
    workspace = runtime.workspaces.ensure("T0CONSOLE1")
    with transaction(runtime.sessions) as session:
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C0ONE",
                   payload={"text": "first"})
    runtime.deliver()
    assert "first" in console.getvalue()
    with transaction(runtime.sessions) as session:
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C0ONE",
                   payload={"text": "second"})
    runtime.close()
    runtime.deliver()
    assert "second" not in console.getvalue()
    assert runtime.outbox.pending_count() == 1
