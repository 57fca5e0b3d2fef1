"""Inserts that meet a stored row: skip it (``ON CONFLICT DO NOTHING``) or update it.

Both engines spell these the same way, but through their own dialect's ``insert``; the
choice is made here so services build no dialect-specific statement. The caller owns
the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.dialect import is_postgresql
from storage.models_influencers import HomeRankingVersion
from storage.models_triage import TriageLabel


def _insert(session: Session) -> Any:
    return (postgresql.insert if is_postgresql(session)
            else sqlite.insert)


def insert_or_skip(session: Session, model: Any,
                   index_elements: Sequence[str] | None = None) -> Any:
    """An INSERT into ``model``'s table that skips the rows conflicting with a stored one
    (on any unique constraint, or only on ``index_elements``). The caller adds
    ``.values(...)`` or a list of rows, and ``.returning(...)`` if it needs the ids."""
    statement = _insert(session)(model)
    if index_elements is None:
        return statement.on_conflict_do_nothing()
    return statement.on_conflict_do_nothing(index_elements=list(index_elements))


def upsert_triage_label(session: Session, values: dict[str, Any], *, overriding_source: str,
                        overridable_source: str) -> None:
    """Store a mention's triage label (``values``: a full ``triage_labels`` row) in one
    statement, so concurrent labels of one mention cannot collide. A label already stored
    for the mention takes the new one's decision (the watch it judges included: a digest's
    button judges its own watch's) only when the new one comes from ``overriding_source``
    or the stored one from ``overridable_source``."""
    insert = _insert(session)(TriageLabel)
    table = TriageLabel.__table__
    replaceable = ((insert.excluded.source == overriding_source)
                   | (table.c.source == overridable_source))
    session.execute(insert.values(**values).on_conflict_do_update(
        index_elements=["mention_id"],
        set_={name: insert.excluded[name] for name in (
            "watch_id", "positive", "action", "source", "actor", "surface", "priority",
            "threshold", "alerted", "labelled_at")},
        where=replaceable))


def bump_home_ranking_version(session: Session, workspace_id: int) -> None:
    """Raise the workspace's ``home_ranking_versions`` row by one (made at 1 when it has
    none), in one statement: two changes at once both count."""
    insert = _insert(session)(HomeRankingVersion)
    table = HomeRankingVersion.__table__
    session.execute(insert.values(workspace_id=workspace_id, version=1).on_conflict_do_update(
        index_elements=["workspace_id"], set_={"version": table.c.version + 1}))
