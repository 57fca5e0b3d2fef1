"""Bulk writes and batch filters of ingest: a batch's rows in one statement, on both engines.

Ingest stores thousands of mentions a second; these statements are shaped for that (one
parameter for a whole list, one JSON document per batch on PostgreSQL, driver-level
multi-row VALUES on SQLite). The caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnDefault,
    ColumnElement,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from bot.matching.query import handle_key
from storage.dialect import is_postgresql
from storage.models import Author, Mention, Watch
from storage.models_base import UTCDateTime, as_utc
from storage.models_watches import MentionWatch


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` with the whole list as one parameter: an array (``= ANY``) on
    PostgreSQL, a JSON array read by ``json_each`` on SQLite. A placeholder per value would
    make the driver parse and the database prepare a new statement for every batch size."""
    if is_postgresql(session):
        spelled = _array_literal(values)
        if spelled is not None:
            # An untyped parameter: cast straight from its text, the array is a constant
            # the planner folds (a text-typed one would be parsed again at each row read).
            return column == any_(cast(literal(spelled, NullType()), ARRAY(column.type)))
        return column == any_(cast(literal(list(values), ARRAY(column.type)),
                                   ARRAY(column.type)))
    listed = func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(select(listed.c.value))


def one_of_read_first(session: Session, column: Any, found: Any) -> ColumnElement[bool]:
    """``column IN (found)`` (``found``: a SELECT of one column), with ``found`` read once,
    before the rest: on PostgreSQL an array of it (``= ANY``), which the planner does not
    turn into a join. As a join, a short list (a batch's authors) was crossed with the
    other semi-joins of a statement before the table was read (the returning-customer
    look-up of a batch of 1,000 posts: 291,000 probes of mentions, 0.8 s)."""
    if is_postgresql(session):
        listed = found.with_only_columns(func.array_agg(found.selected_columns[0]))
        return column == any_(cast(listed.scalar_subquery(), ARRAY(column.type)))
    return column.in_(found)


def _array_literal(values: Sequence[Any]) -> str | None:
    """``values`` (all ``int``, or all ``str``) as PostgreSQL's text form of an array, which
    the statement casts to the column's array type (the same constant array for the
    planner); None for other values. psycopg builds a list parameter an element at a time
    in Python: about 5 ms for a batch's 1,000 external ids or fingerprints, where this
    takes a tenth of it."""
    kinds = set(map(type, values))
    if kinds == {int}:
        return "{" + ",".join(map(str, values)) + "}"
    if kinds == {str}:
        # Every element quoted, its backslashes and quotes escaped: any text reads back
        # as itself (a comma, a brace, a space, NULL).
        return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                               for v in values]) + "}"
    return None if kinds else "{}"


def hold_watch(session: Session, watch_id: int) -> bool:
    """Lock the watch's row until the transaction ends so that no one deletes it meanwhile
    (``FOR KEY SHARE``: edits of the watch and other batches of it are not held up); False
    when it is gone. On PostgreSQL this is what keeps the ``watch_id`` of the mentions and
    links a batch writes valid (migration 0034 dropped their per-row key checks); SQLite
    keeps its keys and serialises writers, so there it only says whether the watch exists.
    """
    found = select(Watch.id).where(Watch.id == watch_id)
    if is_postgresql(session):
        # read=True: SQLAlchemy renders key_share alone as FOR NO KEY UPDATE, which queued
        # a watch's batches behind each other and behind an admin's lock of the watch.
        found = found.with_for_update(read=True, key_share=True)
    return session.execute(found).first() is not None


def upsert_authors(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert or update the ``authors`` rows of a batch in one statement; return
    (network, handle) -> author id.

    ``rows`` are full author rows (``rows[0]``'s keys are the columns; sort them by key so
    concurrent batches lock shared authors in one order). New authors arrive with their
    count; known ones add to theirs, take the latest time, and keep their name and reach
    unless the row brings new values (``verified`` once true stays true).
    """
    table: Any = Author.__table__
    if "handle_key" not in rows[0]:
        # The key ``from:`` searches read (its default is a function, which a batch
        # statement cannot apply per row).
        rows = [{**row, "handle_key": handle_key(row["handle"])} for row in rows]
    columns = list(rows[0])

    def statement(postgres: bool) -> Any:
        insert = (postgresql.insert(table).from_select(columns, _json_select(table, columns))
                  if postgres else sqlite.insert(table).values(
                      {name: bindparam(name) for name in columns}))
        return insert.on_conflict_do_update(
            index_elements=["workspace_id", "network", "handle"],
            set_={
                "mention_count": table.c.mention_count + insert.excluded.mention_count,
                "last_seen_at": insert.excluded.last_seen_at,
                "followers": func.coalesce(insert.excluded.followers, table.c.followers),
                "name": func.coalesce(insert.excluded.name, table.c.name),
                "verified": table.c.verified | insert.excluded.verified,
                # A byline's site, once known, stays (a webhook may send the same handle).
                **({"site": func.coalesce(table.c.site, insert.excluded.site)}
                   if "site" in columns else {}),
            },
        ).returning(table.c.id, table.c.network, table.c.handle)

    if is_postgresql(session):
        found = _run_json(session, ("authors", *columns), lambda: statement(True), table, rows)
    else:
        found = _sqlite_insert(session, table, rows, _conflict_clause(
            session, ("authors", *columns), lambda: statement(False)))
    return {(network, handle): author_id for author_id, network, handle in found}


def insert_mentions(session: Session, rows: list[dict[str, Any]]) -> Sequence[Any]:
    """Insert the ``mentions`` rows of a batch (``rows[0]``'s keys are the columns), skipping
    the (workspace, network, external id) already stored; return the stored rows' (id,
    network, external_id, priority). Datetimes of ``rows`` may be replaced by ISO strings.
    """
    table: Any = Mention.__table__
    if not is_postgresql(session):
        return _sqlite_insert(session, table, rows, _MENTIONS_CONFLICT)
    columns = list(rows[0])
    return _run_json(session, ("mentions", *columns), lambda: (
        postgresql.insert(table).from_select(columns, _json_select(table, columns))
        .on_conflict_do_nothing(index_elements=["workspace_id", "network", "external_id"])
        .returning(table.c.id, table.c.network, table.c.external_id, table.c.priority)),
        table, rows)


def insert_links(session: Session, rows: list[dict[str, Any]]) -> Sequence[Any]:
    """Insert the ``mention_watches`` rows of a batch (``rows[0]``'s keys are the columns),
    skipping the (mention, watch) links already made; return the made links' (mention_id,
    priority). Datetimes of ``rows`` may be replaced by ISO strings.

    On PostgreSQL the batch is one JSON parameter, like ``insert_mentions``: a multi-row
    VALUES of a thousand links has eleven thousand placeholders, which psycopg rewrites in
    Python for every batch (most of the cost of linking a batch to a second watch).
    """
    table: Any = MentionWatch.__table__
    if not is_postgresql(session):
        return session.execute(
            sqlite.insert(table).on_conflict_do_nothing(index_elements=["mention_id", "watch_id"])
            .returning(table.c.mention_id, table.c.priority), rows).all()
    columns = list(rows[0])
    return _run_json(session, ("links", *columns), lambda: (
        postgresql.insert(table).from_select(columns, _json_select(table, columns))
        .on_conflict_do_nothing(index_elements=["mention_id", "watch_id"])
        .returning(table.c.mention_id, table.c.priority)), table, rows)


_COMPILED: dict[tuple[str, ...], tuple[str, dict[str, Any]]] = {}
"""SQL of the bulk statements and the values of their constant parameters (the defaults
of the columns a batch leaves out), per dialect and statement shape (table and columns):
the dialects' INSERT ... ON CONFLICT has no cache key, so SQLAlchemy would build and
compile it again for every batch."""


def _compiled(session: Session, key: tuple[str, ...], build: Callable[[], Any],
              table: Any = None) -> tuple[str, dict[str, Any]]:
    """The SQL ``build()``'s statement compiles to on this session's dialect, compiled once
    per process for each ``key``, and (with ``table``) the values of its parameters other
    than ``batch``: the scalar defaults of the columns the rows leave out, which the
    statement binds as the INSERT ... SELECT of a Core execution would."""
    dialect = session.get_bind().dialect
    full = (dialect.name, dialect.driver, *key)
    found = _COMPILED.get(full)
    if found is None:
        compiled = build().compile(dialect=dialect)
        params: dict[str, Any] = {}
        for name in compiled.params if table is not None else ():
            if name == "batch":
                continue
            default = table.c[name].default
            if not (isinstance(default, ColumnDefault) and default.is_scalar):
                raise ValueError(f"{table.name}.{name}: a batch leaves out a column whose "
                                 "default is not a constant")
            params[name] = default.arg
        found = _COMPILED[full] = (str(compiled), params)
    return found


def _run_json(session: Session, key: tuple[str, ...], build: Callable[[], Any], table: Any,
              rows: list[dict[str, Any]]) -> list[Any]:
    """Run ``build()``'s statement (reading its rows from ``_json_select``) with ``rows``
    as its JSON parameter; return the rows it returns."""
    sql, params = _compiled(session, key, build, table)
    result = session.connection().exec_driver_sql(sql, {**params, "batch": _json_batch(rows)})
    found = list(result.cursor.fetchall())
    result.close()
    return found


def _json_select(table: Any, columns: list[str]) -> Any:
    """A PostgreSQL SELECT of ``table``'s ``columns`` over one JSON parameter (``batch``),
    an array of arrays (a row's values in column order, ``_json_batch``) read by
    ``jsonb_array_elements``: no placeholder per value for psycopg to parse, no
    per-element quoting in Python; ``json.dumps`` and PostgreSQL's JSON parser are both
    C. Arrays, not objects: without the column names repeated in every row the document
    is about 40% smaller, and an element is read by its position instead of a record being
    built by name (about 10% of the server's time for a batch of mentions).

    Strings are read as unbounded text and stored by the INSERT's assignment, which refuses
    a value longer than its column (an explicit cast to ``VARCHAR(n)`` would cut it).
    """
    dialect = postgresql.dialect()
    values: list[Any] = []
    for n, name in enumerate(columns):
        kind = table.c[name].type
        shape = kind.compile(dialect=dialect)
        if shape in ("JSON", "JSONB"):
            values.append(literal_column(f"CAST(r.e -> {n} AS {shape})"))
        else:
            shape = "TEXT" if isinstance(kind, String) else shape
            values.append(literal_column(f"CAST(r.e ->> {n} AS {shape})"))
    return select(*values).select_from(
        text("jsonb_array_elements(CAST(:batch AS jsonb)) AS r(e)"))


def _json_batch(rows: list[dict[str, Any]]) -> str:
    """``rows`` as the JSON array of arrays ``_json_select`` reads (times made ISO strings
    in place)."""
    columns = list(rows[0])
    _times_as_iso(rows, columns)
    return json.dumps([[row[name] for name in columns] for row in rows], ensure_ascii=False)


_MENTIONS_CONFLICT = (" ON CONFLICT (workspace_id, network, external_id) DO NOTHING"
                      " RETURNING id, network, external_id, priority")


def _conflict_clause(session: Session, key: tuple[str, ...], build: Callable[[], Any]) -> str:
    """What follows the VALUES of ``build()``'s one-row INSERT on SQLite (its ON CONFLICT
    and RETURNING clauses), compiled once per process."""
    sql, _ = _compiled(session, key, build)
    at = sql.index(") ON CONFLICT ")
    return sql[at + 1:]


def _sqlite_insert(session: Session, table: Any, rows: list[dict[str, Any]], tail: str
                   ) -> list[Any]:
    """An INSERT of ``rows`` into ``table`` on SQLite, ``tail`` (its ON CONFLICT and
    RETURNING clauses) after the VALUES: multi-row VALUES statements run by the driver.

    Values go through each column type's own bind processor, a column at a time, and the
    table's scalar defaults are added, so rows are stored exactly as a Core insert stores
    them; what is skipped is Core's per-row parameter assembly (most of its cost here).
    """
    connection = session.connection()
    dialect = connection.dialect
    defaults = {column.name: column.default.arg for column in table.c
                if column.name not in rows[0] and isinstance(column.default, ColumnDefault)
                and column.default.is_scalar}
    names = [*rows[0], *defaults]
    width, count = len(names), len(rows)
    # The parameters of all rows in one flat list, filled a column at a time by slice
    # assignment (no tuple per row to build, chain and free).
    flat: list[Any] = [None] * (width * count)
    for n, name in enumerate(names):
        values = list(map(itemgetter(name), rows)) if n < len(rows[0]) else [
            defaults[name]] * count
        process = _sqlite_processor(table.c[name].type, dialect)
        flat[n::width] = values if process is None else _processed(process, values)
    quote = dialect.identifier_preparer.quote
    # Identifiers from the table definition; every value is a bound parameter.
    head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) VALUES "  # noqa: S608
    placeholders = "(" + ", ".join("?" * width) + ")"
    page = max(1, min(dialect.insertmanyvalues_page_size,
                      dialect.insertmanyvalues_max_parameters // width))
    out: list[Any] = []
    for start in range(0, count, page):
        size = min(page, count - start)
        sql = head + ", ".join([placeholders] * size) + tail
        result = connection.exec_driver_sql(
            sql, tuple(flat[start * width:(start + size) * width]))
        # The driver's tuples: a Row object per stored mention is not needed.
        out.extend(result.cursor.fetchall())
        result.close()
    return out


_SQLITE_DATETIME = SQLITE_DATETIME()._storage_format


def _sqlite_processor(kind: Any, dialect: Any) -> Any:
    """The bind processor of a column type on SQLite, specialised for the two kinds every
    mention row has: a ``UTCDateTime`` (with the dialect's default storage format) gives
    the same string without two ``replace`` calls and a dict formatting per value; a JSON
    column serialises the empty list (most mentions' topics and flags) once."""
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if (isinstance(kind, UTCDateTime) and getattr(
            kind.impl.dialect_impl(dialect), "_storage_format", None) == _SQLITE_DATETIME):
        def utc_time(value: Any) -> Any:
            # An aware UTC time's ISO form without its offset: naive UTC, microseconds.
            if type(value) is datetime:
                return as_utc(value).isoformat(" ", "microseconds")[:26]
            return process(value)
        return utc_time
    if isinstance(kind, JSON):
        empty = process([])

        def json_value(value: Any) -> Any:
            return empty if type(value) is list and not value else process(value)
        return json_value
    return process


def _processed(process: Any, values: list[Any]) -> list[Any]:
    """``process`` applied to each value; once when they are all the same object (times)."""
    first = values[0]
    if all(value is first for value in values):
        return [process(first)] * len(values)
    return [process(value) for value in values]


def _times_as_iso(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Replace the datetimes of ``rows`` by their ISO strings, in place.

    ``json.dumps`` would call back into Python once per datetime; a time every row
    shares (the batch's ``now``) is formatted once.
    """
    for name in columns:
        first = rows[0][name]
        # UTC as UTCDateTime stores it: a naive time is taken as UTC, not as the server's.
        if isinstance(first, datetime) and all(row[name] is first for row in rows):
            shared = as_utc(first).isoformat()
            for row in rows:
                row[name] = shared
        elif isinstance(first, datetime) or first is None:  # other columns hold no times
            for row in rows:
                value = row[name]
                if isinstance(value, datetime):
                    row[name] = as_utc(value).isoformat()
