"""Two admins at the same moment: run service calls in threads that each stop at their first
write until all of them got there, so every call has made its checks before any writes.

A call that waits on another's lock (a row lock on PostgreSQL, the write transaction on
SQLite) never gets there: the others go on after ``timeout``, as they would in production.
The pause is a SQLAlchemy engine event (``before_cursor_execute``): no Vigie code is patched.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

WRITES = ("INSERT", "UPDATE", "DELETE")


def race(sessions: sessionmaker[Session], *calls: Callable[[], object],
         timeout: float = 2.0) -> list[object]:
    """Run ``calls`` at once, each held at its first write statement until every call
    reached its own (or ``timeout`` passed); returns each call's result or the exception
    it raised, in the order of ``calls``."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    barrier = threading.Barrier(len(calls))
    waiting: dict[int, bool] = {}
    """Thread id of each call -> whether it still has to stop at its first write."""

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        ident = threading.get_ident()
        if waiting.get(ident) and statement.lstrip().upper().startswith(WRITES):
            waiting[ident] = False
            # Broken when another call waits on our lock: go on, as production would.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout)

    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        waiting[threading.get_ident()] = True
        try:
            results[index] = call()
        except Exception as err:  # noqa: BLE001  (the test looks at what each call got)
            results[index] = err

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    event.listen(engine, "before_cursor_execute", hold)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    assert not any(thread.is_alive() for thread in threads), "a racing call never finished"
    return results
