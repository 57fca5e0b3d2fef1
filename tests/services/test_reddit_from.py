"""``from:`` selects and excludes a Reddit author (stored as ``u/NAME``) as typed:
``from:NAME``, ``from:u/NAME`` or ``from:/u/NAME``, in a watch's query and in a listing
read through the authors' handle keys, on SQLite and PostgreSQL.

Real data: tests/data/api/reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json
(praw-dev/asyncpraw cassette, see tests/data/api/INDEX.tsv); its first submission is
cheesycow5's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.matching import MatchInput, parse_query
from bot.services.export import iter_mentions
from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources.base import FetchedMention
from bot.sources.reddit import parse_listing
from storage.db import transaction

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _posts(shared_data: Path) -> list[FetchedMention]:
    path = shared_data / "api/reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"
    return parse_listing(json.loads(path.read_text()))


@pytest.mark.parametrize(
    "typed", ["cheesycow5", "u/cheesycow5", "/u/cheesycow5", "U/CheesyCow5", "@cheesycow5"]
)
def test_from_selects_and_excludes_a_reddit_author(typed: str, shared_data: Path) -> None:
    post = _posts(shared_data)[0]
    assert post.author.handle == "u/cheesycow5"
    item = MatchInput(
        text=post.text, title=post.title, author_handle=post.author.handle, network=post.network
    )
    assert parse_query(f"from:{typed}").matches(item)
    assert not parse_query(f"reddit -from:{typed}").matches(item)
    assert not parse_query("from:cheesycow").matches(item)


def test_a_listing_from_a_reddit_author(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, shared_data: Path
) -> None:
    posts = _posts(shared_data)
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None, posts, now=NOW)
    theirs = {p.url for p in posts if p.author.handle == "u/cheesycow5"}
    for typed in ("cheesycow5", "u/cheesycow5", "/u/cheesycow5"):
        with sessions() as session:
            found = {
                row["url"]
                for row in iter_mentions(
                    session,
                    workspace_id,
                    since=NOW - timedelta(days=4000),
                    until=NOW,
                    text=f"from:{typed}",
                )
            }
        assert found == theirs, typed
