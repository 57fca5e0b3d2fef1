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


def _submission(listing: dict[str, Any], post_id: str, author: str, minutes_ago: int) -> Any:
    """The listing's first submission under another id and author, with its words."""
    raw = copy.deepcopy(listing)
    child = raw["data"]["children"][0]
    data = child["data"]
    first_id = data["id"]
    data.update(
        id=post_id,
        name=f"t3_{post_id}",
        author=author,
        permalink=data["permalink"].replace(first_id, post_id),
        url=data["url"].replace(first_id, post_id),
        created_utc=(NOW - timedelta(minutes=minutes_ago)).timestamp(),
    )
    raw["data"]["children"] = [child]
    (post,) = parse_listing(raw)
    return post


def test_a_deleted_accounts_words_are_nobody_elses_post(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, shared_data: Path
) -> None:
    """A stored post by u/[deleted] has no author to compare: a named customer, or another
    deleted account, posting its words later is a mention of their own, not a near
    duplicate of it (nor are two deleted accounts' copies in one batch)."""
    listing = json.loads(
        (
            shared_data / "api/reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"
        ).read_text()
    )
    deleted = _submission(listing, "6ganxe", "[deleted]", 60)
    named = _submission(listing, "zzzzz1", "bob_customer", 30)
    again = _submission(listing, "zzzzz2", "[deleted]", 20)
    batch = [
        _submission(listing, "zzzzz3", "[deleted]", 15),
        _submission(listing, "zzzzz4", "[deleted]", 14),
    ]
    assert deleted.author.anonymous and not named.author.anonymous
    _ingest(sessions, workspace_id, [deleted], NOW)
    _ingest(sessions, workspace_id, [named], NOW + timedelta(minutes=5))
    _ingest(sessions, workspace_id, [again], NOW + timedelta(minutes=6))
    _ingest(sessions, workspace_id, batch, NOW + timedelta(minutes=7))
    # Each stored and counted: the copies join the first's story (a copy-paste campaign),
    # as any other posters' copies of its words do.
    with sessions() as session:
        stored: dict[str, int | None] = {
            external_id: story_id
            for external_id, story_id in session.execute(
                select(Mention.external_id, Mention.story_id)
            )
        }
        first_id = session.scalar(
            select(Mention.id).where(Mention.external_id == deleted.external_id)
        )
    copies = [named, again, *batch]
    assert stored == {deleted.external_id: None, **{p.external_id: first_id for p in copies}}
    # The named customer's own copy under another id is still their one post.
    _ingest(
        sessions,
        workspace_id,
        [_submission(listing, "zzzzz5", "bob_customer", 10)],
        NOW + timedelta(minutes=8),
    )
    with sessions() as session:
        assert len(session.scalars(select(Mention.id)).all()) == 1 + len(copies)
