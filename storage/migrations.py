"""Run Alembic migrations programmatically (used by `vigie db`, tests and `doctor`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from alembic import command
from storage.db import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` pointing at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # '%' must be escaped for configparser interpolation (URL-encoded passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


LOCK_TIMEOUT_SECONDS = 5.0
"""How long a migration waits for a lock on PostgreSQL (0: as long as it takes). A
migration that alters a table waits for the transactions reading it, and every reader
that comes after waits behind it: on a live deployment all of them would stall until it
commits."""
STATEMENT_TIMEOUT_SECONDS = 900.0
"""How long one migration statement may run on PostgreSQL (0: no limit): the tables it
alters or indexes are locked meanwhile."""


class MigrationBlocked(Exception):
    """A PostgreSQL migration gave up waiting for a lock, or a statement of it ran out of
    time; it was rolled back, and the migrations before it stay applied."""


def upgrade(url: str, revision: str = "head", *, lock_timeout: float = LOCK_TIMEOUT_SECONDS,
            statement_timeout: float = STATEMENT_TIMEOUT_SECONDS) -> None:
    """Migrate the database at ``url`` up to ``revision``, each migration in its own
    transaction; on PostgreSQL a migration waits at most ``lock_timeout`` seconds for a
    lock and runs a statement at most ``statement_timeout`` seconds (0: no limit), else
    raises MigrationBlocked."""
    _run(url, lambda config: command.upgrade(config, revision), lock_timeout,
         statement_timeout, rerun="vigie db upgrade")


def downgrade(url: str, revision: str, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS,
              statement_timeout: float = STATEMENT_TIMEOUT_SECONDS) -> None:
    """Migrate the database at ``url`` down to ``revision`` (e.g. ``base`` or ``-1``);
    the timeouts as for ``upgrade``."""
    _run(url, lambda config: command.downgrade(config, revision), lock_timeout,
         statement_timeout, rerun=f"vigie db downgrade {revision}")


LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


def _run(url: str, action: Callable[[Config], None], lock_timeout: float,
         statement_timeout: float, *, rerun: str) -> None:
    """Run ``action``; a lock wait or statement past its time raises MigrationBlocked
    saying to run ``rerun`` (the interrupted command) again or how to let it through."""
    config = alembic_config(url)
    config.attributes["lock_timeout"] = lock_timeout
    config.attributes["statement_timeout"] = statement_timeout
    try:
        action(config)
    except DBAPIError as err:
        code = getattr(err.orig, "sqlstate", None)
        if code not in (LOCK_NOT_AVAILABLE, QUERY_CANCELED):
            raise
        statement = " ".join(str(err.statement or "").split())[:120]
        engine = make_engine(url)
        try:
            reached = current_revision(engine) or "base"
        finally:
            engine.dispose()
        if code == LOCK_NOT_AVAILABLE:
            why = (f"waited {lock_timeout:g} s for a lock on a table that running Vigie "
                   f"processes (or another session) are using")
            fix = (f"run `{rerun}` again in a moment, or stop the workers and web "
                   "processes, migrate, then start them again (or set "
                   "VIGIE_MIGRATION_LOCK_TIMEOUT_SECONDS=0 to wait as long as it takes)")
        else:
            why = f"a statement ran longer than {statement_timeout:g} s"
            fix = ("stop the workers and web processes, then migrate with a larger "
                   "VIGIE_MIGRATION_STATEMENT_TIMEOUT_SECONDS (0: no limit)")
        raise MigrationBlocked(
            f"{why} ({statement}); that migration was rolled back and the database is at "
            f"{reached}: {fix}.") from err


def head_revision() -> str | None:
    """The newest revision shipped with this version of Vigie."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    """True when the database is migrated to the newest revision."""
    return current_revision(engine) == head_revision()
