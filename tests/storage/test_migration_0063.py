"""Migration 0063: the Reddit authors (``u/NAME``, and ``/u/NAME`` left by a release
before 0061) get the ``from:`` key ``name``; other authors keep theirs; the downgrade
gives back the keys releases before it compute. More rows than a batch; SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine
from storage.models import Author, Workspace

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MANY = 5003
"""More Reddit authors than the migration's ``BATCH``."""

# handle, network, key before 0063 -> key after it.
AUTHORS = [
    ("u/cheesycow5", "reddit", "u/cheesycow5", "cheesycow5"),
    ("/u/Ana", "reddit", "/u/ana", "ana"),
    ("@alice@mastodon.social", "mastodon", "alice", "alice"),
    ("Admin@blog.example", "rss", "admin", "admin"),
]


def _keys(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        keys = list(conn.execute(text("SELECT handle_key FROM authors ORDER BY id")).scalars())
    engine.dispose()
    return keys


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0062")
    engine = make_engine(url)
    with Session(engine) as session:
        workspace = session.execute(
            insert(Workspace).values(team_id="T0MIG631").returning(Workspace.id)
        ).scalar_one()
        rows = [(handle, network, before) for handle, network, before, _ in AUTHORS]
        rows += [(f"u/Poster{n}", "reddit", f"u/poster{n}") for n in range(MANY)]
        session.execute(
            insert(Author),
            [
                {
                    "workspace_id": workspace,
                    "network": network,
                    "handle": handle,
                    "handle_key": before,
                    "mention_count": 1,
                    "first_seen_at": NOW,
                    "last_seen_at": NOW,
                }
                for handle, network, before in rows
            ],
        )
        session.commit()
    engine.dispose()
    before = [before for _, _, before, _ in AUTHORS] + [f"u/poster{n}" for n in range(MANY)]
    assert _keys(url) == before

    migrations.upgrade(url, "0063")
    assert _keys(url) == [after for *_, after in AUTHORS] + [f"poster{n}" for n in range(MANY)]

    migrations.downgrade(url, "0062")
    assert _keys(url) == before
    migrations.upgrade(url)


def test_sqlite_reddit_authors_are_keyed_by_their_name(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm63.db'}")


@pytest.mark.postgres
def test_postgres_reddit_authors_are_keyed_by_their_name(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
