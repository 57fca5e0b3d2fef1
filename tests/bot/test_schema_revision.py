"""The schema check without Alembic gives Alembic's answers, on both engines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from bot import schema_revision
from storage import migrations
from storage.db import make_engine

REPO = Path(__file__).resolve().parents[2]


def test_versions_folder_is_alembics() -> None:
    assert schema_revision.VERSIONS == migrations.SCRIPT_LOCATION / "versions"


def test_head_is_alembics_head() -> None:
    assert schema_revision.head_revision() == migrations.head_revision()


def test_current_revision_is_alembics_on_both_engines(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            expected = MigrationContext.configure(conn).get_current_revision()
        assert schema_revision.current_revision(engine) == expected
        assert schema_revision.is_current(engine)
    finally:
        engine.dispose()


def test_a_database_never_migrated_has_no_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert schema_revision.current_revision(engine) is None
        assert not schema_revision.is_current(engine)
    finally:
        engine.dispose()


def _write(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / name).write_text(
        f"from alembic import op\n\nrevision: str = {revision!r}\n"
        f"down_revision: str | tuple[str, ...] | None = {down}\n\n"
        "def upgrade() -> None:\n    op.execute('SELECT 1')\n",
        encoding="utf-8",
    )


def test_head_follows_down_revisions_not_file_names(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.py", "0001", "None")
    _write(tmp_path, "0002_b.py", "0009", "'0001'")  # a re-chained revision
    _write(tmp_path, "0003_c.py", "0003", "'0009'")
    _write(tmp_path, "__init__.py", "x", "None")
    assert schema_revision.head_revision(tmp_path) == "0003"


def test_a_merge_revision_is_the_head(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", "a", "None")
    _write(tmp_path, "b.py", "b", "'a'")
    _write(tmp_path, "c.py", "c", "'a'")
    _write(tmp_path, "m.py", "m", "('b', 'c')")
    assert schema_revision.head_revision(tmp_path) == "m"


def test_two_heads_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", "a", "None")
    _write(tmp_path, "b.py", "b", "'a'")
    _write(tmp_path, "c.py", "c", "'a'")
    with pytest.raises(schema_revision.RevisionError, match="several head revisions: b, c"):
        schema_revision.head_revision(tmp_path)


def test_a_migration_without_a_literal_revision_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("revision = make_id()\ndown_revision = None\n")
    with pytest.raises(schema_revision.RevisionError, match=r"a\.py"):
        schema_revision.head_revision(tmp_path)


def test_a_database_at_another_revision_is_reported(tmp_path: Path) -> None:
    """What every command checks first: a database left at an older revision (or one this
    version does not know) is named, with the revision Vigie needs."""
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    env = {"PYTHONPATH": str(REPO), "VIGIE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "mentions"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    head = migrations.head_revision()
    assert result.returncode == 2
    assert (
        f"The database {url} is at 0001 and Vigie needs {head}: run `vigie db upgrade`"
        in result.stderr
    )


def test_a_database_a_newer_release_migrated_is_named_newer(tmp_path: Path) -> None:
    """After a newer release migrated the database, this version says so instead of asking
    for `vigie db upgrade` (which cannot help); revision ids are zero-padded numbers."""
    head = migrations.head_revision()
    assert head is not None
    newer = f"{int(head) + 1:04d}"
    assert schema_revision.is_newer(newer) and not schema_revision.is_newer(head)
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :newer"), {"newer": newer})
    engine.dispose()
    env = {"PYTHONPATH": str(REPO), "VIGIE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "mentions"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert (f"The database {url} is at {newer}, newer than this Vigie ({head}): "
            "deploy the newer version." in result.stderr), result.stderr
    assert "vigie db upgrade" not in result.stderr


def test_vigie_help_and_version_do_not_import_the_stack() -> None:
    """`vigie --help` lists every command without importing SQLAlchemy, pydantic, Alembic
    or the analysis (the commands import what they use when they run)."""
    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom bot.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
        "print([m for m in sys.modules if m.startswith('bot.analysis')])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    roots, analysis = result.stdout.splitlines()
    for heavy in ("sqlalchemy", "pydantic", "alembic", "httpx", "slack_bolt", "apscheduler"):
        assert f"'{heavy}'" not in roots
    assert analysis == "[]"
