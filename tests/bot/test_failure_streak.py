"""Background jobs' failures are logged by streak: a database outage is a few lines."""

from __future__ import annotations

import logging
import socket

import pytest

from bot.config import load_settings
from bot.failure_streak import FailureStreak
from bot.runtime import build_runtime
from bot.scheduler import build_scheduler


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_streak_is_one_error_a_reminder_a_minute_and_one_recovery_line(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    streak = FailureStreak("job outbox", logging.getLogger("vigie.test.streak"),
                           remind_every=60, clock=clock)
    caplog.set_level(logging.INFO, logger="vigie.test.streak")
    for second in range(150):  # two and a half minutes of a job failing every second
        clock.now = float(second)
        streak.run(_refused)
    clock.now = 150.0
    assert streak.run(lambda: "sent") == "sent"
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["ERROR", "WARNING", "WARNING", "WARNING"], lines
    assert lines[0][1].startswith("job outbox failing: ConnectionRefusedError: refused")
    assert caplog.records[0].exc_info is not None
    assert "61 failures in 60 s" in lines[1][1] and "121 failures in 120 s" in lines[2][1]
    assert lines[3][1] == "job outbox works again after 150 failures in 150 s"
    caplog.clear()
    streak.run(_refused)  # a new streak: its own first line, with its traceback
    assert [r.levelname for r in caplog.records] == ["ERROR"]


def _refused() -> None:
    raise ConnectionRefusedError("refused")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_scheduler_job_on_a_database_that_is_down_logs_once_and_never_raises(
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/vigie"
    runtime = build_runtime(load_settings(database_url=url))
    try:
        scheduler = build_scheduler(runtime, blocking=False)
        flush = scheduler.get_job("outbox_flush")
        assert flush is not None
        caplog.set_level(logging.INFO)
        for _ in range(10):  # APScheduler logs the traceback of every run that raises
            flush.func(*flush.args)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is not None, caplog.text
        assert errors[0].getMessage().startswith("job flush_outbox failing: OperationalError")
    finally:
        runtime.close()
