"""What `vigie` says when its database cannot be used: where it is, the driver's own reason,
and what to do (real processes, real SQLite files, a real PostgreSQL server)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.database_diagnosis import database_failure, driver_reason, shown_location
from bot.schema_revision import head_revision
from tests.bot.test_cli import VIGIE, _env, vigie
from tests.conftest import POSTGRES_URL


def _missing_postgres_database(password: str) -> tuple[str, str]:
    """A URL of a database the test server does not have (with a password trust auth
    ignores), and that database's name."""
    name = f"vigie_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(POSTGRES_URL).set(password=password, database=name)
    return url.render_as_string(hide_password=False), name


@pytest.mark.postgres
def test_a_missing_postgres_database_is_named_with_what_to_do(
        tmp_path: Path, postgres_admin: object) -> None:
    del postgres_admin  # the server runs: only the database is missing
    url, name = _missing_postgres_database("s3cret-pw")
    for command in (["mentions"], ["poll"], ["watch", "list"], ["db", "upgrade"]):
        result = vigie(tmp_path, *command, VIGIE_DATABASE_URL=url)
        assert result.returncode == 2, (command, result.stderr)
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1, err
        assert f'database "{name}" does not exist' in err
        assert f"createdb {name}" in err and "vigie db upgrade" in err
        assert "s3cret-pw" not in err and "***" in err
        assert "OperationalError" not in err and "Traceback" not in err
    doctor = vigie(tmp_path, "doctor", VIGIE_DATABASE_URL=url)
    assert doctor.returncode == 1
    line = next(li for li in doctor.stdout.splitlines() if li.startswith("database "))
    assert "FAIL" in line and f'database "{name}" does not exist' in line
    assert f"createdb {name}" in line and "that the server is running" not in line
    assert "s3cret-pw" not in doctor.stdout + doctor.stderr


def _journal_delete(path: Path) -> None:
    """Take the file out of WAL mode, as a database copied from elsewhere may be: opening
    it then writes (Vigie turns WAL on), which a read-only database refuses at once."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


def test_a_sqlite_database_opened_read_only_says_so_and_what_to_do(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    _journal_delete(tmp_path / "vigie.db")
    url = f"sqlite:///file:{tmp_path / 'vigie.db'}?mode=ro&uri=true"
    for command in (["mentions"], ["poll"], ["watch", "add", "acme", "--query", "acme",
                                             "--channel", "C0123ABCD"], ["db", "upgrade"]):
        result = vigie(tmp_path, *command, VIGIE_DATABASE_URL=url)
        assert result.returncode == 2, (command, result.stderr)
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1, err
        assert "attempt to write a readonly database" in err
        assert "remove mode=ro from VIGIE_DATABASE_URL" in err
        assert "Traceback" not in err


def test_a_write_refused_after_opening_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0  # WAL: reads work read-only
    url = f"sqlite:///file:{tmp_path / 'vigie.db'}?mode=ro&uri=true"
    result = vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                   "C0123ABCD", VIGIE_DATABASE_URL=url)
    assert result.returncode == 2
    err = result.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("Database error:")
    assert "attempt to write a readonly database" in err and "mode=ro" in err


_AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="root writes in read-only folders, and setpriv is missing")
def test_a_read_only_file_or_folder_says_to_make_them_writable() -> None:
    # Outside pytest's tmp_path, which only its owner may enter: root runs vigie as nobody.
    folder = Path(tempfile.mkdtemp(prefix="vigie-ro-"))
    try:
        folder.chmod(0o755)
        assert vigie(folder, "db", "upgrade").returncode == 0
        _journal_delete(folder / "vigie.db")
        (folder / "vigie.db").chmod(0o444)
        folder.chmod(0o555)
        prefix = _AS_NOBODY if os.geteuid() == 0 else []
        for command in (["mentions"], ["poll"], ["watch", "list"], ["db", "upgrade"]):
            result = subprocess.run([*prefix, *VIGIE, *command], cwd=folder, env=_env(folder),
                                    capture_output=True, text=True, timeout=120, check=False)
            assert result.returncode == 2, (command, result.stderr)
            err = result.stderr.strip()
            assert len(err.splitlines()) == 1, err
            assert "attempt to write a readonly database" in err
            assert f"make {folder / 'vigie.db'} and its folder {folder} writable" in err
            assert f"sqlite:///./vigie.db ({folder / 'vigie.db'})" in err
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_driver_reason_is_one_bounded_line_without_the_password() -> None:
    url = "postgresql+psycopg://vigie:hunter%2F2@db.example:5432/vigie"
    err = RuntimeError('connection to "db.example" failed for vigie:hunter/2 and hunter%2F2'
                       + " and more" * 100 + "\nsecond line")
    line = database_failure(url, err)
    assert "hunter" not in line and "second line" not in line and "\n" not in line
    assert len(line) < 400
    assert line.startswith("postgresql+psycopg://vigie:***@db.example:5432/vigie: ")


def test_a_folder_that_cannot_hold_the_file_says_which_folder(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    try:
        sqlite3.connect(folder / "vigie.db")
    except sqlite3.OperationalError as err:
        line = database_failure(f"sqlite:///{folder}/vigie.db", err)
    assert "unable to open database file" in line and str(folder) in line


def test_relative_sqlite_urls_show_their_absolute_file(tmp_path: Path) -> None:
    here = Path.cwd()
    assert shown_location("sqlite:///./vigie.db") == f"sqlite:///./vigie.db ({here / 'vigie.db'})"
    assert shown_location("sqlite:///data/v.db") == f"sqlite:///data/v.db ({here / 'data/v.db'})"
    assert shown_location(f"sqlite:///{tmp_path}/v.db") == f"sqlite:///{tmp_path}/v.db"
    assert shown_location("sqlite://") == "sqlite://"
    assert shown_location("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"


def test_a_missing_sqlite_file_is_named_and_never_created(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    expected = str(elsewhere / "vigie.db")
    for command in (["mentions"], ["poll"], ["watch", "list"], ["web"], ["worker"]):
        result = vigie(elsewhere, *command)
        assert result.returncode == 2, (command, result.stderr)
        err = result.stderr.strip()
        assert f"No database file at {expected}" in err, err
        assert "relative to the current folder" in err
        assert "The database is at nothing" not in err
    doctor = vigie(elsewhere, "doctor")
    assert doctor.returncode == 1
    line = next(li for li in doctor.stdout.splitlines() if li.startswith("database "))
    assert "FAIL" in line and f"sqlite:///./vigie.db ({expected})" in line
    assert "no database file" in line
    current = vigie(elsewhere, "db", "current")
    assert current.returncode == 0
    assert f"database: not migrated (no file at {expected}); newest: " in current.stdout
    downgrade = vigie(elsewhere, "db", "downgrade", "base")
    assert downgrade.returncode == 2 and f"No database file at {expected}" in downgrade.stderr
    # `vigie run` is where a first run starts: it says to create it.
    run = vigie(elsewhere, "run")
    assert run.returncode == 2 and "vigie db upgrade" in run.stderr
    assert expected in run.stderr
    assert list(elsewhere.iterdir()) == []  # nothing created a stray empty database
    # `vigie db upgrade` creates it, and says where.
    upgraded = vigie(elsewhere, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"Database sqlite:///./vigie.db ({expected}) upgraded to {head_revision()}." \
        in upgraded.stdout


def test_an_unmigrated_or_reachable_database_names_its_file(tmp_path: Path) -> None:
    expected = str(tmp_path / "vigie.db")
    sqlite3.connect(tmp_path / "vigie.db").close()  # a file, never migrated
    result = vigie(tmp_path, "mentions")
    assert result.returncode == 2
    assert f"sqlite:///./vigie.db ({expected})" in result.stderr
    assert "vigie db upgrade" in result.stderr
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    doctor = vigie(tmp_path, "doctor")
    line = next(li for li in doctor.stdout.splitlines() if li.startswith("database "))
    assert "OK" in line and f"sqlite:///./vigie.db ({expected}) reachable" in line


def test_a_password_in_the_query_string_is_masked_and_short_ones_do_not_garble() -> None:
    # libpq takes ?password=: 'vigie db upgrade' printed it on every start that migrated.
    url = "postgresql+psycopg://vigie@db.internal/vigie?password=s3cr3t&sslmode=require"
    assert shown_location(url) == (
        "postgresql+psycopg://vigie@db.internal/vigie?password=***&sslmode=require")
    echoed = RuntimeError("bad conninfo: password=s3cr3t host=db.internal")
    assert "s3cr3t" not in driver_reason(url, echoed)
    # A one-letter password replaced every 'a' of the driver's words.
    said = 'connection to server at "db" failed: FATAL: password authentication failed'
    assert driver_reason("postgresql+psycopg://u:a@db/x", RuntimeError(said)) == said


def test_an_at_sign_left_in_the_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    # The driver took "2026!Secret@127.0.0.1" for the host and printed it in its error.
    url = "postgresql+psycopg://vigie:Summer@2026!Secret@127.0.0.1:5432/vigie"
    for command in (["db", "upgrade"], ["doctor"], ["mentions"]):
        result = vigie(tmp_path, *command, VIGIE_DATABASE_URL=url)
        output = result.stdout + result.stderr
        assert result.returncode in (1, 2), (command, output)
        assert "2026!Secret" not in output and "Summer" not in output, output
        assert "%40" in output and "VIGIE_DATABASE_URL" in output, output
        assert "Traceback" not in output


@pytest.mark.parametrize("url", ["sqlite:vigie.db", "postgresql:/vigie"])
def test_a_database_url_that_cannot_be_meant_is_one_line_naming_the_variable(
        tmp_path: Path, url: str) -> None:
    for command in (["doctor"], ["db", "upgrade"], ["mentions"]):
        result = vigie(tmp_path, *command, VIGIE_DATABASE_URL=url)
        output = result.stdout + result.stderr
        assert result.returncode in (1, 2), (command, output)
        assert "Traceback" not in output and "ArgumentError" not in output, output
        assert "VIGIE_DATABASE_URL" in output, output
        assert "upgraded" not in output


@pytest.mark.postgres
def test_a_postgres_url_naming_no_database_is_refused(tmp_path: Path,
                                                       postgres_admin: object) -> None:
    # The user's default database (here the server's `postgres` maintenance database) got
    # Vigie's tables. Not `db upgrade` here: on a Vigie without the check it would do that.
    del postgres_admin
    url = make_url(POSTGRES_URL).set(database="").render_as_string(hide_password=False)
    for command in (["doctor"], ["mentions"]):
        result = vigie(tmp_path, *command, VIGIE_DATABASE_URL=url)
        output = result.stdout + result.stderr
        assert result.returncode in (1, 2), (command, output)
        assert "VIGIE_DATABASE_URL: names no database" in output, output


def test_an_in_memory_sqlite_database_is_not_migrated_for_nothing(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        result = vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "in-memory" in result.stderr and "upgraded" not in result.stdout


def test_downgrade_minus_one_goes_one_step_down_and_names_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    upgraded = vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    head = head_revision()
    assert f"upgraded to {head}." in upgraded.stdout  # the revision, not "head"
    down = vigie(tmp_path, "db", "downgrade", "-1", VIGIE_DATABASE_URL=url)
    assert down.returncode == 0, down.stdout + down.stderr
    current = vigie(tmp_path, "db", "current", VIGIE_DATABASE_URL=url)
    reached = current.stdout.split("database: ", 1)[1].split()[0].rstrip(";,")
    assert reached != head
    assert down.stdout.strip().endswith(f"downgraded to {reached}."), down.stdout


@pytest.mark.postgres
def test_migrations_started_together_on_a_fresh_postgres_database_both_succeed(
        tmp_path: Path, fresh_postgres_url: str) -> None:
    # systemd units and containers each run `vigie db upgrade` at start, at the same time.
    env = _env(tmp_path, VIGIE_DATABASE_URL=fresh_postgres_url)
    runs = [subprocess.Popen([*VIGIE, "db", "upgrade"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs


@pytest.mark.postgres
def test_an_upgrade_waiting_for_a_table_in_use_stops_with_what_to_do(
        tmp_path: Path, postgres_database_factory: object) -> None:
    """`vigie db upgrade` on a live deployment waited for as long as a reader held a table
    it alters, and every reader after that one queued behind it, all its migrations' locks
    held to the last one's commit. Each migration now commits on its own, and one that
    waits for a lock longer than VIGIE_MIGRATION_LOCK_TIMEOUT_SECONDS stops and says what
    to do."""
    import threading

    from sqlalchemy import create_engine, text

    from storage import migrations

    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url, "0048")
    reading, done = threading.Event(), threading.Event()
    engine = create_engine(url)

    def reader() -> None:
        """A worker's transaction reading authors (ACCESS SHARE until it ends), which 0050
        alters; it ends when the test is done, or after a minute at most."""
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM authors"))
            reading.set()
            done.wait(60)
            conn.rollback()

    holder = threading.Thread(target=reader)
    holder.start()
    try:
        assert reading.wait(30)
        result = vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url,
                       VIGIE_MIGRATION_LOCK_TIMEOUT_SECONDS="0.5")
    finally:
        done.set()
        holder.join(60)
        engine.dispose()
    assert result.returncode == 2, result.stdout + result.stderr
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "waited 0.5 s for a lock" in err and "ALTER TABLE authors" in err
    assert "stop the workers" in err and "vigie db upgrade" in err
    assert "database is at 0049" in err  # 0049 committed on its own before 0050 waited
    assert "Traceback" not in err and "OperationalError" not in err
    again = vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url)
    assert again.returncode == 0, again.stderr
    assert f"upgraded to {head_revision()}" in again.stdout


def test_upgrade_and_downgrade_of_a_database_a_newer_release_migrated_say_so(
        tmp_path: Path) -> None:
    """An older release restarted during a rolling deploy runs `vigie db upgrade` first
    (image, systemd, Procfile, make run): it printed Alembic's "Can't locate revision" and
    exited 2, as any failure. It now stops with the line every other command stops with,
    and exit code 3, on which the image's start goes on to its command."""
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    assert vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url).returncode == 0
    head = head_revision()
    assert head is not None
    newer = f"{int(head) + 1:04d}"
    with sqlite3.connect(tmp_path / "vigie.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    conn.close()
    line = (f"The database {url} is at {newer}, newer than this Vigie ({head}): "
            "deploy the newer version.")
    for command in (("upgrade",), ("downgrade", head), ("downgrade", "-1")):
        result = vigie(tmp_path, "db", *command, VIGIE_DATABASE_URL=url)
        assert result.returncode == 3, (command, result.stdout, result.stderr)
        assert result.stderr.strip() == line, (command, result.stderr)
        assert result.stdout == ""
    current = vigie(tmp_path, "db", "current", VIGIE_DATABASE_URL=url)
    assert f"database: {newer};" in current.stdout  # left as it was
    stopped = vigie(tmp_path, "mentions", VIGIE_DATABASE_URL=url)
    assert stopped.returncode == 2 and stopped.stderr.strip() == line


def _waiting_for_flock(folder: Path, pid: int, timeout: float = 60) -> bool:
    """Whether process ``pid`` waits for the flock another process holds on ``folder``
    (Linux lists each waiter in /proc/locks after "->")."""
    inode = f":{os.stat(folder).st_ino} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = [line.split() for line in Path("/proc/locks").read_text().splitlines()
                   if "->" in line and inode in line]
        if any(fields[2] == "FLOCK" and fields[5] == str(pid) for fields in waiting):
            return True
        time.sleep(0.1)
    return False


def test_an_upgrade_waiting_for_a_newer_release_migrating_says_so(tmp_path: Path) -> None:
    """During a rolling deploy the older release's `vigie db upgrade` read the revision
    while the newer release was migrating, before its migration committed: the revision
    was still one it knew. It then waited for the migration lock, and Alembic, reading
    the newer revision, failed with "Can't locate revision" and exit 2. The revision is
    read again when Alembic fails: the line and exit 3, as when the newer release had
    already finished."""
    import fcntl

    if not Path("/proc/locks").exists():
        pytest.skip("needs /proc/locks to see the upgrade wait for the lock")
    path = tmp_path / "vigie.db"
    url = f"sqlite:///{path}"
    assert vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=url).returncode == 0
    head = head_revision()
    assert head is not None
    newer = f"{int(head) + 1:04d}"
    folder = os.open(tmp_path, os.O_RDONLY)  # the lock a migration takes (alembic/env.py)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        run = subprocess.Popen([*VIGIE, "db", "upgrade"], cwd=tmp_path,
                               env=_env(tmp_path, VIGIE_DATABASE_URL=url),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert _waiting_for_flock(tmp_path, run.pid), "the upgrade never waited for the lock"
        with sqlite3.connect(path) as conn:  # the newer release's migration commits
            conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
        conn.close()
    finally:
        os.close(folder)  # releases the lock
    out, err = run.communicate(timeout=120)
    assert run.returncode == 3, (out, err)
    assert err.strip() == (f"The database {url} is at {newer}, newer than this Vigie "
                           f"({head}): deploy the newer version."), err
    assert out == ""


def test_upgrades_started_together_on_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    """The README's systemd units (web and worker) each run `vigie db upgrade` at start on
    the same SQLite file. Each migration read first in a deferred transaction, so the
    upgrade that lost the race failed at once ("database is locked", exit 2) as soon as
    the other committed, without waiting out the busy timeout. Here both start while
    another connection holds the write lock, so both are waiting when it is let go."""
    from storage import migrations

    path = tmp_path / "vigie.db"
    url = f"sqlite:///{path}"
    migrations.upgrade(url, "0040")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO workspaces (team_id, locale, timezone, allow_self_approval,"
                     " settings, created_at) VALUES ('T0123ABCD', 'en', 'UTC', 0, '{}',"
                     " '2026-01-01 00:00:00')")
    conn.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    env = _env(tmp_path, VIGIE_DATABASE_URL=url)
    try:
        runs = [subprocess.Popen([*VIGIE, "db", "upgrade"], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        time.sleep(4)  # both started and reached the database (Python starts in ~1 s)
        assert [run.poll() for run in runs] == [None, None]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    current = vigie(tmp_path, "db", "current", VIGIE_DATABASE_URL=url)
    assert f"database: {head_revision()};" in current.stdout
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT team_id FROM workspaces").fetchall() == [("T0123ABCD",)]
    conn.close()
