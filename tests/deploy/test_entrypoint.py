"""The container's start (docker/entrypoint.sh) run as the image runs it: a non-root user.

No container engine runs in the test environment, so the script itself is run under an
unprivileged uid (when the tests run as root) with the image's data folder layout.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
NOBODY = 65534


def _as_unprivileged() -> Callable[[], None] | None:
    if os.geteuid() != 0:
        return None  # already not root

    def drop() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return drop


def _reachable(path: Path) -> bool:
    """Whether any user can run ``path`` (every folder above it is world-searchable)."""
    real = path.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in real.parents) and bool(
        os.stat(real).st_mode & 0o001)


def _interpreter() -> str:
    # The tests' Python may live in a private folder (pyenv under /root) that the
    # unprivileged user cannot reach; a system Python of the same version runs the same
    # wheels from the virtual environment's site-packages.
    candidates = [Path(sys.executable), Path(f"/usr/bin/python{sys.version_info[0]}."
                                             f"{sys.version_info[1]}")]
    for candidate in candidates:
        if candidate.exists() and (os.geteuid() != 0 or _reachable(candidate)):
            return str(candidate)
    pytest.skip("no Python interpreter an unprivileged user can run")


def _start(data_dir: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = data_dir.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "vigie"  # what `pip install` puts on the image's PATH
    wrapper.write_text(f'#!/bin/sh\nexec {_interpreter()} -m bot.cli "$@"\n')
    wrapper.chmod(0o755)
    site = [p for p in sys.path if p.endswith("site-packages")]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VIGIE_"))}
    clean.update(PATH=f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
                 PYTHONPATH=os.pathsep.join([str(REPO), *site]),
                 VIGIE_DATA_DIR=str(data_dir), HOME=str(data_dir))
    clean.update(env)
    return subprocess.run(["sh", str(ENTRYPOINT), *command], cwd=data_dir, env=clean,
                          capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=_as_unprivileged())


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A temporary folder the unprivileged user can reach (pytest's own is private)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-entrypoint-"))
    os.chmod(folder, 0o755)  # noqa: S103  (the unprivileged user must reach it)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _folder(tmp_path: Path, owner_is_user: bool) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    if os.geteuid() == 0 and owner_is_user:
        os.chown(folder, NOBODY, NOBODY)
    elif not owner_is_user:
        os.chmod(folder, 0o555)  # noqa: S103  (read-only on purpose)
    return folder


def test_start_migrates_the_sqlite_file_in_the_data_volume(tmp_path: Path) -> None:
    data = _folder(tmp_path, owner_is_user=True)
    started = _start(data, "vigie", "db", "current")
    assert started.returncode == 0, started.stderr
    assert "newest" in started.stdout
    assert (data / "vigie.db").is_file()
    if os.geteuid() == 0:
        assert (data / "vigie.db").stat().st_uid == NOBODY


def test_a_read_only_data_folder_is_one_clear_error(tmp_path: Path) -> None:
    data = _folder(tmp_path, owner_is_user=False)
    if os.geteuid() != 0 and os.access(data, os.W_OK):
        pytest.skip("cannot make a folder read-only for this user")
    started = _start(data, "vigie", "db", "current")
    assert started.returncode == 1
    assert "cannot write the SQLite database in" in started.stderr
    assert "-v vigie-data:" in started.stderr and "Traceback" not in started.stderr


def test_migration_on_start_can_be_turned_off(tmp_path: Path) -> None:
    data = _folder(tmp_path, owner_is_user=True)
    started = _start(data, "vigie", "db", "current", VIGIE_MIGRATE_ON_START="0")
    assert started.returncode == 0, started.stderr
    assert "not migrated" in started.stdout


@pytest.mark.postgres
def test_start_migrates_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    data = _folder(tmp_path, owner_is_user=True)
    started = _start(data, "vigie", "db", "current", VIGIE_DATABASE_URL=fresh_postgres_url)
    assert started.returncode == 0, started.stderr
    assert "newest" in started.stdout
    assert not (data / "vigie.db").exists()


def test_image_and_compose_file_agree_with_the_entrypoint() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "USER vigie" in dockerfile and "VOLUME /data" in dockerfile
    assert "chown vigie:vigie /data" in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/vigie-entrypoint"]' in dockerfile
    assert "COPY docker/entrypoint.sh /usr/local/bin/vigie-entrypoint" in dockerfile
    assert os.access(ENTRYPOINT, os.X_OK)
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "migrate", "web", "worker"} <= set(services)
    for name in ("web", "worker"):
        service = services[name]
        assert service["environment"]["VIGIE_MIGRATE_ON_START"] == "0"
        assert service["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully")
        assert service["environment"]["VIGIE_DATABASE_URL"].startswith(
            "postgresql+psycopg://")
    assert services["worker"]["command"] == ["vigie", "worker"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def _database_a_newer_release_migrated(data: Path) -> str:
    """``vigie.db`` in ``data``, migrated, then marked at the revision after this head."""
    from storage import migrations

    path = data / "vigie.db"
    migrations.upgrade(f"sqlite:///{path}")
    head = migrations.head_revision()
    assert head is not None
    newer = f"{int(head) + 1:04d}"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    conn.close()
    if os.geteuid() == 0:
        for file in data.iterdir():
            os.chown(file, NOBODY, NOBODY)
    return newer


def test_a_database_a_newer_release_migrated_still_starts_the_command(
        tmp_path: Path) -> None:
    """An older image restarted during a rolling deploy or a rollback: `vigie db upgrade`
    exits 3 with the clear line, and the command runs and says the same (it stopped the
    start with Alembic's "Can't locate revision" before the command ran)."""
    data = _folder(tmp_path, owner_is_user=True)
    newer = _database_a_newer_release_migrated(data)
    started = _start(data, "vigie", "db", "current")
    assert started.returncode == 0, started.stderr
    assert f"database: {newer};" in started.stdout
    assert "newer than this Vigie" in started.stderr and "deploy the newer version" in (
        started.stderr)
    assert "Can't locate revision" not in started.stderr
    worker = _start(data, "vigie", "worker")
    assert worker.returncode == 2, worker.stdout + worker.stderr
    lines = worker.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1], worker.stderr  # upgrade, then worker
    assert f"is at {newer}, newer than this Vigie" in lines[1]


def test_any_other_migration_failure_stops_the_start(tmp_path: Path) -> None:
    data = _folder(tmp_path, owner_is_user=True)
    (data / "vigie.db").write_bytes(b"not a database" * 100)
    if os.geteuid() == 0:
        os.chown(data / "vigie.db", NOBODY, NOBODY)
    started = _start(data, "vigie", "db", "current")
    assert started.returncode == 2, started.stdout + started.stderr
    assert "Migration error" in started.stderr
    assert "newest" not in started.stdout  # the command never ran
