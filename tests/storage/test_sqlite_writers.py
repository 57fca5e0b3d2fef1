"""SQLite under `vigie run`: many threads write at once, none sees "database is locked",
and a transaction's reads stay valid until it commits (issue 19 item 10)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, transaction
from storage.models import Workspace


def sqlite_sessions(sqlite_url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(sqlite_url))


def count_workspaces(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Workspace)) or 0)


def test_two_threads_read_then_write_without_losing_an_update(sqlite_url: str) -> None:
    """Each transaction names its row after the rows it counted: two that counted the same
    rows would collide on the unique team id."""
    sessions = sqlite_sessions(sqlite_url)
    first_has_read = threading.Event()
    errors: list[BaseException] = []

    def numbered_insert(wait: threading.Event | None) -> None:
        try:
            with transaction(sessions) as session:
                seen = count_workspaces(session)
                if wait is None:
                    first_has_read.set()
                    time.sleep(0.3)  # the other thread starts its transaction meanwhile
                session.add(Workspace(team_id=f"T{seen}"))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    first = threading.Thread(target=numbered_insert, args=(None,))
    first.start()
    first_has_read.wait(10)
    second = threading.Thread(target=numbered_insert, args=(first_has_read,))
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    with sessions() as session:
        assert sorted(session.scalars(select(Workspace.team_id))) == ["T0", "T1"]


def test_many_writer_threads_never_see_database_is_locked(sqlite_url: str) -> None:
    sessions = sqlite_sessions(sqlite_url)
    errors: list[str] = []

    def writer(number: int) -> None:
        for round_ in range(20):
            try:
                with transaction(sessions) as session:
                    count_workspaces(session)
                    session.add(Workspace(team_id=f"T{number}-{round_}"))
                    session.flush()
                    time.sleep(0.02)  # some work while holding the write lock
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(str(err)[:80])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with sessions() as session:
        assert count_workspaces(session) == 16 * 20


def test_two_engines_on_one_database_queue_on_the_same_lock(sqlite_url: str) -> None:
    """`vigie run` in HTTP mode has two engines on one file in one process (the web app's
    runtime and the scheduler's): their transactions must queue on one lock too."""
    web, scheduler = sqlite_sessions(sqlite_url), sqlite_sessions(sqlite_url)
    first_has_read = threading.Event()
    errors: list[BaseException] = []

    def numbered_insert(sessions: sessionmaker[Session], first: bool) -> None:
        try:
            with transaction(sessions) as session:
                seen = count_workspaces(session)
                if first:
                    first_has_read.set()
                    time.sleep(0.3)  # the other thread starts its transaction meanwhile
                session.add(Workspace(team_id=f"T{seen}"))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    one = threading.Thread(target=numbered_insert, args=(web, True))
    one.start()
    first_has_read.wait(10)
    two = threading.Thread(target=numbered_insert, args=(scheduler, False))
    two.start()
    one.join(60)
    two.join(60)
    assert errors == []
    with web() as session:
        assert sorted(session.scalars(select(Workspace.team_id))) == ["T0", "T1"]
