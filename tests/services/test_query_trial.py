"""`vigie watch test`: what a query would have matched among stored mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, parse_query
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.query_trial import try_query
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage import search_index
from storage.db import transaction
from storage.models import Author, Mention
from tests.services import test_mention_search_index as corpus

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _store(sessions: sessionmaker[Session], workspace_id: int, watch: str) -> None:
    texts = [
        ("1", "mastodon", "Acme app keeps crashing, I want a refund!", 1),
        ("2", "rss", "Acme is hiring: jobs in Paris", 2),
        ("3", "mastodon", "Acme plante encore, c'est nul", 3),
        ("4", "bluesky", "Something else entirely", 4),
        ("5", "mastodon", "Acme crashed last month too", 24 * 10),
    ]
    fetched = [
        FetchedMention(network=network, external_id=ext, url=f"https://m.example/{ext}",
                       text=text, author=FetchedAuthor(handle=f"user{ext}"),
                       published_at=NOW - timedelta(hours=hours))
        for ext, network, text, hours in texts
    ]
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, watch), None, fetched,
                  now=NOW)


def test_trial_counts_and_lists_matches_in_the_period(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str
) -> None:
    _store(sessions, workspace_id, watch_name)
    trial = try_query(sessions, workspace_id, "acme AND NOT (jobs OR hiring)",
                      since=timedelta(days=7), now=NOW)
    assert trial.scanned == 4  # the 10-day-old mention is outside the period
    assert trial.matched == 2
    assert [hit.text for hit in trial.hits] == [
        "Acme app keeps crashing, I want a refund!", "Acme plante encore, c'est nul"]
    assert trial.description == "mentions containing acme, excluding jobs or hiring"
    french = try_query(sessions, workspace_id, "acme lang:fr", since=timedelta(days=30),
                       now=NOW)
    assert [hit.author for hit in french.hits] == ["user3"]
    capped = try_query(sessions, workspace_id, "acme", since=timedelta(days=30), now=NOW,
                       limit=1, max_scanned=2)
    assert capped.truncated and capped.scanned == 2 and len(capped.hits) == 1


def test_trial_refuses_a_bad_query_with_a_pointer(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    with pytest.raises(ServiceError) as err:
        try_query(sessions, workspace_id, "acme lang:xx", since=timedelta(days=7), now=NOW)
    assert "unknown language code" in err.value.message(plain=True)


def test_trial_through_the_index_equals_a_scan_of_the_period_on_real_text(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    """Queries with words read only the index's candidates; counts and hits are what
    matching every mention of the period (the newest ``max_scanned``) gives, queued
    mentions included."""
    texts = corpus._texts(shared_data)
    corpus._store(sessions, workspace_id, texts[30:], start=30)
    with transaction(sessions) as session:
        search_index.index_pending(session)
    corpus._store(sessions, workspace_id, texts[:30])  # queued, not indexed yet
    with sessions() as session:
        stored = session.execute(
            select(Mention.id, Mention.text, Mention.title, Author.handle, Mention.language,
                   Mention.network, Mention.published_at)
            .join(Author, Author.id == Mention.author_id, isouter=True)
            .where(Mention.workspace_id == workspace_id)
            .order_by(Mention.published_at.desc(), Mention.id.desc())).all()
    queries = [*corpus._queries(texts)[30:40], "help -please", '"the customer*"',
               "(bad OR worst) service", "help source:mastodon", "vote lang:en", "zzqx"]
    for since, most in ((timedelta(hours=5), 10_000), (timedelta(days=30), 500)):
        period = [r for r in stored if r.published_at.replace(tzinfo=UTC) >= corpus.NOW - since]
        read = period[:most]
        for text in queries:
            query = parse_query(text)
            want = [r.id for r in read if query.matches(MatchInput(
                text=r.text, title=r.title, author_handle=r.handle, language=r.language,
                network=r.network))]
            trial = try_query(sessions, workspace_id, text, since=since, now=corpus.NOW,
                              limit=7, max_scanned=most)
            assert (trial.scanned, trial.truncated, trial.matched) == (
                len(read), len(period) > most, len(want)), text
            assert [hit.id for hit in trial.hits] == want[:7], text
