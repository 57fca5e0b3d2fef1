"""What a watch query would have matched among the stored mentions (`vigie watch test`).

A query is tried before it is saved: the team sees the mentions it catches and how many,
so a missing exclusion or a too-narrow phrase shows before alerts depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, QueryError, parse_query
from bot.services.errors import ServiceError
from storage.models import Author, Mention

MAX_SCANNED = 200_000
"""Most stored mentions one trial reads (the newest first); beyond, the result says so."""


@dataclass(frozen=True, slots=True)
class TrialHit:
    """One stored mention the query matches."""

    id: int
    network: str
    author: str | None
    published_at: datetime
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class QueryTrial:
    """The outcome of trying a query: counts and the newest matches."""

    query: str
    description: str
    scanned: int
    matched: int
    hits: list[TrialHit]
    truncated: bool


def try_query(
    sessions: sessionmaker[Session], workspace_id: int, query_text: str, *,
    since: timedelta, now: datetime, limit: int = 20, max_scanned: int = MAX_SCANNED,
) -> QueryTrial:
    """Match ``query_text`` against the workspace's mentions published since ``now - since``.

    Raises ServiceError ``watch.bad_query`` (with the pointer) for an invalid query. Stores
    nothing. ``hits`` holds the newest ``limit`` matches; ``truncated`` is set when more
    than ``max_scanned`` mentions were in the period (only the newest were read).
    """
    try:
        query = parse_query(query_text)
    except QueryError as err:
        raise ServiceError("watch.bad_query", error=err.message, pointer=err.pointer()) from None
    statement = (
        select(Mention.id, Mention.network, Author.handle, Mention.published_at, Mention.title,
               Mention.text, Mention.url, Mention.language)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.workspace_id == workspace_id, Mention.published_at >= now - since)
        .order_by(Mention.published_at.desc(), Mention.id.desc())
        .limit(max_scanned + 1)
        .execution_options(yield_per=2000)
    )
    scanned = matched = 0
    hits: list[TrialHit] = []
    truncated = False
    with sessions() as session:
        for row in session.execute(statement):
            if scanned == max_scanned:
                truncated = True
                break
            scanned += 1
            item = MatchInput(text=row.text, title=row.title, author_handle=row.handle,
                              language=row.language, network=row.network)
            if not query.matches(item):
                continue
            matched += 1
            if len(hits) < limit:
                hits.append(TrialHit(row.id, row.network, row.handle, row.published_at,
                                     row.text, row.url))
    return QueryTrial(query_text, query.describe(), scanned, matched, hits, truncated)
