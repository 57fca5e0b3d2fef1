"""Exports of mentions with their workflow state: CSV or JSON Lines.

`/cm export [7d|30d] [watch:NAME] [words]` sends a CSV to the requester's DM (the newest
10,000 mentions at most, so the file fits in an outbox row; words search as in
`/cm mentions`); `vigie export` streams any period to a file or
stdout. CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, after any whitespace) are prefixed with a quote.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t, tally
from bot.matching.query import MatchInput, Query, searched_text
from bot.matching.search_terms import fts5_query, index_is_exact, tsquery
from bot.messages.permalink import card_permalink
from bot.services.actors import Actor
from bot.services.errors import Periods, ServiceError
from bot.services.mention_search import fields_search, parse_duration, parse_text, period_key
from bot.services.outbox import KIND_UPLOAD, do_enqueue
from bot.services.permissions import require_role
from bot.services.sla import waited_for
from bot.services.watch_links import in_watches
from bot.services.watches import get_watch_by_name
from storage import search_index
from storage.db import transaction
from storage.mention_listing import lowest_id_in_window
from storage.models import Author, Mention, Role, Watch

COLUMNS = (
    "id", "created_at", "published_at", "network", "watch", "author", "author_followers",
    "url", "title", "text", "language", "sentiment", "sentiment_label", "intent", "priority",
    "status", "owner", "alerted", "card_url", "first_response_at", "first_response_minutes",
    "replied_at", "reply_url",
)
SLACK_PERIODS = ("7d", "30d")
SLACK_ROW_LIMIT = 10_000
FORMATS = ("csv", "jsonl")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export to Slack produced."""

    rows: int
    total: int
    filename: str
    watch_named: str | None = None
    """The watch whose name the search was, word for word (`/cm export 7d acme` searches the
    text; before `watch:` existed it meant that watch, so the answer says how to ask for it)."""

    @property
    def truncated(self) -> bool:
        """True when the period held more mentions than the file carries."""
        return self.total > self.rows


def csv_safe(value: Any) -> Any:
    """A cell value a spreadsheet will show as text, never run as a formula."""
    # Spreadsheets skip leading spaces (and newlines) before a formula: " =1+2" runs too.
    if isinstance(value, str) and (value.startswith(FORMULA_PREFIXES)
                                   or value.lstrip().startswith(FORMULA_PREFIXES)):
        return "'" + value
    return value


def _conditions(workspace_id: int, since: datetime, until: datetime, watch_id: int | None,
                *, checked: bool = False) -> list[ColumnElement[bool]]:
    """The period (and watch) of an export; ``checked``: the period is tested on each row
    read, never through an index (another index narrows the rows better)."""
    published: Any = Mention.published_at
    if checked:
        published = func.coalesce(published, published)
    conditions = [Mention.workspace_id == workspace_id, published >= since, published < until]
    if watch_id is not None:
        conditions.append(in_watches([watch_id]))
    return conditions


def _query(workspace_id: int, since: datetime, until: datetime, watch_id: int | None,
           *, checked: bool = False) -> Select[Any]:
    return (
        select(Mention, Author.handle, Author.followers, Watch.name)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        # With a watch asked for, rows name it (a mention belongs to every watch it
        # matches); else the watch that found the mention first.
        .join(Watch, Watch.id == (Mention.watch_id if watch_id is None else watch_id),
              isouter=True)
        .where(*_conditions(workspace_id, since, until, watch_id, checked=checked))
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _record(m: Mention, handle: str | None, followers: int | None, watch: str | None
            ) -> dict[str, Any]:
    minutes = None
    if m.first_response_at is not None:
        minutes = round(waited_for(m, m.first_response_at) / 60, 1)
    return {
        "id": m.id, "created_at": _iso(m.created_at), "published_at": _iso(m.published_at),
        "network": m.network, "watch": watch, "author": handle, "author_followers": followers,
        "url": m.url, "title": m.title, "text": m.text, "language": m.language,
        "sentiment": m.sentiment, "sentiment_label": m.sentiment_label, "intent": m.intent,
        "priority": m.priority, "status": m.status, "owner": m.assignee_user_id,
        "alerted": m.alerted, "card_url": card_permalink(m.slack_channel, m.slack_ts),
        "first_response_at": _iso(m.first_response_at), "first_response_minutes": minutes,
        "replied_at": _iso(m.replied_at), "reply_url": m.reply_url,
    }


def iter_mentions(session: Session, workspace_id: int, *, since: datetime, until: datetime,
                  watch: str | None = None, limit: int | None = None, text: str | None = None
                  ) -> Generator[dict[str, Any]]:
    """Mentions published in [since, until), newest first, as flat records (streamed).

    ``text`` is a search in the watch query language, as in `/cm mentions` (full-text
    index, each candidate confirmed with ``Query.matches``).
    """
    text_query = parse_text(text) if text else None
    watch_id = get_watch_by_name(session, workspace_id, watch).id if watch else None
    narrowed: _Narrowed | None = _Narrowed([], {}, checked=False)
    if text_query is not None:
        found = search_index.candidates(session, fts5_query(text_query), tsquery(text_query))
        narrowed = (_Narrowed([found.condition], found.params, checked=False)
                    if found is not None else
                    _fields_narrowed(session, workspace_id, text_query, since))
    if narrowed is None:
        return
    query = (_query(workspace_id, since, until, watch_id, checked=narrowed.checked)
             .where(*narrowed.conditions).order_by(Mention.id.desc()))
    params = narrowed.params
    if limit is not None and text_query is None:
        query = query.limit(limit)
    count = 0
    for m, handle, followers, watch_name in session.execute(
            query.execution_options(yield_per=BATCH), params):
        if text_query is not None and not text_query.matches(MatchInput(
                text=searched_text(m.text, m.aside), title=m.title, author_handle=handle,
                language=m.language, network=m.network)):
            continue
        yield _record(m, handle, followers, watch_name)
        count += 1
        if limit is not None and count >= limit:
            return


def write_csv(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write ``records`` as CSV with a header; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow([csv_safe("" if record[c] is None else record[c]) for c in COLUMNS])
        count += 1
    return count


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one JSON object per line; returns the number of lines."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_mentions(sessions: sessionmaker[Session], workspace_id: int, out: TextIO, *,
                    since: str, fmt: str, now: datetime, watch: str | None = None,
                    text: str | None = None) -> int:
    """`vigie export`: every mention of the last ``since`` (``30d``...) as CSV or JSONL,
    optionally only those a ``text`` search finds."""
    if fmt not in FORMATS:
        raise ServiceError("export.bad_format", value=fmt, valid=", ".join(FORMATS))
    start = now - parse_duration(since)
    if text:
        parse_text(text)  # a bad search fails before the header is written
    with sessions() as session:
        records = iter_mentions(session, workspace_id, since=start, until=now, watch=watch,
                                text=text)
        return write_csv(records, out) if fmt == "csv" else write_jsonl(records, out)


def parse_export_period(text: str | None) -> timedelta:
    """``7d`` or ``30d`` (default 7d) for `/cm export`; ServiceError otherwise."""
    value = period_key(text or SLACK_PERIODS[0])
    if value not in SLACK_PERIODS:
        raise ServiceError("export.bad_period", value=text or "",
                           valid=Periods(int(period[:-1]) for period in SLACK_PERIODS))
    return parse_duration(value)


def do_export_to_slack(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                       channel_id: str, period: str | None, watch: str | None, now: datetime,
                       language: str, text: str | None = None) -> ExportResult:
    """Upload a CSV of the period's mentions to ``channel_id`` through the outbox; with
    ``text``, only those the search finds (the `/cm mentions` query language)."""
    start = now - parse_export_period(period)
    if text:
        parse_text(text)  # a bad search fails before anything is read
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        watch_id = get_watch_by_name(session, workspace_id, watch).id if watch else None
        watch_named = None
        if text and watch is None and " " not in text.strip():
            watch_named = session.scalar(select(Watch.name).where(
                Watch.workspace_id == workspace_id,
                func.lower(Watch.name) == text.strip().lower()))
        buffer = io.StringIO()
        if text:
            found = _Counted(iter_mentions(session, workspace_id, since=start, until=now,
                                           watch=watch, text=text), SLACK_ROW_LIMIT)
            rows = write_csv(found, buffer)
            total = rows
            if found.last_id is not None:  # the file is full: count what it leaves out
                total += count_search(session, workspace_id, since=start, until=now,
                                      watch_id=watch_id, text=text, below=found.last_id)
        else:
            total = int(session.scalar(select(func.count()).select_from(Mention).where(
                *_conditions(workspace_id, start, now, watch_id))) or 0)
            rows = write_csv(iter_mentions(session, workspace_id, since=start, until=now,
                                           watch=watch, limit=SLACK_ROW_LIMIT), buffer)
    day = now.date().isoformat()
    searched = "-search" if text else ""
    filename = (f"vigie-mentions-{(watch or 'all').lower()}{searched}-"
                f"{period or SLACK_PERIODS[0]}-{day}.csv")
    comment = t(language, "export.comment", rows=tally(rows, language),
                total=tally(total, language))
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD, channel=channel_id,
                   payload={"filename": filename,
                            # A byte-order mark makes spreadsheet apps read the file as UTF-8.
                            "content_b64": base64.b64encode(
                                buffer.getvalue().encode("utf-8-sig")).decode("ascii"),
                            "title": filename, "comment": comment})
    return ExportResult(rows, total, filename, watch_named)


class _Counted:
    """The first ``most`` records of a search; ``last_id`` is the id of the last one when
    there were ``most`` (others may follow), else None."""

    def __init__(self, records: Generator[dict[str, Any]], most: int) -> None:
        self.records, self.most = records, most
        self.last_id: int | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for seen, record in enumerate(self.records, start=1):
            yield record
            if seen >= self.most:
                self.last_id = int(record["id"])
                self.records.close()  # its result (a cursor) is not read any further
                return


def count_search(session: Session, workspace_id: int, *, since: datetime, until: datetime,
                 watch_id: int | None, text: str, below: int) -> int:
    """How many mentions published in [since, until) with an id below ``below`` the search
    ``text`` finds (what ``iter_mentions`` would go on to yield), without reading them as
    records: counted in SQL when the full-text index answers the query exactly (then only
    the mentions it has not indexed yet are matched one by one), else matching each
    candidate on the five columns ``Query.matches`` reads."""
    query = parse_text(text)
    found = search_index.candidates(session, fts5_query(query), tsquery(query))
    if found is None:
        narrowed = _fields_narrowed(session, workspace_id, query, since)
        if narrowed is None:
            return 0
        return _matched(session, [
            *_conditions(workspace_id, since, until, watch_id, checked=narrowed.checked),
            Mention.id < below, *narrowed.conditions], narrowed.params, query)
    conditions = [*_conditions(workspace_id, since, until, watch_id), Mention.id < below,
                  found.condition]
    if not index_is_exact(query) or "queued" in found.key:
        return _matched(session, conditions, found.params, query)
    unindexed = list(found.params.get("search_always", ()))
    counted = int(session.scalar(
        select(func.count()).select_from(Mention)
        .where(*conditions, *([Mention.id.not_in(unindexed)] if unindexed else [])),
        found.params) or 0)
    if unindexed:
        counted += _matched(session, [*conditions, Mention.id.in_(unindexed)], found.params,
                            query)
    return counted


@dataclass(frozen=True, slots=True)
class _Narrowed:
    """What narrows an export's search to its candidates: ``conditions`` and their
    ``params``; ``checked``: the period is tested on each candidate (``_conditions``)."""

    conditions: list[ColumnElement[bool]]
    params: dict[str, Any]
    checked: bool


WINDOW_PROBE = 50_000
"""SQLite: an author's or a language's candidates are bounded to the period's ids when it
holds fewer mentions than this (read from its index alone)."""


def _fields_narrowed(session: Session, workspace_id: int, query: Query, since: datetime
                     ) -> _Narrowed | None:
    """How a search the full-text index cannot answer is narrowed, as ``/cm mentions``
    reads it (``fields_search``: an author's or a language's mentions through their
    index, a network); None when nothing can match.

    SQLite, without figures on the period's size, would read a whole period through its
    index and sort it rather than walk an author's few mentions: it walks theirs (or a
    language's, in a period of under ``WINDOW_PROBE`` mentions), testing the period on
    each, from the period's lowest id when the period is not too large."""
    if fts5_query(query) is not None:  # words the index could not answer: every mention
        return _Narrowed([], {}, checked=False)
    conn = session.connection()
    fields = fields_search(conn, workspace_id, query)
    if fields is None:
        return None
    conditions: list[ColumnElement[bool]] = []
    if fields.network is not None:
        conditions.append(Mention.network == fields.network)
    if fields.candidates is None:
        return _Narrowed(conditions, {}, checked=False)
    conditions.append(fields.candidates.condition)
    if conn.dialect.name != "sqlite":  # PostgreSQL's statistics weigh both indexes
        return _Narrowed(conditions, fields.candidates.params, checked=False)
    lowest = lowest_id_in_window(conn, workspace_id, since, WINDOW_PROBE)
    if lowest == 0:
        return None
    if lowest is not None:
        conditions.append(Mention.id >= lowest)
    # A large period and a language (``lang:en``: most of the workspace's mentions of all
    # time) stays read through the period's index.
    checked = lowest is not None or "authors" in fields.candidates.key
    return _Narrowed(conditions, fields.candidates.params, checked=checked)


def _matched(session: Session, conditions: list[ColumnElement[bool]], params: dict[str, Any],
             query: Query) -> int:
    """How many mentions meeting ``conditions`` ``query`` matches (streamed)."""
    rows = (select(Mention.text, Mention.aside, Mention.title, Author.handle, Mention.language,
                   Mention.network)
            .join(Author, Author.id == Mention.author_id, isouter=True).where(*conditions))
    return sum(1 for body, aside, title, handle, language, network in session.execute(
        rows.execution_options(yield_per=BATCH), params)
        if query.matches(MatchInput(text=searched_text(body, aside), title=title,
                                    author_handle=handle, language=language,
                                    network=network)))
