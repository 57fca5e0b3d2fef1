"""Logging a background job's failures by streak, not one traceback per run.

A database outage of 30 s under `vigie worker` wrote about 5,000 lines: the outbox job runs
every second, each run raised, and APScheduler logged each traceback again. A streak logs
one ERROR when it starts (with the traceback, once), a WARNING reminder at most every
``remind_every`` seconds while it lasts, and one line when the job works again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

REMIND_EVERY_SECONDS = 60.0
"""How often a failure that lasts is recalled in the log."""

_REASON_CHARS = 200


def short_reason(err: BaseException) -> str:
    """``OperationalError: connection refused``: the exception's type and the first line
    of its message, cut short."""
    lines = str(err).strip().splitlines()
    first = lines[0][:_REASON_CHARS] if lines else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


class FailureStreak:
    """The failures of one job, logged once per streak (thread-safe)."""

    def __init__(self, name: str, logger: logging.Logger, *,
                 remind_every: float = REMIND_EVERY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._log = logger
        self._remind_every = remind_every
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._started = 0.0
        self._reminded = 0.0

    @property
    def failing(self) -> bool:
        """True while the last run failed."""
        return self._failures > 0

    def failed(self, err: Exception) -> None:
        """Count a failed run: the first of a streak is logged with its traceback, the
        next ones at most every ``remind_every`` seconds, in one line."""
        with self._lock:
            now = self._clock()
            self._failures += 1
            if self._failures == 1:
                self._started = self._reminded = now
                self._log.error("%s failing: %s (logged again every %.0f s while it lasts)",
                                self.name, short_reason(err), self._remind_every,
                                exc_info=err)
            elif now - self._reminded >= self._remind_every:
                self._reminded = now
                self._log.warning("%s still failing: %d failures in %.0f s, last: %s",
                                  self.name, self._failures, now - self._started,
                                  short_reason(err))

    def succeeded(self) -> None:
        """Count a run that worked: ends the streak, in one line, if there was one."""
        with self._lock:
            if not self._failures:
                return
            self._log.warning("%s works again after %d failures in %.0f s", self.name,
                              self._failures, self._clock() - self._started)
            self._failures = 0

    def run(self, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``job(*args, **kwargs)``; an exception is counted, not raised (None then)."""
        try:
            result = job(*args, **kwargs)
        except Exception as err:  # noqa: BLE001  (counted and logged by streak)
            self.failed(err)
            return None
        self.succeeded()
        return result
