"""Time buckets in SQL, spelled for the engine in use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from storage.dialect import is_postgresql


def hour_start(session: Session, column: Any) -> ColumnElement[Any]:
    """The start of the UTC hour ``column`` (a stored time) falls in: a timestamp on
    PostgreSQL, a ``YYYY-MM-DD HH:00:00`` string on SQLite (the caller parses it)."""
    if is_postgresql(session):
        # date_trunc cuts a timestamptz in the session's time zone: in a half-hour zone
        # (Asia/Kolkata) its hours start at :30 UTC. It cuts the UTC wall time here, read
        # back as UTC.
        return func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", column)))
    return func.strftime("%Y-%m-%d %H:00:00", column)
