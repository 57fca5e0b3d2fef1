"""The card's reply actions come from the mention's network and its source."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.cards import load_card_view
from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_feed_and_forum_mentions_are_replied_to_elsewhere(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str
) -> None:
    fetched = [
        FetchedMention(network=network, external_id=network, url=f"https://x.example/{network}",
                       text=text, published_at=NOW, author=FetchedAuthor(handle="someone"))
        for network, text in (("rss", "Acme opens a data centre in Lyon"),
                              ("hn", "Ask HN: does Acme support never answer anyone?"))
    ]
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, watch_name), None,
                  fetched, now=NOW)
    with sessions() as session:
        ids = dict(session.execute(select(Mention.network, Mention.id)).tuples().all())
        rss, hn = load_card_view(session, ids["rss"]), load_card_view(session, ids["hn"])
    assert rss is not None and hn is not None
    assert rss.reply_elsewhere and hn.reply_elsewhere
    assert "draft" not in rss.actions and "replied" in rss.actions
    assert "draft" in hn.actions
