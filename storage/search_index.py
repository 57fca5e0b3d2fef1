"""Keeping the full-text index of mention texts, and the SQL condition a search adds.

The index stores ``bot.matching.search_terms`` terms: SQLite in the FTS5 table
``mention_search_fts``, PostgreSQL in ``mention_search.doc`` (``tsvector``). Triggers queue
every new or edited mention in ``mention_search_pending``; ``index_pending`` indexes the
queue (called after each ingest and by migration 0023's backfill). A search's candidates
are the index's hits plus the queued mentions, so a search never misses a mention that
was stored but not yet indexed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    TextClause,
    any_,
    bindparam,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.matching.query import searched_text
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


def index_pending(db: Session | Connection, *, limit: int | None = None,
                  aside: bool = True) -> int:
    """Index queued mentions (all, or at most ``limit``) in the caller's transaction.

    ``aside=False``: for a migration before 0069, whose ``mentions`` has no ``aside``.

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
        _index(conn, ids, postgres=postgres, aside=aside)
        conn.execute(text("DELETE FROM mention_search_pending WHERE mention_id IN :ids")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": ids})
        done += len(ids)
        if len(ids) < size:
            break
    return done


def _index(conn: Connection, ids: Sequence[int], *, postgres: bool, aside: bool) -> None:
    # The body is what a watch's query reads: the text and the words aside from it.
    read = _READ_WITH_ASIDE if aside else _READ_WITHOUT_ASIDE
    rows = [(mention_id, title, searched_text(body, words)) for mention_id, title, body, words
            in conn.execute(read, {"ids": list(ids)})]
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


_READ_WITH_ASIDE = text("SELECT id, title, text, aside FROM mentions WHERE id IN :ids"
                        ).bindparams(bindparam("ids", expanding=True))
_READ_WITHOUT_ASIDE = text("SELECT id, title, text, NULL FROM mentions WHERE id IN :ids"
                           ).bindparams(bindparam("ids", expanding=True))


def compact(db: Session | Connection) -> bool:
    """Rewrite SQLite's full-text index without the entries of deleted mentions, in the
    caller's transaction; whether anything ran.

    An FTS5 delete only writes a marker: the deleted text's terms stay in the index's
    pages (``mention_search_fts_data``) until their segments are merged, which may be
    never for an old segment. ``optimize`` merges every segment into one, dropping them.
    Its cost grows with the whole index (about 2 s at 300,000 mentions, holding the write
    lock): a deletion that must leave nothing marks it due (``mark_compaction_due``) and a
    background job runs it (``compact_if_due``). PostgreSQL's ``mention_search`` rows go
    with their mention (a dead tuple until VACUUM reclaims it): nothing runs there."""
    conn = _connection(db)
    if conn.dialect.name != "sqlite":
        return False
    conn.execute(text("INSERT INTO mention_search_fts (mention_search_fts) VALUES ('optimize')"))
    return True


COMPACTION_DUE = 1
"""Bit of SQLite's ``PRAGMA user_version`` (the database header's integer left to the
application; Alembic does not use it) set in the transaction of a deletion that left terms
in the index, cleared in the one that compacts it: a process stopped in between leaves it
set, and the next start compacts (the header is written with the transaction, so the flag
and the deletion commit or roll back together)."""


def _user_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def mark_compaction_due(db: Session | Connection) -> bool:
    """In the transaction of a deletion of mentions (a forget, a purge): note that the
    index keeps their terms until ``compact_if_due`` runs; whether it was noted (SQLite
    only). FTS5's own ``secure-delete`` option (SQLite 3.42+) would leave nothing to compact,
    but once on, a SQLite older than 3.42 (a restored backup on an older host, a rollback
    image) can no longer write the index: Vigie does not turn it on."""
    conn = _connection(db)
    if conn.dialect.name != "sqlite":
        return False
    version = _user_version(conn)
    if not version & COMPACTION_DUE:
        conn.exec_driver_sql(f"PRAGMA user_version = {version | COMPACTION_DUE}")
    return True


def compaction_due(db: Session | Connection) -> bool:
    """Whether ``compact_if_due`` has work: a deletion marked it due. A read: cheap enough
    for a job every minute."""
    conn = _connection(db)
    if conn.dialect.name != "sqlite":
        return False
    return bool(_user_version(conn) & COMPACTION_DUE)


def compact_if_due(db: Session | Connection) -> bool:
    """In the caller's write transaction: when ``compaction_due``, rewrite the index
    without the deleted entries (``compact``) and clear the flag; whether it ran."""
    conn = _connection(db)
    if not compaction_due(conn):
        return False
    compact(conn)
    conn.exec_driver_sql(f"PRAGMA user_version = {_user_version(conn) & ~COMPACTION_DUE}")
    return True


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
    arms: tuple[ColumnElement[bool], ...] = ()
    """Alternatives a listing reads each through its own index, newest first, and merges
    (``condition`` being their OR, for a read of every candidate): ``lang:fr OR lang:es``."""


def candidates(db: Session | Connection, match: str | None, dialect_query: str | None
               ) -> Candidates | None:
    """Indexed mentions matching the index query, queued ones, and unindexable ones.

    ``match`` is the FTS5 expression (SQLite) and ``dialect_query`` the ``tsquery`` literal
    (PostgreSQL), from ``bot.matching.search_terms``; ``None`` when the query cannot use
    the index (then every mention is a candidate and this returns ``None``). Many hits
    (a common word) are a subquery: right for reading all of them (an export); a listing
    that wants the newest few walks them with ``hits_below`` instead.
    """
    conn = _connection(db)
    needle = _needle(conn, match, dialect_query)
    if needle is None:
        return None
    few = few_candidates(conn, match, dialect_query)
    if few is not None:
        return few
    return many_candidates(conn, match, dialect_query)


def many_candidates(db: Session | Connection, match: str | None, dialect_query: str | None,
                    *, walk: bool = False, floor: bool = False) -> Candidates | None:
    """``candidates`` as a subquery over the index, whatever the number of hits (no count
    first); ``None`` when the query cannot use the index.

    SQLite, ``walk``: for a listing statement with other filters, paged by ``before``
    (and ``lowest`` when ``floor``). The statement walks the filters' index newest first
    and checks each id against the hits in that id range (a list SQLite builds once, when
    a row first needs it) instead of probing the filters' index with each hit (``love
    status:approved`` probed all 12,000 hits of love; an assignee with no mention built
    no list)."""
    conn = _connection(db)
    needle = _needle(conn, match, dialect_query)
    if needle is None:
        return None
    if conn.dialect.name == "postgresql":
        return _with_unindexed(conn, "tsquery", Mention.id.in_(text(
            "SELECT mention_id FROM mention_search WHERE doc @@ CAST(:search_q AS tsquery)")
            .columns(literal_column("mention_id"))), {"search_q": needle})
    if not walk:
        return _with_unindexed(conn, "fts", Mention.id.in_(_SQLITE_HITS[False, False]),
                               {"search_q": needle})
    # id + 0: not a key SQLite may look rows up by.
    return _with_unindexed(conn, "fts-walk" + "-floor" * floor,
                           (Mention.id + 0).in_(_SQLITE_HITS[True, floor]),
                           {"search_q": needle})


def _needle(conn: Connection, match: str | None, dialect_query: str | None) -> str | None:
    return dialect_query if conn.dialect.name == "postgresql" else match


def few_candidates(db: Session | Connection, match: str | None, dialect_query: str | None
                   ) -> Candidates | None:
    """The candidates as an id list when the index has at most FEW_HITS hits; ``None``
    when it has more (or the query cannot use the index).

    The hits are counted in SQL up to FEW_HITS + 1 (a common word stops there). PostgreSQL
    estimates a rare word's hits from the GIN statistics' floor (hundreds instead of a
    dozen) and would then read the newest mentions backwards until it has a page, which
    reads the whole table for a rare word; the short id list (the GIN index answers) is
    read through the primary key whatever other index looks cheaper to a planner.
    """
    conn = _connection(db)
    needle = _needle(conn, match, dialect_query)
    if needle is None:
        return None
    count = conn.execute(_COUNT_PG if conn.dialect.name == "postgresql" else _COUNT_SQLITE,
                         {"q": needle, "n": FEW_HITS + 1}).scalar_one()
    if count > FEW_HITS:  # counted in SQL: a common word's ids never reach Python
        return None
    ids = conn.execute(_IDS_PG if conn.dialect.name == "postgresql" else _IDS_SQLITE,
                       {"q": needle}).scalars().all()
    found = by_ids(conn.dialect.name)
    return _with_unindexed(conn, found.key, found.condition, {"search_ids": ids})


_MATCH_PG = "SELECT mention_id FROM mention_search WHERE doc @@ CAST(:q AS tsquery)"
_MATCH_SQLITE = "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :q"
_COUNT_PG = text(f"SELECT count(*) FROM ({_MATCH_PG} LIMIT :n) AS hits")  # noqa: S608
_COUNT_SQLITE = text(f"SELECT count(*) FROM ({_MATCH_SQLITE} LIMIT :n)")  # noqa: S608
_IDS_PG = text(_MATCH_PG)
_IDS_SQLITE = text(_MATCH_SQLITE)


def hits_come_newest_first(conn: Connection) -> bool:
    """Whether the index reads any word's hits newest first and stops early (SQLite's
    FTS5): a rare word's first step is all its hits, so walking the hits suits every
    search. False on PostgreSQL, which reads a common word's hits row by row: a search
    must learn whether its words are rare (``common_terms``, ``few_candidates``)."""
    return conn.dialect.name == "sqlite"


def by_ids(dialect: str) -> Candidates:
    """Candidates given as a list of ids (parameter ``search_ids``, to be supplied)."""
    if dialect == "postgresql":
        return Candidates("ids", Mention.id == any_(bindparam("search_ids",
                                                              type_=ARRAY(Integer))), {})
    return Candidates("ids", Mention.id.in_(bindparam("search_ids", expanding=True)), {})


def _with_unindexed(conn: Connection, key: str, hit: ColumnElement[bool],
                    params: dict[str, Any]) -> Candidates:
    """``hit`` or a mention that waits in the queue or has no vector (PostgreSQL)."""
    # Mentions too long for a tsvector's positions have none: always candidates. Read
    # with the queue (one round trip).
    postgres = conn.dialect.name == "postgresql"
    found = conn.execute(_UNINDEXED_PG if postgres else _QUEUED, {"n": PENDING_INLINE + 1}).all()
    always = [mention_id for vectorless, mention_id in found if not vectorless]
    parts: list[ColumnElement[bool]] = []
    keys: list[str] = []
    if len(always) > PENDING_INLINE:  # a backlog: keep it as a subquery
        parts.append(Mention.id.in_(text("SELECT mention_id FROM mention_search_pending")
                                    .columns(literal_column("mention_id"))))
        keys.append("queued")
        always = []
    always += [mention_id for vectorless, mention_id in found if vectorless]
    if always:
        parts.append(Mention.id.in_(bindparam("search_always", expanding=True)))
        keys.append("always")
        params = {**params, "search_always": always}
    condition = or_(hit, *parts) if parts else hit
    return Candidates("+".join([key, *keys]), condition, params)


_QUEUED = text("SELECT 0, mention_id FROM mention_search_pending LIMIT :n")
_UNINDEXED_PG = text(
    "(SELECT 0, mention_id FROM mention_search_pending LIMIT :n) UNION ALL "
    "(SELECT 1, mention_id FROM mention_search WHERE doc IS NULL)")


_SQLITE_HITS = {
    (below, floor): text(
        "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :search_q"  # noqa: S608
        + (" AND rowid < :before" if below else "") + (" AND rowid >= :lowest" if floor else "")
    ).columns(literal_column("rowid"))
    for below, floor in ((False, False), (True, False), (True, True))  # the ones used
}


COMMON_TERMS_SECONDS = 600.0
"""How long PostgreSQL's list of common terms is reused before it is read again."""
_common_terms: dict[str, tuple[float, dict[str, float]]] = {}
_common_terms_lock = threading.Lock()


def common_terms(db: Session | Connection) -> frozenset[str] | None:
    """PostgreSQL: the terms its statistics list as frequent in the index (the most
    common elements ANALYZE found, each in roughly 1 in 500 mentions or more); a term
    not listed is rare. ``None`` before the first ANALYZE, and on SQLite. Once found,
    read again at most every COMMON_TERMS_SECONDS per database."""
    hits = common_term_hits(db)
    return None if hits is None else frozenset(hits)


def common_term_hits(db: Session | Connection) -> dict[str, float] | None:
    """``common_terms`` with the number of indexed mentions holding each, as estimated by
    the statistics (the term's share of the rows ANALYZE sampled times the table's
    estimated rows)."""
    conn = _connection(db)
    if conn.dialect.name != "postgresql":
        return None
    key = conn.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _common_terms_lock:
        cached = _common_terms.get(key)
    if cached is not None and now - cached[0] < COMMON_TERMS_SECONDS:
        return cached[1]
    found = conn.execute(text(
        "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
        "FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass('mention_search') "
        "WHERE s.schemaname = current_schema() AND s.tablename = 'mention_search' "
        "AND s.attname = 'doc'")).first()
    if found is None or found[0] is None:  # not analyzed yet: ask again next time
        return None
    elements, freqs, rows = found
    # The frequencies list one per element, then the lowest, highest and null share.
    hits = {term: float(freq) * max(float(rows), 0.0)
            for term, freq in zip(elements, freqs or (), strict=False)}
    with _common_terms_lock:
        _common_terms[key] = (now, hits)
    return hits


def hits_below(db: Session | Connection, match: str | None, dialect_query: str | None, *,
               below: int, floor: int, limit: int, rare: bool = False
               ) -> tuple[list[int], list[int]]:
    """Two id lists, newest first, with ``floor <= id < below`` (all workspaces), read in
    one statement: up to ``limit`` indexed mentions matching the index query, and up to
    ``limit`` mentions the index cannot answer for (queued, or on PostgreSQL without a
    vector), which are candidates of every search.

    FTS5 reads the postings backwards from ``below`` and stops at the limit. PostgreSQL
    reads a common word's hits by walking the ids backwards and checking each vector
    (stopping at the limit); a ``rare`` one's from the GIN index, sorted, since the walk
    would read every row to find a dozen.
    """
    conn = _connection(db)
    if conn.dialect.name == "postgresql":
        statement = _BELOW_PG_RARE if rare else _BELOW_PG
    else:
        statement = _BELOW_SQLITE
    hits: list[int] = []
    unindexed: list[int] = []
    for kind, mention_id in conn.execute(statement, {
            "q": _needle(conn, match, dialect_query), "below": below, "floor": floor,
            "n": limit}):
        (unindexed if kind else hits).append(mention_id)
    hits.sort(reverse=True)
    unindexed.sort(reverse=True)
    return hits, unindexed


_RANGE = "mention_id < :below AND mention_id >= :floor"
_BELOW_SQLITE = text(
    "SELECT 0, rowid FROM (SELECT rowid FROM mention_search_fts "  # noqa: S608
    "WHERE mention_search_fts MATCH :q AND rowid < :below AND rowid >= :floor "
    "ORDER BY rowid DESC LIMIT :n) UNION ALL "
    f"SELECT 1, mention_id FROM (SELECT mention_id FROM mention_search_pending "
    f"WHERE {_RANGE} ORDER BY mention_id DESC LIMIT :n)")


def _below_pg(order: str) -> TextClause:
    return text(
        "(SELECT 0, mention_id FROM mention_search WHERE doc @@ CAST(:q AS tsquery) "  # noqa: S608
        f"AND {_RANGE} ORDER BY {order} DESC LIMIT :n) UNION ALL "
        f"(SELECT 1, mention_id FROM (SELECT mention_id FROM mention_search_pending "
        f"WHERE {_RANGE} UNION SELECT mention_id FROM mention_search "
        f"WHERE doc IS NULL AND {_RANGE}) AS unindexed ORDER BY mention_id DESC LIMIT :n)")


_BELOW_PG = _below_pg("mention_id")
_BELOW_PG_RARE = _below_pg("mention_id + 0")  # + 0: no walk of the ids backwards


__all__ = [
    "BATCH",
    "Candidates",
    "by_ids",
    "candidates",
    "common_term_hits",
    "common_terms",
    "few_candidates",
    "hits_below",
    "index_pending",
    "many_candidates",
    "pending_count",
]
