"""The plan an engine chooses for a statement, as text a plan test can search (SQLite's
``EXPLAIN QUERY PLAN`` steps, one per line; PostgreSQL's ``EXPLAIN (FORMAT JSON)``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine


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
