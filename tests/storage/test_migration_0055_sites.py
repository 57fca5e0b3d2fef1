"""Migration 0055 on a feed byline seen on several sites and nowhere else, on SQLite and
PostgreSQL: the site with the most mentions keeps the byline's row (its id, count and
tracking), the others get rows of their own; no row is left behind with no site and no
mention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author, Workspace
from storage.models_influencers import TrackedInfluencer

NOW = datetime.now(UTC).replace(microsecond=0)


def database_url(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return (f"sqlite:///{tmp_path / 'orphans.db'}" if database == "sqlite"
            else str(request.getfixturevalue("fresh_postgres_url")))


def feed_post(external_id: str, handle: str, url: str, site: str | None = None,
          network: str = "rss") -> FetchedMention:
    return FetchedMention(network=network, external_id=external_id, url=url,
                          text=f"Acme news {external_id}",
                          author=FetchedAuthor(handle=handle, site=site), published_at=NOW)


def feed_workspace(engine: Engine) -> tuple[int, list[int]]:
    """A workspace with a watch and two feed sources (blog.example, news.example)."""
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T1")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id="C0123ABCD")
    return workspace_id, [do_add_source(sessions, workspace_id, CLI, kind="rss",
                                        watch_name="acme",
                                        values={"url": f"https://{site}/feed.xml"}).id
                          for site in ("blog.example.org", "news.example.net")]


def authors_now(engine: Engine) -> list[tuple[int, str, str | None, int, bool]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT a.id, a.handle, a.site, (SELECT COUNT(*) FROM mentions m "
            "WHERE m.author_id = a.id), EXISTS (SELECT 1 FROM tracked_influencers t "
            "WHERE t.author_id = a.id) FROM authors a ORDER BY a.handle"))]


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_0055_gives_a_byline_of_two_sites_row_to_one_site_and_leaves_none_behind(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = database_url(database, tmp_path, request)
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        workspace_id, sources = feed_workspace(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:  # as ingest stored them before 0055
            watch = get_watch_by_name(session, workspace_id, "acme")
            do_ingest(session, watch, sources[0], [
                feed_post("b1", "Admin", "https://blog.example.org/1"),
                feed_post("b2", "Admin", "https://blog.example.org/2")], now=NOW)
            do_ingest(session, watch, sources[1], [
                feed_post("n1", "Admin", "https://www.news.example.net/1")], now=NOW)
            admin = session.scalars(select(Author.id)).one()
            session.add(TrackedInfluencer(workspace_id=workspace_id, author_id=admin,
                                          created_at=NOW))
        migrations.downgrade(url, "0054")
        migrations.upgrade(url, "0055")
        rows = authors_now(engine)
        assert [row[1:] for row in rows] == [
            ("Admin@blog.example.org", "blog.example.org", 2, True),
            ("Admin@news.example.net", "news.example.net", 1, True)]
        assert rows[0][0] == admin  # the site with the most mentions kept the row
        with engine.connect() as conn:
            counts = list(conn.execute(text(
                "SELECT mention_count FROM authors ORDER BY handle")).scalars())
        assert counts == [2, 1]
        migrations.upgrade(url)
    finally:
        engine.dispose()
