"""Engine and session handling for SQLite and PostgreSQL.

SQLite has one writer at a time, and its busy handler is not a queue: a waiting writer
polls with growing sleeps, so under `vigie run` (dozens of listener, polling and outbox
threads) one could wait past the busy timeout while others kept taking the lock, and
"database is locked" reached users. Write transactions of one process therefore queue
on a lock of their database file before they touch it; the busy timeout is left for
other processes (a CLI command next to `vigie run`). Each SQLite transaction begins at its
first statement (SQLAlchemy's recipe for pysqlite, which on its own begins only at the first
write), and a ``transaction`` begins IMMEDIATE, holding the file's write lock from its first
read. A plain session (``factory()``, reads only) holds a read snapshot until it closes:
keep such sessions short, and never write through one.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeGuard

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.models_base import INTEGER_MAX
from storage.secret_box import INFO_KEY, SecretBox

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_WRITE_QUEUE_SECONDS = 60.0
"""Longest a write transaction waits for the others of its process before trying anyway
(the database's busy timeout then applies)."""

_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_DATABASE_LOCKS: dict[str, threading.RLock] = {}
"""One lock per database file: engines on the same file in one process share it (`vigie
run` in HTTP mode has the web app's engine and the scheduler's)."""
_DATABASE_LOCKS_GUARD = threading.Lock()


def _is_file(database: str | None) -> TypeGuard[str]:
    """Whether a SQLite URL's database is a file path (not in memory, not a ``file:`` URI)."""
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _database_lock(database: str | None) -> threading.RLock:
    """The write lock of a SQLite database file (a new one for an in-memory database)."""
    if not _is_file(database):
        return threading.RLock()
    key = os.path.realpath(database)
    with _DATABASE_LOCKS_GUARD:
        return _DATABASE_LOCKS.setdefault(key, threading.RLock())


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's legacy transaction control begins a transaction only before DML, so a
    # SAVEPOINT that came first would start one of its own and its RELEASE would commit
    # the caller's work. SQLAlchemy's recipe: the driver emits no BEGIN, _begin_sqlite does.
    dbapi_connection.isolation_level = None
    # WAL lets readers work while the single writer commits; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A deleted row's bytes (a forgotten person's post, the index pages an FTS5 optimize
    # freed) are overwritten with zeros, not left in the file's free space; some builds
    # (Debian's) do it by default, others (python.org's) not.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_HELD = threading.local()
"""Per thread: the write locks (by id) of the transactions it has open."""

_WRITE_OPTION = "vigie_sqlite_write"
"""Execution option of the connection of a ``transaction``: it begins IMMEDIATE."""


def _begin_sqlite(connection: Any) -> None:
    # Every transaction begins at its first statement (a read or a SAVEPOINT too), so its
    # savepoints and reads belong to it (see _configure_sqlite). A write transaction takes
    # the write lock up front, waiting under the busy timeout: a deferred one that read
    # first would fail at once ("database is locked") when another process wrote since.
    # In autocommit (Alembic's autocommit_block) there is no transaction: SQLAlchemy
    # commits none, so a BEGIN here stayed open, and an IMMEDIATE one held the write lock
    # the block is meant to let go of (0061's steps, on connections of their own, waited
    # for it until "database is locked").
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE_OPTION) else "BEGIN")


POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
"""libpq settings of every PostgreSQL connection. Without them a server that accepts and
never answers (a partition, a failover) held a connecting thread forever; a connection whose
peer vanished is found dead by keepalives after about a minute, and data unacknowledged for
30 s drops it (``tcp_user_timeout``, ms). A peer that acknowledges but never answers is only
bounded by the callers (``/readyz`` waits for its check a few seconds)."""

POSTGRES_POOL_TIMEOUT_SECONDS = 10
"""Longest a thread waits for a pooled connection before failing (SQLAlchemy's is 30 s)."""


def _configure_postgres(dbapi_connection: Any, _record: Any) -> None:
    # A session starts in the server's or database's time zone (initdb copies the host's):
    # date_trunc and ::date on a stored time cut in it, so a half-hour zone (Asia/Kolkata)
    # moved hourly buckets to :30 UTC. Every time Vigie reads or writes is UTC. A SET, not
    # the startup packet's ``options``: PgBouncer before 1.20 refuses that parameter, and
    # it tracks TimeZone, setting it again on whichever server connection it lends.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with Vigie's connection settings.

    SQLite gets WAL, foreign keys, a busy timeout and transactions that begin at their
    first statement (savepoints included); PostgreSQL gets pre-ping so a restarted server
    does not break long-running workers, bounded connects (``POSTGRES_CONNECT_ARGS``) and
    sessions in UTC whatever the server's time zone.
    Both keep a failed statement's parameters out of its error (``hide_parameters``).
    """
    parsed = make_url(url)
    # A failed statement's values (a post's text, an author's name: personal data) stay
    # out of its error message, and so out of every log and traceback.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        _WRITE_LOCKS[engine] = _database_lock(parsed.database)
        if _is_file(parsed.database):
            _watch_file(engine, os.path.abspath(parsed.database))
        return engine
    if parsed.get_backend_name() == "postgresql":
        # The URL's query (?connect_timeout=...) and the caller's connect_args win:
        # SQLAlchemy would let connect_args override the URL.
        defaults = {name: value for name, value in POSTGRES_CONNECT_ARGS.items()
                    if name not in parsed.query}
        kwargs["connect_args"] = {**defaults, **kwargs.get("connect_args", {})}
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_timeout", POSTGRES_POOL_TIMEOUT_SECONDS)
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        event.listen(engine, "connect", _configure_postgres)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def fits_integer(value: int) -> bool:
    """Whether an INTEGER column can hold ``value``: PostgreSQL refuses a statement comparing
    one with a larger number (integer out of range) where SQLite finds nothing."""
    return -INTEGER_MAX - 1 <= value <= INTEGER_MAX


def integer_ids(ids: Iterable[int]) -> list[int]:
    """The ids of ``ids`` a row can have (``fits_integer``), for an ``IN`` list: the others,
    typed or forged, are unknown like any id no row has."""
    return [value for value in ids if fits_integer(value)]


class VigieSession(Session):
    """A session whose ``get`` finds nothing for an id no INTEGER column can hold."""

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        """``Session.get``, or None for an int key no INTEGER column holds (``fits_integer``;
        no table has a BIGINT key): such an id typed in a command or carried by an old or
        forged button is unknown like any other, where PostgreSQL would refuse the
        statement. The look-ups by id of commands, buttons, modals, the CLI and webhooks go
        through here, so none of them has to bound the id itself."""
        if isinstance(ident, int) and not fits_integer(ident):
            return None
        return super().get(entity, ident, **kwargs)


def make_session_factory(engine: Engine, secret_box: SecretBox | None = None
                         ) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit; its sessions carry
    ``secret_box`` (see ``storage.secret_box.box_of``) to read and write secrets."""
    return sessionmaker(bind=engine, class_=VigieSession, expire_on_commit=False,
                        info={INFO_KEY: secret_box or SecretBox()})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit on success, roll back on any error, always close.

    On SQLite, write transactions of this process run one at a time (see the module doc).
    """
    bind = factory.kw.get("bind")
    lock = _WRITE_LOCKS.get(bind) if isinstance(bind, Engine) else None
    held: set[int] = _HELD.__dict__.setdefault("locks", set())
    if lock is not None and id(lock) in held:
        # The inner BEGIN IMMEDIATE would wait out the busy timeout behind the outer one.
        raise RuntimeError("a SQLite transaction() was opened inside another on the same "
                           "thread and database: pass the outer session down instead")
    acquired = lock.acquire(timeout=SQLITE_WRITE_QUEUE_SECONDS) if lock is not None else False
    if lock is not None:
        held.add(id(lock))
    try:
        with factory() as session, session.begin():
            if lock is not None:
                session.connection(execution_options={_WRITE_OPTION: True})
            yield session
    finally:
        if lock is not None:
            held.discard(id(lock))
        if acquired and lock is not None:
            lock.release()


SQLITE_ANALYSIS_LIMIT = 1000
"""Rows ANALYZE reads per index (sampled statistics: milliseconds at a million mentions)."""


def optimize(engine: Engine) -> str:
    """Refresh SQLite's planner statistics where they are missing or stale; says what ran.

    SQLite's documentation asks long-lived connections to run ``PRAGMA optimize``
    periodically (and before closing): it re-analyzes the tables this connection's
    queries used whose statistics are missing or far off, bounded by ``analysis_limit``.
    A database never analyzed (a new one, or after `vigie db upgrade`) gets one bounded
    ``ANALYZE`` first, so the planner never runs blind on a large table. PostgreSQL's
    autovacuum analyzes by itself: nothing runs there.
    """
    if engine.dialect.name != "sqlite":
        return "none"
    lock = _WRITE_LOCKS.get(engine)
    acquired = lock.acquire(timeout=SQLITE_WRITE_QUEUE_SECONDS) if lock is not None else False
    try:
        # IMMEDIATE, as a transaction(): it reads sqlite_master, then writes statistics.
        with engine.connect().execution_options(**{_WRITE_OPTION: True}) as conn:
            conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            analyzed = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None
            if analyzed:
                analyzed = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_stat1 WHERE tbl = 'mentions'").first() is not None
            conn.exec_driver_sql("PRAGMA optimize" if analyzed else "ANALYZE")
            conn.commit()
        return "optimize" if analyzed else "analyze"
    finally:
        if acquired and lock is not None:
            lock.release()


PING_STATEMENT_TIMEOUT_MS = 2000
"""On PostgreSQL, the longest the server may spend on a ping (statement and lock timeouts)."""


def ping(engine: Engine) -> None:
    """Run a trivial query; raises if the database cannot be reached, or (SQLite) if its
    file was deleted or replaced since the engine opened it (DatabaseFileGone)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Local to the ping's transaction: a server that answers but is stuck (locks,
            # overload) fails the ping instead of holding it.
            conn.execute(text("SELECT set_config('statement_timeout', :ms, true),"
                              " set_config('lock_timeout', :ms, true)"),
                         {"ms": str(PING_STATEMENT_TIMEOUT_MS)})
        conn.execute(text("SELECT 1"))
    check_file(engine)


class DatabaseFileGone(RuntimeError):
    """The SQLite file an engine opened was deleted or replaced under the running process."""


class _OpenedFile:
    """The SQLite file of an engine, as its first connection found it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        """(device, inode) of the file the engine's first connection opened."""
        self.reported: str | None = None
        """The problem last logged (each is logged once)."""


_OPENED_FILES: weakref.WeakKeyDictionary[Engine, _OpenedFile] = weakref.WeakKeyDictionary()


def _watch_file(engine: Engine, path: str) -> None:
    """Remember which file ``engine``'s first connection opens at ``path``."""
    opened = _OPENED_FILES[engine] = _OpenedFile(path)

    def remember(_dbapi_connection: Any, _record: Any) -> None:
        if opened.identity is None:
            # Right after sqlite3 opened (or created) it: the file this engine works in.
            try:
                found = os.stat(path)
            except OSError:  # gone already: the next connection tries again
                return
            opened.identity = (found.st_dev, found.st_ino)

    event.listen(engine, "connect", remember)


def check_file(engine: Engine) -> None:
    """Raise DatabaseFileGone, logged once as an error naming the path, when the SQLite
    file ``engine`` opened is gone from its path or another file took its place; nothing
    for PostgreSQL, an in-memory database, or an engine that never connected.

    A deleted file goes unnoticed otherwise: open connections keep reading and committing
    to the unlinked file, and everything written after the delete is lost at restart."""
    opened = _OPENED_FILES.get(engine)
    if opened is None or opened.identity is None:
        return
    try:
        found = os.stat(opened.path)
    except FileNotFoundError:
        problem = "was deleted"
    else:
        problem = ("was replaced by another file"
                   if (found.st_dev, found.st_ino) != opened.identity else "")
    if not problem:
        opened.reported = None
        return
    message = (f"the SQLite database {opened.path} {problem} while this process had it "
               "open: what it writes now is lost when it restarts; stop it, restore the "
               "file from a backup and start it again")
    if opened.reported != problem:
        opened.reported = problem
        log.error("%s", message)
    raise DatabaseFileGone(message)
