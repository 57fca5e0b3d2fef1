"""How workers share work through the database: claims, leases and advisory locks.

Several workers may run against PostgreSQL: due rows are claimed with ``FOR UPDATE SKIP
LOCKED`` and a lease taken by compare-and-set, so each row is worked on by one worker at
a time. SQLite serves one process and has no row locks; the compare-and-set still guards
against two flushes of that process. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from storage.dialect import is_postgresql
from storage.upserts import insert_or_skip

QueryT = TypeVar("QueryT", bound=Select[Any])


def skip_locked(session: Session, query: QueryT, *, of: Any = None) -> QueryT:
    """``query`` locking the rows it reads (of ``of`` only, when given) and skipping the
    rows another transaction holds (``FOR UPDATE SKIP LOCKED``) on PostgreSQL; unchanged
    on SQLite."""
    if is_postgresql(session):
        if of is None:
            return query.with_for_update(skip_locked=True)
        return query.with_for_update(of=of, skip_locked=True)
    return query


def take_lease(session: Session, model: Any, row_id: int, *, pending: str, attempts: int,
               now: datetime, until: datetime, count: bool = True) -> bool:
    """Take the lease of a queued row (``model`` has ``status``, ``attempts`` and
    ``next_attempt_at``) by compare-and-set: count one more attempt (unless not ``count``)
    and make it not due before ``until``, only if it is still ``pending``, at ``attempts``
    and due at ``now``. False when another worker took it first."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.status == pending, model.attempts == attempts,
               model.next_attempt_at <= now)
        .values(attempts=attempts + 1 if count else attempts, next_attempt_at=until)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def take_slot(session: Session, model: Any, key: dict[str, Any], *, now: datetime,
              until: datetime, stale: datetime | None = None) -> datetime | None:
    """Take the slot of ``key`` in a pacing table (``model`` has ``next_at``): move its
    ``next_at`` to ``until`` by compare-and-set, only if it is not after ``now`` (a new key
    is inserted). None when taken; otherwise when the slot frees, as another worker took it.
    A ``next_at`` after ``stale`` (further than any slot reaches) was set by a wall clock
    that has since stepped back: the slot is free.

    On PostgreSQL the loser's UPDATE waits for the winner's row lock, then finds the slot
    taken; on SQLite write transactions are serial (``BEGIN IMMEDIATE``).
    """
    matches = [getattr(model, name) == value for name, value in key.items()]
    free = model.next_at <= now if stale is None else or_(model.next_at <= now,
                                                          model.next_at > stale)
    moved = session.execute(
        update(model).where(*matches, free).values(next_at=until)
        .execution_options(synchronize_session=False))
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        return None
    # RETURNING, not rowcount: drivers differ in what an INSERT's rowcount says.
    added = session.execute(insert_or_skip(session, model).values(**key, next_at=until)
                            .returning(model.next_at))
    if added.first() is not None:
        return None
    frees: datetime | None = session.scalar(select(model.next_at).where(*matches))
    return frees if frees is not None else now


def push_slot(session: Session, model: Any, key: dict[str, Any], until: datetime) -> None:
    """Make the slot of ``key`` in a pacing table free no earlier than ``until``."""
    session.execute(
        update(model).where(*[getattr(model, name) == value for name, value in key.items()],
                            model.next_at < until).values(next_at=until)
        .execution_options(synchronize_session=False))


def advisory_lock(session: Session, key: int, sub_key: int, *, exclusive: bool) -> None:
    """On PostgreSQL, hold the advisory lock (``key``, ``sub_key``) until the transaction
    ends, ``exclusive`` or shared; nothing on SQLite (one process holds the database)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    session.execute(select(lock(cast(literal(key), Integer), cast(literal(sub_key), Integer))))
