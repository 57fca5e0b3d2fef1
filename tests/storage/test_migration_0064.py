"""Migration 0064 on SQLite and PostgreSQL: the feed bylines 0055 left behind (no site, no
mention, moved to their sites' authors) are removed, their tracking kept on the site
authors; never a byline someone tracked before its posts came, an author with mentions,
one with no site author, nor an author of a network Vigie reads itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author
from storage.models_influencers import TrackedInfluencer
from tests.storage.test_migration_0055_sites import (
    NOW,
    authors_now,
    database_url,
    feed_post,
    feed_workspace,
)


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_0064_removes_the_bylines_0055_left_empty_and_nothing_else(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = database_url(database, tmp_path, request)
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        workspace_id, sources = feed_workspace(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            watch = get_watch_by_name(session, workspace_id, "acme")
            do_ingest(session, watch, sources[0], [
                feed_post("b1", "Admin@blog.example.org", "https://blog.example.org/1",
                      "blog.example.org"),
                feed_post("b2", "Editor@blog.example.org", "https://blog.example.org/2",
                      "blog.example.org"),
                feed_post("b3", "Early@blog.example.org", "https://blog.example.org/3",
                      "blog.example.org"),
                feed_post("b4", "Bob@blog.example.org", "https://blog.example.org/4",
                      "blog.example.org")], now=NOW)
            do_ingest(session, watch, sources[1], [
                feed_post("n1", "Admin@news.example.net", "https://news.example.net/1",
                      "news.example.net")], now=NOW)
            do_ingest(session, watch, None, [
                feed_post("w1", "Bob", "https://hook.example/1"),
                feed_post("x1", "@ana", "https://x.com/ana/status/1", network="x")], now=NOW)
            ids = {a.handle: a.id for a in session.scalars(select(Author))}

            def author(handle: str, network: str = "rss") -> int:
                row = Author(workspace_id=workspace_id, network=network, handle=handle,
                             mention_count=0, first_seen_at=NOW, last_seen_at=NOW)
                session.add(row)
                session.flush()
                return row.id

            # What 0055 left: "Admin" of two sites, tracked (its tracking copied to both);
            # "Editor", untracked.
            ids["Admin"], ids["Editor"] = author("Admin"), author("Editor")
            # Tracked before its posts came (do_track): its site author is not tracked.
            ids["Early"] = author("Early")
            ids["Lonely"] = author("Lonely")  # no site author
            # An X author no mention names, beside a look-alike with a site: X's own.
            ids["@zed"] = author("@zed", "x")
            ids["@zed@x.example"] = author("@zed@x.example", "x")
            for handle in ("Admin", "Admin@blog.example.org", "Admin@news.example.net",
                           "Early"):
                session.add(TrackedInfluencer(workspace_id=workspace_id,
                                              author_id=ids[handle], created_at=NOW))
        with engine.begin() as conn:
            conn.execute(text("UPDATE authors SET site = 'x.example' WHERE id = :id"),
                         {"id": ids["@zed@x.example"]})
        migrations.downgrade(url, "0063")
        migrations.upgrade(url)
        assert [row[1:] for row in authors_now(engine)] == [
            ("@ana", None, 1, False),
            ("@zed", None, 0, False),
            ("@zed@x.example", "x.example", 0, False),
            ("Admin@blog.example.org", "blog.example.org", 1, True),
            ("Admin@news.example.net", "news.example.net", 1, True),
            ("Bob", None, 1, False),
            ("Bob@blog.example.org", "blog.example.org", 1, False),
            ("Early", None, 0, True),
            ("Early@blog.example.org", "blog.example.org", 1, False),
            ("Editor@blog.example.org", "blog.example.org", 1, False),
            ("Lonely", None, 0, False),
        ]
        with engine.connect() as conn:
            assert conn.execute(text(
                "SELECT COUNT(*) FROM tracked_influencers")).scalar_one() == 3
    finally:
        engine.dispose()
