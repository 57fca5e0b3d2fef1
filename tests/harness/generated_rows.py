"""Insert many generated mention rows in one statement, on SQLite or PostgreSQL (plan tests
need tables of a realistic size, built in well under a second)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def insert_generated(session: Session, table: str, columns: str, values: str,
                     now: datetime, params: dict[str, Any]) -> None:
    """``INSERT INTO table (columns) SELECT values`` for ``i`` in 1..``:n``: ``values`` may
    use ``{ts}`` (``now`` less ``:n - i`` minutes) and ``{false}`` (the engine's false)."""
    if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
        rows = values.format(
            ts=f"TIMESTAMPTZ '{now.isoformat()}' - (:n - i) * interval '1 minute'",
            false="false")
        source = "generate_series(1, :n) AS i"
    else:
        rows = values.format(
            ts=f"datetime('{now:%Y-%m-%d %H:%M:%S}', '-' || (:n - i) || ' minutes')",
            false="0")
        source = ("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                  "WHERE i < :n) SELECT i FROM s)")
    session.execute(text(f"INSERT INTO {table} ({columns}) "  # noqa: S608
                         f"SELECT {rows} FROM {source}"), params)
