"""A savepoint is part of its transaction: rolling the transaction back undoes it.

pysqlite's legacy transaction control does not begin a transaction for a SAVEPOINT, so a
SAVEPOINT that is the first statement of a transaction starts one of its own and its
RELEASE commits it: what the caller then rolls back is only what came after, and the
rows written inside the savepoint stay (half a change). Services use savepoints to
create a row a concurrent writer may create first (notifications' state rows, SLA
notices); each test below has the savepoint come first, after reads only, then fails
the caller's transaction, and checks nothing was left. SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Note, Text
from bot.services import sla
from bot.services.notifications import mark_homes_stale
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, OutboxMessage, Watch, Workspace
from storage.models_notifications import NotificationState
from storage.models_sla import SlaNotice

LATE = Note.of("en", "workflow.note_reason", reason=Text("late"))
"""The notice's message (its words do not matter here)."""


class CallerFailed(Exception):
    """What the caller's transaction ran into after the savepoint."""




def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_first_savepoint_is_rolled_back_with_its_transaction(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with pytest.raises(CallerFailed), transaction(sessions) as session:
        session.scalar(select(Workspace.id))  # reads only, then the savepoint
        with session.begin_nested():
            session.add(Workspace(team_id="T07INSIDE"))
        raise CallerFailed
    assert count(sessions, Workspace) == 1


def test_a_home_marked_stale_in_a_failed_transaction_leaves_no_state_row(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with pytest.raises(CallerFailed), transaction(sessions) as session:
        mark_homes_stale(session, workspace_id, ["U07NEWUSER"])
        raise CallerFailed
    assert count(sessions, NotificationState) == 0
    with transaction(sessions) as session:  # and a transaction that succeeds keeps it
        mark_homes_stale(session, workspace_id, ["U07NEWUSER"])
    assert count(sessions, NotificationState) == 1


def _mention(sessions: sessionmaker[Session], workspace_id: int) -> int:
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C07ALERTS1")
        session.add(watch)
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                          external_id="1", url="https://x.com/a/status/1", text="help",
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=90)
        session.add(mention)
        session.flush()
        return mention.id


def test_an_sla_notice_is_not_kept_without_its_message(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _mention(sessions, workspace_id)
    with pytest.raises(CallerFailed), transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        assert sla._notify(session, mention, "breach", "C07ALERTS1", LATE, thread=False)
        raise CallerFailed
    # The notice says the breach was announced: without its message it would never be.
    assert count(sessions, SlaNotice) == 0 and count(sessions, OutboxMessage) == 0


def test_a_notice_another_worker_sent_first_is_skipped_and_the_rest_goes_on(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Two workers check SLAs at once: the one that loses the race on a notice skips
    that notice only; its other notices and messages are kept."""
    mention_id = _mention(sessions, workspace_id)
    with transaction(sessions) as session:
        session.add(SlaNotice(mention_id=mention_id, kind="breach", recipient="C07ALERTS1"))
    with transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        assert not sla._notify(session, mention, "breach", "C07ALERTS1", LATE, thread=False)
        assert sla._notify(session, mention, "escalation:U07BOSS001", "U07BOSS001", LATE,
                           thread=False)
    assert count(sessions, SlaNotice) == 2 and count(sessions, OutboxMessage) == 1


def test_a_write_transaction_that_read_first_survives_another_process_writing(
        sqlite_url: str) -> None:
    """Now that a SQLite transaction begins at its first read, a deferred one that read
    before another process (a CLI command next to `vigie run`) committed could not write
    any more ("database is locked" at once); a write transaction takes the write lock at
    its first statement instead, and the other process waits for it."""
    sessions = make_session_factory(make_engine(sqlite_url))
    path = sqlite_url.removeprefix("sqlite:///")
    errors: list[BaseException] = []

    def other_process_writes() -> None:
        try:
            with closing(sqlite3.connect(path, timeout=20)) as other, other:
                other.execute(
                    "INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval,"
                    " settings, created_at) VALUES ('T07OTHER1', 'en', 'UTC', 0, '{}',"
                    " '2026-11-21 08:00:00')")
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    writer = threading.Thread(target=other_process_writes)
    with transaction(sessions) as session:
        seen = session.scalar(select(func.count()).select_from(Workspace))
        writer.start()
        time.sleep(0.3)  # the other writer tries while this transaction is open
        session.add(Workspace(team_id=f"T07SEEN{seen}"))
    writer.join(timeout=30)
    assert errors == []
    assert count(sessions, Workspace) == 2


def test_a_transaction_inside_another_on_one_thread_fails_at_once(
        sessions: sessionmaker[Session], db_url: str) -> None:
    """On SQLite the inner BEGIN IMMEDIATE would wait out the 30 s busy timeout behind the
    outer one: it fails at once, naming the mistake, and the outer one goes on. PostgreSQL
    has no such wait, so nesting is left alone there; after the error both work again."""
    with transaction(sessions) as outer:
        outer.add(Workspace(team_id="T07NEST001"))
        if db_url.startswith("sqlite"):
            with pytest.raises(RuntimeError, match="inside another"), \
                    transaction(sessions) as _inner:
                pass
        else:
            with transaction(sessions) as inner:
                inner.scalar(select(func.count()).select_from(Workspace))
    with transaction(sessions) as again:
        assert again.scalar(select(func.count()).select_from(Workspace).where(
            Workspace.team_id == "T07NEST001")) == 1
