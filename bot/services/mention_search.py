"""Listing stored mentions with filters (CLI `vigie mentions`, `/cm mentions`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, Query, QueryError, parse_query
from bot.matching.search_terms import fts5_query, tsquery
from bot.services.errors import ServiceError
from bot.services.watch_links import in_watches
from bot.services.watches import get_watch_by_name
from storage import search_index
from storage.models import Author, Mention, MentionStatus, Watch

DURATION = re.compile(r"^(\d{1,12})([mhdw])$")
LONGEST_PERIOD = timedelta(days=36_500)
"""Periods longer than a century mean "everything" and are cut to one (no date overflow)."""
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SENTIMENTS = ("negative", "neutral", "positive")
MAX_LIMIT = 500
MAX_CONFIRM_PAGE = 2000
"""Most index candidates read at once when many of them fail the query's exclusions."""
SINCE_PROBE = 20_000
"""Most mentions read from the published_at index to bound a ``since`` listing by id."""


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` -> timedelta; ServiceError otherwise. Any length is
    accepted (``10000d``: everything), at most ``LONGEST_PERIOD``."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise ServiceError("mentions.bad_since", value=text)
    amount, unit = int(match.group(1)), UNITS[match.group(2)]
    longest = LONGEST_PERIOD / timedelta(**{unit: 1})
    return timedelta(**{unit: amount}) if amount < longest else LONGEST_PERIOD


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """Filters of a mention listing; all optional."""

    watch: str | None = None
    since: timedelta | None = None
    status: str | None = None
    sentiment: str | None = None
    network: str | None = None
    assignee: str | None = None
    text: str | None = None
    before_id: int | None = None


@dataclass(frozen=True, slots=True)
class MentionRow:
    """One mention as listings show it."""

    id: int
    network: str
    external_id: str
    author: str | None
    author_followers: int | None
    text: str
    title: str | None
    url: str
    published_at: datetime
    status: str
    watch: str | None
    language: str | None
    sentiment: float | None
    sentiment_label: str | None
    intent: str | None
    priority: int
    priority_reason: str | None
    assignee: str | None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601 UTC)."""
        return {
            "id": self.id, "network": self.network, "external_id": self.external_id,
            "author": self.author, "author_followers": self.author_followers,
            "text": self.text, "title": self.title, "url": self.url,
            "published_at": self.published_at.isoformat(), "status": self.status,
            "watch": self.watch, "language": self.language, "sentiment": self.sentiment,
            "sentiment_label": self.sentiment_label, "intent": self.intent,
            "priority": self.priority, "priority_reason": self.priority_reason,
            "assignee": self.assignee,
        }


def _validate(filters: MentionFilter) -> None:
    if filters.status and filters.status not in {s.value for s in MentionStatus}:
        raise ServiceError("mentions.bad_status", value=filters.status,
                           valid=", ".join(s.value for s in MentionStatus))
    if filters.sentiment and filters.sentiment not in SENTIMENTS:
        raise ServiceError("mentions.bad_sentiment", value=filters.sentiment)


def parse_text(text: str) -> Query:
    """A listing's text filter in the watch query language (words, "phrases", prefix*,
    OR, -exclusions, fields), with a clear ServiceError when it cannot search."""
    try:
        query = parse_query(text)
    except QueryError as err:
        raise ServiceError("mentions.bad_text", error=err.message,
                           pointer=err.pointer()) from None
    if query.is_empty or (fts5_query(query) is None and tsquery(query) is None):
        raise ServiceError("mentions.text_needs_words", value=text)
    return query


_COLUMNS = (
    Mention.id, Mention.network, Mention.external_id, Mention.text, Mention.title,
    Mention.url, Mention.published_at, Mention.status, Mention.language, Mention.sentiment,
    Mention.sentiment_label, Mention.intent, Mention.priority, Mention.priority_reason,
    Mention.assignee_user_id, Author.handle, Author.followers, Watch.name,
)


def _row(r: Row[Any]) -> MentionRow:
    return MentionRow(
        id=r[0], network=r[1], external_id=r[2], text=r[3], title=r[4], url=r[5],
        published_at=r[6], status=r[7], language=r[8], sentiment=r[9], sentiment_label=r[10],
        intent=r[11], priority=r[12], priority_reason=r[13], assignee=r[14], author=r[15],
        author_followers=r[16], watch=r[17],
    )


def _matches(query: Query, row: MentionRow) -> bool:
    return query.matches(MatchInput(text=row.text, title=row.title, author_handle=row.author,
                                    language=row.language, network=row.network))


def search_mentions(
    sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter, *,
    limit: int = 20, now: datetime,
) -> list[MentionRow]:
    """The newest mentions matching ``filters`` (keyset pagination with ``before_id``).

    The text filter is the watch query language, answered by the full-text index and
    confirmed mention by mention with ``Query.matches`` (the index may over-select, never
    miss), so a listing shows exactly what a watch with that query would match.
    """
    _validate(filters)
    text_query = parse_text(filters.text) if filters.text else None
    limit = max(1, min(limit, MAX_LIMIT))
    with sessions() as session:
        watch = (get_watch_by_name(session, workspace_id, filters.watch)
                 if filters.watch else None)
        query = (
            select(*_COLUMNS)
            .join(Author, Author.id == Mention.author_id, isouter=True)
            # With a watch asked for, rows name it (a mention belongs to every watch it
            # matches); else the watch that found the mention first.
            .join(Watch, Watch.id == (Mention.watch_id if watch is None else watch.id),
                  isouter=True)
            .where(Mention.workspace_id == workspace_id)
        )
        if watch is not None:
            # Every mention the watch holds, whichever watch stored it first.
            query = query.where(in_watches([watch.id]))
        if filters.since is not None:
            since = now - filters.since
            query = query.where(Mention.published_at >= since)
            lowest = _lowest_id_since(session, workspace_id, since)
            if lowest == 0:
                return []
            if lowest is not None:
                query = query.where(Mention.id >= lowest)
        if filters.status:
            query = query.where(Mention.status == filters.status)
        if filters.sentiment:
            query = query.where(Mention.sentiment_label == filters.sentiment)
        if filters.network:
            query = query.where(Mention.network == filters.network.lower())
        if filters.assignee:
            query = query.where(Mention.assignee_user_id == filters.assignee)
        if text_query is None:
            if filters.before_id is not None:
                query = query.where(Mention.id < filters.before_id)
            rows = session.execute(query.order_by(Mention.id.desc()).limit(limit)).all()
            return [_row(r) for r in rows]
        condition = search_index.candidates(session, fts5_query(text_query),
                                            tsquery(text_query))
        if condition is not None:
            query = query.where(condition)
        return _confirmed(session, query, text_query, filters.before_id, limit)


def _lowest_id_since(session: Session, workspace_id: int, since: datetime) -> int | None:
    """The smallest id among mentions published since ``since`` (0: there are none), when
    there are at most SINCE_PROBE of them; None for a larger window.

    The bound is read from every mention of the window, never inferred from insertion
    order: a backfill stores old posts after new ones, so ids do not follow published
    time, yet no mention of the window has an id below its smallest.

    Listings read newest ids first; with ``id >= lowest`` added, an index on
    (workspace, column, id) stops at the window's edge instead of reading every older
    row when the window holds fewer matches than a page (``since:1h status:approved``).
    """
    ids = session.execute(
        select(Mention.id).where(Mention.workspace_id == workspace_id,
                                 Mention.published_at >= since).limit(SINCE_PROBE)
    ).scalars().all()
    if len(ids) >= SINCE_PROBE:
        return None
    return min(ids, default=0)


def _confirmed(session: Session, query: Select[Any], text_query: Query,
               before_id: int | None, limit: int) -> list[MentionRow]:
    """Pages of index candidates, newest first, kept when the query really matches."""
    found: list[MentionRow] = []
    size = limit
    while len(found) < limit:
        page = query if before_id is None else query.where(Mention.id < before_id)
        rows = [_row(r) for r in session.execute(
            page.order_by(Mention.id.desc()).limit(size)).all()]
        found.extend(row for row in rows if _matches(text_query, row))
        if len(rows) < size:
            break
        before_id = rows[-1].id
        # Exclusions and fields are only checked here: read faster when they reject many.
        size = min(size * 4, MAX_CONFIRM_PAGE)
    return found[:limit]
