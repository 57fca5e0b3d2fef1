"""Shared fixtures: databases (SQLite and a real PostgreSQL), shared test data."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.logging_setup import SECRET_PATTERN
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Base, Workspace
from tests.harness.constants import TEAM_ID
from tests.harness.fixtures import *  # noqa: F403  (the Slack stand-in fixtures)
from tests.harness.skip_guard import missing_file_skips

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_REQUIRED = bool(os.environ.get("CI") or os.environ.get("VIGIE_REQUIRE_POSTGRES"))
NO_MISSING_FILE_SKIPS = bool(os.environ.get("CI"))


def _unavailable(reason: str) -> None:
    if POSTGRES_REQUIRED:
        pytest.fail(f"PostgreSQL is required here (CI): {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available ({reason}); set VIGIE_TEST_POSTGRES_URL to run")


class _SecretScanner(logging.Handler):
    """Remembers every log line of the run that contains something shaped like a secret."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.offenders: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if SECRET_PATTERN.search(text):
            self.offenders.append(f"{record.name}: {text[:300]}")


_SKIPPED: list[Any] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped tests for the missing-file check."""
    if report.skipped:
        _SKIPPED.append(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Remember modules skipped at collection for the missing-file check."""
    if report.skipped:
        _SKIPPED.append(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a test skipped because a file is missing fails the run (tests/data holds
    every fixture a test reads)."""
    missing = missing_file_skips(_SKIPPED)
    if missing and NO_MISSING_FILE_SKIPS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name every test skipped for a missing file."""
    missing = missing_file_skips(_SKIPPED)
    if missing:
        terminalreporter.section("skipped for a missing file (fatal in CI)")
        for line in missing:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    """Fail the run if any log line of the whole suite carries a token-shaped string."""
    scanner = _SecretScanner()
    logging.getLogger().addHandler(scanner)
    yield
    logging.getLogger().removeHandler(scanner)
    assert not scanner.offenders, f"secrets in logs: {scanner.offenders[:3]}"


TEST_DATA = REPO_ROOT / "tests" / "data"
"""Real fixtures copied into the repository (origins in each folder's INDEX.tsv)."""


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data fixtures, in the repository (tests/data; see its README for origins).

    The name is kept from when they lived outside the clone: a file missing here is a test
    failure, never a skip."""
    return TEST_DATA


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the PostgreSQL maintenance database; skips (or fails in CI) if absent."""
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001
        _unavailable(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_database_factory(postgres_admin: Engine) -> Iterator[object]:
    """Creates fresh PostgreSQL databases; all of them are dropped at the end of the run."""
    created: list[str] = []

    def create() -> str:
        name = f"vigie_test_{uuid.uuid4().hex[:12]}"
        with postgres_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield create
    with postgres_admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_postgres_url(postgres_database_factory: object) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return postgres_database_factory()  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_database_factory: object) -> str:
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def _sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run. Tests get copies of it: migrating a
    new file takes ~0.2 s, and a thousand tests take one, so the suite spent minutes on it.
    The migrations themselves are tested on new files by the migration tests."""
    path = tmp_path_factory.mktemp("migrated") / "vigie.db"
    migrations.upgrade(f"sqlite:///{path}")
    # Migrating closes its connections, which folds the write-ahead log into the file:
    # the file alone is the whole database.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


def _copy_of(template: Path, folder: Path) -> str:
    """The URL of a copy of the migrated ``template`` in ``folder``."""
    target = folder / "vigie.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def _emptying_statement(engine: Engine) -> str:
    """One PostgreSQL statement that empties every table of the models, and the tables
    referencing them (``mention_search``), and restarts their id sequences: what TRUNCATE
    ... RESTART IDENTITY CASCADE does, in 5 ms instead of about a second (TRUNCATE makes
    new files for every table and index). Triggers, foreign keys included, are off while
    it runs, so the order of the deletes does not matter and no count is maintained."""
    from bot.slack.oauth import OAUTH_METADATA

    # The installation store's tables (several-workspace mode) are emptied too.
    tables = [table.name for metadata in (Base.metadata, OAUTH_METADATA)
              for table in metadata.sorted_tables]
    with engine.connect() as conn:
        referencing = conn.execute(text(
            "SELECT DISTINCT r.relname FROM pg_constraint k"
            " JOIN pg_class r ON r.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid"
            " WHERE k.contype = 'f' AND t.relname = ANY(:tables)"
            " AND NOT r.relname = ANY(:tables)"), {"tables": tables}).scalars().all()
        tables += referencing
        sequences = conn.execute(text(
            "SELECT s.relname FROM pg_class s"
            " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"),
            {"tables": tables}).scalars().all()
    # The names are the schema's own, read from the catalog above.
    deletes = "".join(f"DELETE FROM {name};" for name in tables)  # noqa: S608
    restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
    return f"SET LOCAL session_replication_role = replica;{deletes}SELECT {restarts}"


@pytest.fixture(scope="session")
def _postgres_emptying(_postgres_migrated: str) -> str:
    engine = make_engine(_postgres_migrated)
    statement = _emptying_statement(engine)
    engine.dispose()
    return statement


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite file, then PostgreSQL (same tests run on both)."""
    if request.param == "sqlite":
        return _copy_of(request.getfixturevalue("_sqlite_migrated"), tmp_path)
    url = str(request.getfixturevalue("_postgres_migrated"))
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(request.getfixturevalue("_postgres_emptying"))
    engine.dispose()
    return url


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated, empty database (SQLite, then PostgreSQL)."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def workspace_id(sessions: sessionmaker[Session]) -> int:
    """A workspace row."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id=TEAM_ID)
        session.add(workspace)
        session.flush()
        return workspace.id


@pytest.fixture
def sqlite_url(_sqlite_migrated: Path, tmp_path: Path) -> str:
    """A migrated SQLite database in a temporary folder."""
    return _copy_of(_sqlite_migrated, tmp_path)


@pytest.fixture
def cli_env(db_url: str) -> dict[str, str]:
    """Settings for `vigie` commands run in the test's process (``CliRunner``): a migrated
    database (SQLite, then PostgreSQL) with one workspace (``TEAM_ID``, in UTC), no Slack
    token."""
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as session:
        session.add(Workspace(team_id=TEAM_ID, timezone="UTC"))
    engine.dispose()
    return {"VIGIE_DATABASE_URL": db_url, "VIGIE_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}

