"""What a watch query would have matched among the stored mentions (`vigie watch test`).

A query is tried before it is saved: the team sees the mentions it catches and how many,
so a missing exclusion or a too-narrow phrase shows before alerts depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, Query, QueryError, parse_query, searched_text
from bot.matching.search_terms import fts5_query, tsquery
from bot.services.errors import ServiceError, query_error
from storage import search_index
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
    than ``max_scanned`` mentions were in the period (only the newest were considered).
    When the query has words, only the full-text index's candidates are read (each one
    confirmed with ``Query.matches``, as a scan would); else every mention of the period.
    """
    try:
        query = parse_query(query_text)
    except QueryError as err:
        raise ServiceError("watch.bad_query", error=query_error(err),
                           pointer=err.pointer()) from None
    in_period: list[ColumnElement[bool]] = [Mention.workspace_id == workspace_id,
                                            Mention.published_at >= now - since]
    with sessions() as session:
        found = search_index.candidates(session, fts5_query(query), tsquery(query))
        if found is None:  # no words to look up: read the period
            scan = _Scan(session.execute(_listing(in_period).limit(max_scanned + 1)),
                         max_scanned)
            matched, hits = _matches(query, scan, limit)
            scanned, truncated = scan.scanned, scan.truncated
        else:
            scanned, truncated, rows = _indexed(session, in_period, max_scanned, found)
            matched, hits = _matches(query, rows, limit)
    return QueryTrial(query_text, query.describe(), scanned, matched, hits, truncated)


def _matches(query: Query, rows: Iterable[Row[Any]], limit: int) -> tuple[int, list[TrialHit]]:
    """How many rows the query matches, and the first ``limit`` of them."""
    matched = 0
    hits: list[TrialHit] = []
    for row in rows:
        item = MatchInput(text=searched_text(row.text, row.aside), title=row.title,
                          author_handle=row.handle, language=row.language, network=row.network)
        if not query.matches(item):
            continue
        matched += 1
        if len(hits) < limit:
            hits.append(TrialHit(row.id, row.network, row.handle, row.published_at,
                                 row.text, row.url))
    return matched, hits


_NEWEST_FIRST = (Mention.published_at.desc(), Mention.id.desc())


def _listing(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(Mention.id, Mention.network, Author.handle, Mention.published_at, Mention.title,
               Mention.text, Mention.url, Mention.language, Mention.aside)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(*conditions)
        .order_by(*_NEWEST_FIRST)
        .execution_options(yield_per=2000)
    )


class _Scan:
    """The period's rows, newest first, up to ``most`` (counted as they are read)."""

    def __init__(self, rows: Iterable[Row[Any]], most: int) -> None:
        self.rows, self.most = rows, most
        self.scanned = 0
        self.truncated = False

    def __iter__(self) -> Iterator[Row[Any]]:
        for row in self.rows:
            if self.scanned == self.most:
                self.truncated = True
                return
            self.scanned += 1
            yield row


def _indexed(session: Session, in_period: list[ColumnElement[bool]], max_scanned: int,
             found: search_index.Candidates) -> tuple[int, bool, Iterable[Row[Any]]]:
    """How many mentions a scan would read, whether it would stop early, and the index's
    candidates among them (newest first)."""
    edge = session.execute(select(Mention.published_at, Mention.id).where(*in_period)
                           .order_by(*_NEWEST_FIRST).offset(max_scanned).limit(1)).first()
    conditions = list(in_period)
    if edge is None:
        scanned = int(session.scalar(select(func.count()).select_from(Mention)
                                     .where(*in_period)) or 0)
    else:  # only mentions newer than the first one a scan would leave out
        scanned = max_scanned
        conditions.append(or_(Mention.published_at > edge[0], and_(
            Mention.published_at == edge[0], Mention.id > edge[1])))
    return scanned, edge is not None, session.execute(
        _listing([*conditions, found.condition]), found.params)
