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
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)
