"""The one question services may ask about the engine: is this PostgreSQL?

Vigie runs on PostgreSQL (several workers) and SQLite (one process). Statements that
differ between them live in ``storage``; a service only learns which engine it runs on
where the difference is in what it does (a savepoint per batch, a lock it must take).
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    """True when ``session`` is bound to PostgreSQL, False on SQLite."""
    return session.get_bind().dialect.name == "postgresql"
