"""Posts whose author is gone or unnamed (a deleted Reddit account, a Mastodon status
without its account) on SQLite and PostgreSQL: each is a post of its own, never one
customer writing again, never one author counted or tracked.

Real data: tests/data/api/reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json
(praw-dev/asyncpraw cassette, see tests/data/api/INDEX.tsv) with two of its submissions'
authors set to ``[deleted]``, as Reddit sends them once the account is deleted, and
tests/data/api/mastodon/mastodonpy_status_plain.json without its ``account``.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.cards import load_card_view
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.watches import get_watch_by_name
from bot.sources import mastodon
from bot.sources.reddit import parse_listing
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage
from storage.models_cases import Case

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _cards(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return dict(
            session.execute(
                select(Mention.external_id, Mention.status).where(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.mention_id == Mention.id, OutboxMessage.kind == KIND_CARD)
                    .exists()
                )
            ).all()
        )


def _ingest(
    sessions: sessionmaker[Session], workspace_id: int, batch: list[Any], now: datetime
) -> None:
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None, batch, now=now)


def test_posts_by_deleted_reddit_accounts_are_each_their_own(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, shared_data: Path
) -> None:
    listing = json.loads(
        (
            shared_data / "api/reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"
        ).read_text()
    )
    for n, child in enumerate(listing["data"]["children"][:2]):
        child["data"]["author"] = "[deleted]"
        child["data"]["created_utc"] = (NOW - timedelta(minutes=60 - 10 * n)).timestamp()
    first, second = parse_listing(listing)[:2]
    assert first.author.anonymous and second.author.anonymous
    # Two polls: the second deleted account's request is no follow-up of the first's.
    _ingest(sessions, workspace_id, [first], NOW)
    _ingest(sessions, workspace_id, [second], NOW + timedelta(minutes=5))
    assert _cards(sessions) == {first.external_id: "new", second.external_id: "new"}
    with sessions() as session:
        assert session.scalars(select(Case)).all() == []
        # Nobody to count among the top authors, to track or to select with from:.
        assert session.scalars(select(Author.handle)).all() == []
        stored = session.scalars(select(Mention).order_by(Mention.id)).all()
        assert [m.author_id for m in stored] == [None, None]
        # Their cards still say who wrote them, as Reddit does.
        views = [load_card_view(session, m.id) for m in stored]
        assert [v.author_handle if v else None for v in views] == ["u/[deleted]"] * 2


def test_statuses_without_their_account_are_each_their_own(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, shared_data: Path
) -> None:
    status = json.loads((shared_data / "api/mastodon/mastodonpy_status_plain.json").read_text())
    posts = []
    for n in range(2):
        raw = copy.deepcopy(status)
        raw.pop("account", None)
        raw["id"] = str(int(raw["id"]) + n)
        raw["uri"] = raw["url"] = f"{raw['url']}{n}"
        raw["created_at"] = (NOW - timedelta(minutes=30 - n)).isoformat()
        posts.append(mastodon.status_to_mention(raw, "https://mastodon.social"))
    assert all(p.author.anonymous for p in posts)
    _ingest(sessions, workspace_id, posts[:1], NOW)
    _ingest(sessions, workspace_id, posts[1:], NOW + timedelta(minutes=5))
    assert _cards(sessions) == {p.external_id: "new" for p in posts}
    with sessions() as session:
        assert session.scalars(select(Author.handle)).all() == []
