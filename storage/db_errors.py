"""Which database errors are about the data a statement carried, and which are passing.

A statement the database refuses for its data (a value past its column, a constraint it
breaks) fails again however often it is retried: the caller may drop that item and go on.
One that failed for a passing reason (a lock or statement timeout, a cancel, a deadlock,
a serialization conflict, a lost connection, a busy or full SQLite file) says nothing of
its data: the whole transaction must roll back, so that whatever it was storing is
stored again by the next try (a source's cursor stays where it was, a webhook sender is
told to retry).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

TRANSIENT_SQLSTATES = frozenset({
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available (lock_timeout)
    "57014",  # query_canceled (statement_timeout, pg_cancel_backend)
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "58030",  # io_error
})
"""PostgreSQL error codes of a statement that failed for a passing reason."""
TRANSIENT_SQLSTATE_CLASSES = frozenset({
    "08",  # connection exception
    "53",  # insufficient resources (disk full, out of memory, too many connections)
})
"""PostgreSQL error classes (a code's first two characters) that are all passing."""
SIZE_BOUND_SQLSTATES = frozenset({
    "57014",  # query_canceled (statement_timeout; a pg_cancel_backend reads the same)
})
"""PostgreSQL error codes of a passing failure the statement's own size may explain: the
same rows in smaller statements may succeed. A lock timeout, a deadlock or a lost
connection says nothing of the size: smaller statements would wait or fail the same way.
A lock wait only fails as a lock timeout in a transaction that ``bound_lock_waits``."""
CANCELLED_MESSAGE = "due to user request"
"""What PostgreSQL's message of a cancelled statement (``pg_cancel_backend``, a client's
cancel) says, where a statement timeout's says "due to statement timeout": both are
57014. Only an English message (``lc_messages``) is recognised; another reads as a
timeout."""
_BOUND_LOCK_WAITS = text(
    "SELECT set_config('lock_timeout', greatest(st.setting::bigint / 2, 1)::text, true)"
    " FROM pg_settings AS st, pg_settings AS lt"
    " WHERE st.name = 'statement_timeout' AND lt.name = 'lock_timeout'"
    " AND st.setting::bigint > 0"
    " AND (lt.setting::bigint = 0 OR lt.setting::bigint > st.setting::bigint / 2)")
REFUSED_SQLSTATE_CLASSES = frozenset({
    "54",  # program limit exceeded (an index row or a tsvector too large for its value)
})
"""PostgreSQL error classes refusing a statement for what it carried (raised as an
OperationalError, not a DataError)."""
TRANSIENT_SQLITE_CODES = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL,
})
"""SQLite primary result codes of a statement that failed for a passing reason."""
_TRANSIENT_SQLITE_MESSAGES = ("database is locked", "database table is locked",
                              "disk i/o error", "database or disk is full",
                              "unable to open database file")


_REFUSED_CONNECT_MESSAGES = ("does not exist", "authentication failed",
                             "no pg_hba.conf entry", "not permitted to log in",
                             "permission denied")
"""What a server refusing a connection for good says (psycopg gives its connect failures
no SQLSTATE): a configuration error, which trying again does not mend."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (a DBAPIError, the driver's error itself, or SQLAlchemy's pool
    failing to hand out a connection) failed for a passing reason, so that the same
    statements may succeed at the next try (see the module). A server refusing
    connections is one: the driver's OperationalError then carries no SQLSTATE (the
    server never answered), as a connection lost mid-statement."""
    if isinstance(error, DisconnectionError | PoolTimeoutError):
        return True
    cause: BaseException | None = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    code = getattr(cause, "sqlstate", None)
    if isinstance(code, str):
        return code in TRANSIENT_SQLSTATES or code[:2] in TRANSIENT_SQLSTATE_CLASSES
    if (isinstance(error, OperationalError) and not isinstance(cause, sqlite3.Error)
            and hasattr(cause, "sqlstate")):
        # psycopg's: no SQLSTATE means no answer from the server (a refused or lost
        # connection, a connect timeout), or a connect it refused: for good when it
        # names a database, role or password it refuses, for now otherwise ("the
        # database system is starting up", "too many clients").
        message = str(cause).lower()
        return not any(part in message for part in _REFUSED_CONNECT_MESSAGES)
    if isinstance(cause, sqlite3.Error):
        primary = getattr(cause, "sqlite_errorcode", None)
        if isinstance(primary, int):
            return primary & 0xFF in TRANSIENT_SQLITE_CODES
        message = str(cause).lower()
        return any(text in message for text in _TRANSIENT_SQLITE_MESSAGES)
    return False


def is_sqlite_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's file being locked by another connection (busy or
    locked), which it waited for up to its busy timeout already."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if not isinstance(cause, sqlite3.Error):
        return False
    primary = getattr(cause, "sqlite_errorcode", None)
    if isinstance(primary, int):
        return primary & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    message = str(cause).lower()
    return "database is locked" in message or "database table is locked" in message


def error_kind(error: BaseException) -> str:
    """The name of ``error``'s type, the driver's for a DBAPIError (``OperationalError``,
    ``LockNotAvailable``): what a log line or a source's health names, never its message
    (which may quote the statement's values)."""
    return type(error.orig if isinstance(error, DBAPIError) else error).__name__


def is_size_bound(error: BaseException) -> bool:
    """Whether ``error`` is a passing failure the statement's size may explain (a statement
    timeout, ``SIZE_BOUND_SQLSTATES``): worth retrying its rows in smaller statements. Any
    other passing failure (a lock, a deadlock, a lost connection, a busy SQLite file, a
    cancel: ``CANCELLED_MESSAGE``) would fail those the same way, after the same wait. A
    lock wait reads as a statement timeout unless the transaction ``bound_lock_waits``."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return False
    cause = error.orig if isinstance(error, DBAPIError) else error
    if getattr(cause, "sqlstate", None) not in SIZE_BOUND_SQLSTATES:
        return False
    # Someone cancelled it (an administrator ending a query): nothing to do with its size.
    message = getattr(getattr(cause, "diag", None), "message_primary", None) or str(cause)
    return CANCELLED_MESSAGE not in message


def bound_lock_waits(session: Session) -> None:
    """On PostgreSQL, make a lock wait in the rest of ``session``'s transaction end as a
    lock timeout (55P03), not as a statement timeout (57014), which ``is_size_bound``
    reads as the statement being too slow for its size: with only ``statement_timeout``
    set (the usual managed database's setting), or a ``lock_timeout`` not below it, a
    lock wait ends as the statement timeout. ``lock_timeout`` is set (``SET LOCAL``) to
    half the session's ``statement_timeout`` unless it is already that low; with no
    statement timeout, nothing changes. Call it before any savepoint (rolling one back
    undoes it). SQLite has neither setting."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_BOUND_LOCK_WAITS)


def is_refused_item(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing the data of the statement (a DataError,
    or an IntegrityError that is no serialization conflict): retrying it alone fails the
    same way, so dropping the item it carried loses nothing another try would store. A
    program limit its values exceed (PostgreSQL's class 54) refuses it the same way."""
    if isinstance(error, DBAPIError) and not error.connection_invalidated:
        code = getattr(error.orig, "sqlstate", None)
        if isinstance(code, str) and code[:2] in REFUSED_SQLSTATE_CLASSES:
            return True
    return isinstance(error, DataError | IntegrityError) and not is_transient(error)
