"""The plan an engine chooses for a statement, as text a plan test can search (SQLite's
``EXPLAIN QUERY PLAN`` steps, one per line; PostgreSQL's ``EXPLAIN (FORMAT JSON)``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text


def explain(engine: Engine, statement: str, parameters: Any) -> str:
    """The plan of ``statement`` (in the driver's own parameter style) with ``parameters``,
    run on a raw driver cursor so that what is explained is exactly what was captured."""
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            return json.dumps(cursor.fetchone()[0])
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement ``engine`` runs inside the block, with its parameters, as the driver
    gets them (what ``explain`` takes)."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def gather_statistics(engine: Engine) -> None:
    """Give the planner the statistics a live database has: ``VACUUM ANALYZE`` on
    PostgreSQL (as autovacuum would in time; index-only scans need the visibility map),
    ``ANALYZE`` on SQLite."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


def plan_nodes(plan: str, kind: str, relation: str | None = None) -> list[dict[str, Any]]:
    """The nodes of PostgreSQL's JSON ``plan`` of type ``kind`` ("Seq Scan", "Sort"...),
    on ``relation`` when given, at any depth; none for SQLite's text plan."""
    if not plan.startswith("["):
        return []
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == kind and relation in (None, node.get("Relation Name")):
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return found
