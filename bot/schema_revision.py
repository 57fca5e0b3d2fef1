"""Is the database at the newest migration? Answered without importing Alembic.

Every command that opens the database checks this first, and Alembic (with its script
loader and templates) costs a tenth of the `vigie` start-up: only `vigie db upgrade` and
`downgrade` need it. The newest revision is read from the migration files' own
``revision`` and ``down_revision`` assignments (parsed, never executed), the database's
from the ``alembic_version`` table Alembic keeps. ``tests/bot/test_schema_revision.py``
checks both against Alembic's answers.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from sqlalchemy import Engine, inspect, text

VERSIONS = Path(__file__).resolve().parent.parent / "alembic" / "versions"
"""The migration files (``script_location`` of ``storage.migrations``, ``/versions``)."""

VERSION_TABLE = "alembic_version"


class RevisionError(Exception):
    """The migration files or the version table are not a single line of revisions."""


def _assigned(tree: ast.Module, name: str) -> object:
    """The literal value a module assigns to ``name`` at top level; KeyError if none."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            assert node.value is not None
            return ast.literal_eval(node.value)
    raise KeyError(name)


def _revisions(folder: Path) -> dict[str, tuple[str, ...]]:
    """Each migration's revision and the revisions it follows (several for a merge)."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        try:
            revision = _assigned(tree, "revision")
            down = _assigned(tree, "down_revision")
        except (KeyError, ValueError) as err:
            raise RevisionError(f"{path.name}: no literal revision/down_revision") from err
        if not isinstance(revision, str):
            raise RevisionError(f"{path.name}: revision is not a string")
        if down is None:
            found[revision] = ()
        elif isinstance(down, str):
            found[revision] = (down,)
        elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
            found[revision] = tuple(down)
        else:
            raise RevisionError(f"{path.name}: down_revision is not a string or a tuple")
    return found


@functools.cache
def head_revision(folder: Path = VERSIONS) -> str | None:
    """The newest revision shipped (the one no other migration follows); None if there are
    no migrations. Several heads raise ``RevisionError``, as Alembic refuses them too."""
    revisions = _revisions(folder)
    followed = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - followed)
    if len(heads) > 1:
        raise RevisionError(f"several head revisions: {', '.join(heads)}")
    return heads[0] if heads else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    if len(rows) > 1:
        raise RevisionError(f"the database is at several revisions: {', '.join(sorted(rows))}")
    return rows[0] if rows else None


def is_current(engine: Engine) -> bool:
    """True when the database is migrated to the newest revision."""
    return current_revision(engine) == head_revision()


@functools.cache
def _shipped(folder: Path) -> frozenset[str]:
    return frozenset(_revisions(folder))


def is_newer(revision: str, folder: Path = VERSIONS) -> bool:
    """True when ``revision`` is none of the migrations shipped here: a newer release
    migrated the database (`vigie db upgrade` of this version cannot help; a downgrade
    needs the newer version's migrations)."""
    return revision not in _shipped(folder)


def newer_database(current: str, head: str | None) -> str:
    """The sentence for a database migrated by a newer release than this code."""
    return (f"the database is at {current}, newer than this Vigie ({head}): "
            "deploy the newer version")
