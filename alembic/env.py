"""Alembic environment: migrations run against the URL given by storage.migrations."""

from __future__ import annotations

import logging.config
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, pool, text

from alembic import context
from bot.slack.oauth import OAUTH_METADATA
from storage.db import make_engine
from storage.models import Base

config = context.config
log = logging.getLogger("vigie.migrations")
if config.config_file_name and config.attributes.get("configure_logger", True):
    logging.config.fileConfig(config.config_file_name)

MIGRATING = 0x56494747
"""Advisory lock key (PostgreSQL) held while migrating: the documented set-ups start
``vigie db upgrade`` in every unit or container at once, and two migrations of a fresh
database both tried to create ``alembic_version`` (one failed its start). The second now
waits, then finds the schema current. Held by the migrating session, across the
migrations' transactions, until its connection closes."""
LOCK_POLL_SECONDS = 0.25
"""How often an upgrade waiting for another one tries the migration lock again."""
SQLITE_WRITE = {"vigie_sqlite_write": True}
"""Execution option of storage.db: the connection's transactions begin IMMEDIATE."""

# Vigie's tables, and slack_sdk's installation and OAuth state stores (multi-workspace).
target_metadata = [Base.metadata, OAUTH_METADATA]


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _sqlite_migration_lock(connection: Connection) -> Iterator[None]:
    """On SQLite, what MIGRATING is on PostgreSQL: an exclusive lock (flock) on the folder
    of the database file, held until the upgrade ends, so a second `vigie db upgrade` (the
    README's web and worker units each run one at start) waits for the first, then reads
    the revision it left. SQLite's write lock cannot serve: each migration commits on its
    own, and 0061 lets other writers in between its steps. The folder, not the file: a
    descriptor of the database file closed by this process would drop SQLite's own locks
    on it. Nothing is locked where the folder cannot be (no flock there, an in-memory
    database): the upgrades then race as before."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    raw: Any = connection.connection.driver_connection
    files = {name: file for _seq, name, file in raw.execute("PRAGMA database_list")}
    path = files.get("main") or ""
    try:
        folder = os.open(os.path.dirname(path), os.O_RDONLY) if path else None
    except OSError:
        folder = None
    if folder is None:
        yield
        return
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
        except OSError:
            log.debug("cannot lock %s while migrating", os.path.dirname(path), exc_info=True)
        yield
    finally:
        os.close(folder)  # releases the lock


def run_migrations_online() -> None:
    """Run migrations on a live connection (batch mode so SQLite can alter tables), each in
    its own transaction: a migration's locks are released when it commits, not when the
    last one does. On PostgreSQL a lock wait longer than ``lock_timeout`` seconds, or a
    statement longer than ``statement_timeout`` (0: no limit), fails the migration instead
    of holding every reader of its table behind it (see storage.migrations)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Held by the session until it closes; taken before the timeouts are set,
            # since waiting for another upgrade to end is expected. Tried, not waited for
            # in one statement: a session waiting inside a statement holds a snapshot, and
            # an index the other upgrade builds CONCURRENTLY (0056) waits for every older
            # snapshot to end: each waited for the other ("deadlock detected").
            while not connection.execute(text("SELECT pg_try_advisory_lock(:key, 0)"),
                                         {"key": MIGRATING}).scalar():
                connection.commit()
                time.sleep(LOCK_POLL_SECONDS)
            for name in ("lock_timeout", "statement_timeout"):
                milliseconds = round(float(config.attributes.get(name) or 0) * 1000)
                connection.execute(text("SELECT set_config(:name, :value, false)"),
                                   {"name": name, "value": f"{milliseconds}ms"})
            connection.commit()
        sqlite = connection.dialect.name == "sqlite"
        with _sqlite_migration_lock(connection) if sqlite else nullcontext():
            if sqlite:
                # Each migration takes the write lock up front, waiting for other writers
                # under the busy timeout: a deferred one read first, then failed at once
                # ("database is locked") when another connection wrote or was writing.
                connection.execution_options(**SQLITE_WRITE)
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
