"""Migration 0060: a Reddit or Hacker News comment stored with its thread's or story's title
as its own title gets it as its context instead (the title a query and ``vigie watch test``
read is the comment's own words only); posts and other networks keep their title; the
downgrade puts it back. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from storage import migrations
from storage.db import make_engine
from storage.models import Mention, Watch, Workspace

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
THREAD = "Dear non Germans: What do you think of Germany?"
# (network, external id, parent, title) as ingest stored them before 0060.
ROWS = [
    ("reddit", "t1_fxl1nec", "t1_fxj90f6", THREAD),  # a comment
    ("reddit", "t3_hoocpo", None, THREAD),  # the thread itself
    ("hackernews", "6651926", "6651704", "Patent war goes nuclear"),  # a comment
    ("hackernews", "6651704", None, "Patent war goes nuclear"),  # the story
    ("rss", "t1_like", "parent", "An article"),  # another network, whatever its ids
]


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0059")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG59")
                                       .returning(Workspace.id)).scalar_one()
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME001")
        session.add(watch)
        session.flush()
        for network, external_id, parent, title in ROWS:
            session.execute(insert(Mention).values(
                workspace_id=workspace_id, watch_id=watch.id, network=network,
                external_id=external_id, url=f"https://{network}.test/{external_id}",
                text="words", title=title, parent_external_id=parent, published_at=NOW))
        session.commit()
    engine.dispose()

    migrations.upgrade(url, "0060")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = {row[0]: (row[1], row[2]) for row in conn.execute(text(
            "SELECT external_id, title, context FROM mentions"))}
    assert rows == {
        "t1_fxl1nec": (None, THREAD), "t3_hoocpo": (THREAD, None),
        "6651926": (None, "Patent war goes nuclear"), "6651704": ("Patent war goes nuclear", None),
        "t1_like": ("An article", None)}
    with engine.connect() as conn:  # indexed again by the upgrade, not left to a poll
        assert conn.execute(text("SELECT count(*) FROM mention_search_pending")).scalar() == 0
    engine.dispose()

    migrations.downgrade(url, "0059")
    engine = make_engine(url)
    with engine.connect() as conn:
        titles = dict(conn.execute(text("SELECT external_id, title FROM mentions")).tuples().all())
    assert titles == {external_id: title for _, external_id, _, title in ROWS}
    engine.dispose()
    migrations.upgrade(url)


def test_sqlite_comment_titles_become_their_context(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm59.db'}")


@pytest.mark.postgres
def test_postgres_comment_titles_become_their_context(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
