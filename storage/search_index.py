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
FEW_HITS = 5000
"""Up to this many PostgreSQL hits are handed to the listing as an id list."""
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


def candidates(db: Session | Connection, match: str | None, dialect_query: str | None
               ) -> ColumnElement[bool] | None:
    """A condition on ``Mention.id``: indexed mentions matching the index query, or queued.

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
    if len(always) > PENDING_INLINE:  # a backlog: keep it as a subquery
        queued: ColumnElement[bool] | None = Mention.id.in_(
            text("SELECT mention_id FROM mention_search_pending")
            .columns(literal_column("mention_id")))
        always = []
    else:
        queued = None
    if postgres:
        # Mentions too long for a tsvector's positions have none: always candidates.
        always += conn.execute(text(
            "SELECT mention_id FROM mention_search WHERE doc IS NULL")).scalars().all()
        hit = _postgres_hits(conn, needle)
    else:
        hit = Mention.id.in_(text(
            "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :search_q")
            .bindparams(search_q=needle).columns(literal_column("rowid")))
    extra = [c for c in (queued, Mention.id.in_(always) if always else None) if c is not None]
    return or_(hit, *extra) if extra else hit


def _postgres_hits(conn: Connection, tsquery: str) -> ColumnElement[bool]:
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
        return Mention.id == any_(bindparam("search_ids", ids, type_=ARRAY(Integer)))
    return Mention.id.in_(text(
        "SELECT mention_id FROM mention_search WHERE doc @@ CAST(:search_q AS tsquery)")
        .bindparams(search_q=tsquery).columns(literal_column("mention_id")))


__all__ = ["BATCH", "candidates", "index_pending", "pending_count"]
