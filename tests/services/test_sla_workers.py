"""Two workers' SLA checks at once on PostgreSQL: each inserts the notices of the overdue
mentions it read, and a mention changed between their reads came back at another place in
the second read (the candidates were read in the table's physical order)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.sla import run_sla_checks
from storage.db import transaction
from storage.models import Mention, OutboxMessage, Watch
from storage.models_sla import SlaNotice

CREATED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = CREATED + timedelta(minutes=61)
WAIT = 5.0
"""Longest a worker waits for the other to reach its first insert (with the same order,
the other waits for it instead: it goes on after this)."""


class Steps:
    """Where each worker stopped, set by the engine's statement events."""

    def __init__(self) -> None:
        self.read = {name: threading.Event() for name in ("A", "B")}
        self.inserted = {name: threading.Event() for name in ("A", "B")}
        self.go_a = threading.Event()
        self.order: dict[str, list[int]] = {"A": [], "B": []}

    def after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
              *_args: Any) -> None:
        worker = threading.current_thread().name
        if worker not in self.read:
            return
        if "FROM mentions JOIN workspaces" in statement and not self.read[worker].is_set():
            self.read[worker].set()
            if worker == "A":  # A read first; B reads once a mention changed
                self.go_a.wait(WAIT)
        elif statement.startswith("INSERT INTO sla_notices"):
            self.order[worker].append(parameters["mention_id"])
            if not self.inserted[worker].is_set():
                self.inserted[worker].set()
                if worker == "B":
                    self.go_a.set()  # A goes on to its first insert...
                    self.inserted["A"].wait(WAIT)  # ...and B to its second after it


def test_two_workers_checking_the_same_overdue_mentions_do_not_deadlock(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return  # SQLite runs one writer at a time
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123",
                      sla_normal_minutes=60)
        session.add(watch)
        session.flush()
        mentions = [Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                            external_id=str(n), url=f"https://x.com/a/status/{n}",
                            text=f"help {n}", published_at=CREATED, created_at=CREATED,
                            priority=10, status="new", alerted=True,
                            slack_channel="C0ACME123", slack_ts=f"1.{n}")
                    for n in range(1, 3)]
        session.add_all(mentions)
        session.flush()
        first = mentions[0].id
    steps = Steps()
    event.listen(engine, "after_cursor_execute", steps.after)
    errors: dict[str, BaseException] = {}
    sent: dict[str, int] = {}

    def check(name: str) -> None:
        try:
            sent[name] = run_sla_checks(sessions, NOW, "UTC")
        except BaseException as err:  # noqa: BLE001  (reported by the assertion below)
            errors[name] = err

    workers = {name: threading.Thread(target=check, args=(name,), name=name)
               for name in ("A", "B")}
    try:
        workers["A"].start()
        assert steps.read["A"].wait(WAIT)
        # Someone assigns, or a card's ts is stored: the first mention changes between the
        # two workers' reads (a new row version, after the other in the table).
        with engine.begin() as conn:
            conn.execute(text("UPDATE mentions SET text = text WHERE id = :id"), {"id": first})
        workers["B"].start()
        for worker in workers.values():
            worker.join(60)
    finally:
        event.remove(engine, "after_cursor_execute", steps.after)
        steps.go_a.set()

    assert errors == {}, (errors, steps.order)
    assert sorted(sent.values()) == [0, 2]
    with sessions() as session:
        assert session.scalar(select(text("count(*)")).select_from(SlaNotice)) == 2
        # One breach notice per mention in the outbox, from the worker that sent it.
        assert session.scalar(select(text("count(*)")).select_from(OutboxMessage)) == 2
