"""Keeping the full-text index of mention texts, and the SQL condition a search adds.

The index stores ``bot.matching.search_terms`` terms: SQLite in the FTS5 table
``mention_search_fts``, PostgreSQL in ``mention_search.doc`` (``tsvector``). Triggers queue
every new or edited mention in ``mention_search_pending``; ``index_pending`` indexes the
queue (called after each ingest and by migration 0023's backfill). A search's candidates
are the index's hits plus the queued mentions, so a search never misses a mention that
was stored but not yet indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    any_,
    bindparam,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.matching.search_terms import fts5_document, index_terms, tsvector_literal
from storage.models import Mention

BATCH = 500
FEW_HITS = 1000
"""Up to this many full-text hits are handed to the listing as an id list."""
PENDING_INLINE = 1000
"""Up to this many queued mentions are added to a search's candidates by id; beyond it
by a subquery (a backlog only lasts until the next ingest or ``vigie db reindex``)."""


def _connection(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db


def index_pending(db: Session | Connection, *, limit: int | None = None) -> int:
    """Index queued mentions (all, or at most ``limit``) in the caller's transaction.

    On PostgreSQL, rows another transaction is indexing are skipped (``SKIP LOCKED``), so
    concurrent workers never wait for each other. Returns how many were indexed.
    """
    conn = _connection(db)
    postgres = conn.dialect.name == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    done = 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        ids = list(conn.execute(text(
            f"SELECT mention_id FROM mention_search_pending ORDER BY mention_id "  # noqa: S608
            f"LIMIT :n{lock}"), {"n": size}).scalars())
        if not ids:
            break
        _index(conn, ids, postgres=postgres)
        conn.execute(text("DELETE FROM mention_search_pending WHERE mention_id IN :ids")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": ids})
        done += len(ids)
        if len(ids) < size:
            break
    return done


def _index(conn: Connection, ids: Sequence[int], *, postgres: bool) -> None:
    rows = conn.execute(text("SELECT id, title, text FROM mentions WHERE id IN :ids")
                        .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)}).all()
    if postgres:
        values = [{"id": mention_id, "doc": tsvector_literal(index_terms(title),
                                                            index_terms(body))}
                  for mention_id, title, body in rows]
        if values:
            conn.execute(text(
                "INSERT INTO mention_search (mention_id, doc) "
                "VALUES (:id, CAST(:doc AS tsvector)) "
                "ON CONFLICT (mention_id) DO UPDATE SET doc = excluded.doc"), values)
        return
    conn.execute(text("DELETE FROM mention_search_fts WHERE rowid IN :ids")
                 .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})
    values = [{"id": mention_id, "title": fts5_document(index_terms(title)),
               "body": fts5_document(index_terms(body))} for mention_id, title, body in rows]
    if values:
        conn.execute(text("INSERT INTO mention_search_fts (rowid, title, body) "
                          "VALUES (:id, :title, :body)"), values)


def pending_count(db: Session | Connection) -> int:
    """How many mentions wait to be indexed."""
    return int(_connection(db).execute(
        text("SELECT count(*) FROM mention_search_pending")).scalar_one())


@dataclass(frozen=True, slots=True)
class Candidates:
    """Which mentions a search may return: ``condition`` on ``Mention.id`` with named
    parameters only (so a statement built with it can be cached under ``key``), and the
    values of those parameters."""

    key: str
    condition: ColumnElement[bool]
    params: dict[str, Any]


def candidates(db: Session | Connection, match: str | None, dialect_query: str | None
               ) -> Candidates | None:
    """Indexed mentions matching the index query, queued ones, and unindexable ones.

    ``match`` is the FTS5 expression (SQLite) and ``dialect_query`` the ``tsquery`` literal
    (PostgreSQL), from ``bot.matching.search_terms``; ``None`` when the query cannot use
    the index (then every mention is a candidate and this returns ``None``).
    """
    conn = _connection(db)
    postgres = conn.dialect.name == "postgresql"
    needle = dialect_query if postgres else match
    if needle is None:
        return None
    always = list(conn.execute(text(
        "SELECT mention_id FROM mention_search_pending LIMIT :n"), {"n": PENDING_INLINE + 1}
    ).scalars())
    parts: list[ColumnElement[bool]] = []
    keys: list[str] = []
    if len(always) > PENDING_INLINE:  # a backlog: keep it as a subquery
        parts.append(Mention.id.in_(text("SELECT mention_id FROM mention_search_pending")
                                    .columns(literal_column("mention_id"))))
        keys.append("queued")
        always = []
    if postgres:
        # Mentions too long for a tsvector's positions have none: always candidates.
        always += conn.execute(text(
            "SELECT mention_id FROM mention_search WHERE doc IS NULL")).scalars().all()
        key, hit, params = _postgres_hits(conn, needle)
    else:
        key, hit, params = _sqlite_hits(conn, needle)
    if always:
        parts.append(Mention.id.in_(bindparam("search_always", expanding=True)))
        keys.append("always")
        params["search_always"] = always
    condition = or_(hit, *parts) if parts else hit
    return Candidates("+".join([key, *keys]), condition, params)


_SQLITE_HITS = text(
    "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :search_q"
).columns(literal_column("rowid"))


def _sqlite_hits(conn: Connection, match: str
                 ) -> tuple[str, ColumnElement[bool], dict[str, Any]]:
    """The ids of matching mentions when there are few, else a subquery.

    FTS5 hands over its hits newest first and stops at FEW_HITS + 1. Few hits become an
    id list (read through the primary key, whatever other index looks cheaper to a
    planner without statistics). Many hits (a common word) stay a subquery, which SQLite
    turns into a sorted list it walks newest first. (A per-row ``rowid = mentions.id``
    check was measured: FTS5 re-reads the word's postings for every row, 1.2 s for a
    common word at 200,000 mentions.)
    """
    ids = list(conn.execute(text(
        "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :q "
        "ORDER BY rowid DESC LIMIT :n"), {"q": match, "n": FEW_HITS + 1}).scalars())
    if len(ids) <= FEW_HITS:
        return ("ids", Mention.id.in_(bindparam("search_ids", expanding=True)),
                {"search_ids": ids})
    return "fts", Mention.id.in_(_SQLITE_HITS), {"search_q": match}


def _postgres_hits(conn: Connection, tsquery: str
                   ) -> tuple[str, ColumnElement[bool], dict[str, Any]]:
    """The ids of matching mentions when there are few, else a subquery.

    PostgreSQL estimates a rare word's hits from the GIN statistics' floor (hundreds
    instead of a dozen) and then prefers reading the newest mentions backwards until it
    has a page, which reads the whole table for a rare word. Fetching up to
    FEW_HITS ids first (the GIN index answers; a common word stops at the limit) gives
    the listing a short id list; a common word keeps the backwards read, which is then
    right: a page of hits is among the newest mentions.
    """
    ids = list(conn.execute(text(
        "SELECT mention_id FROM mention_search WHERE doc @@ CAST(:q AS tsquery) LIMIT :n"),
        {"q": tsquery, "n": FEW_HITS + 1}).scalars())
    if len(ids) <= FEW_HITS:
        return ("ids", Mention.id == any_(bindparam("search_ids", type_=ARRAY(Integer))),
                {"search_ids": ids})
    return "tsquery", Mention.id.in_(text(
        "SELECT mention_id FROM mention_search WHERE doc @@ CAST(:search_q AS tsquery)")
        .columns(literal_column("mention_id"))), {"search_q": tsquery}


__all__ = ["BATCH", "Candidates", "candidates", "index_pending", "pending_count"]
