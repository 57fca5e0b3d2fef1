"""Erasing everything Vigie keeps about one workspace (`vigie workspace erase`).

An uninstalled workspace's data stays under the retention rules (none by default:
``VIGIE_RETENTION_DAYS`` is 0, keep forever); this is how an operator removes it all at
once: mentions, authors, cases, drafts, replies, the outbox, digests, reports, the audit
trail, the settings, the forget suppressions, the search index's rows, the workspace row,
and Slack's installation and bot tokens for its team.

The tables are read from the models' metadata: a table with a ``workspace_id`` column is
the workspace's by it; one without (drafts, approvals, queued search rows...) by the keys
that tie it to such rows. A table added later is erased without a change here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, delete, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import forgotten
from bot.services.errors import ServiceError
from storage import search_index
from storage.db import transaction
from storage.models import Mention, Workspace
from storage.models_base import Base

log = logging.getLogger(__name__)

BATCH = 5000
"""Mentions deleted per transaction: each one's delete triggers (counts, search index)
run in it, and a large workspace must not hold the write lock for minutes at once."""


@dataclass(frozen=True, slots=True)
class ErasePlan:
    """A workspace and how many rows of each table erasing it deletes (tables with none
    left out)."""

    team_id: str
    name: str | None
    installed: bool
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """How many rows in all."""
        return sum(self.rows.values())


def _owned(table: Table, workspace_id: int, seen: frozenset[str] = frozenset()
           ) -> ColumnElement[bool]:
    """The condition of ``table``'s rows that belong to the workspace: by its
    ``workspace_id``, else by a foreign key to a row that belongs to it (recursively)."""
    if "workspace_id" in table.c:
        return table.c.workspace_id == workspace_id
    if table.name == Workspace.__tablename__:
        return table.c.id == workspace_id
    links = [fk.parent.in_(select(fk.column).where(
        _owned(fk.column.table, workspace_id, seen | {table.name})))
        for fk in table.foreign_keys if fk.column.table.name not in seen | {table.name}]
    return or_(*links) if links else false()


def _workspace_tables() -> list[Table]:
    """Every table of the models but ``workspaces``, children before their parents."""
    return [table for table in reversed(Base.metadata.sorted_tables)
            if table.name != Workspace.__tablename__]


def _token_condition(table: Table, team_id: str) -> ColumnElement[bool]:
    """The rows of Slack's installation store (``slack_installations``, ``slack_bots``) for
    the team."""
    return table.c.team_id == team_id


def erase_plan(sessions: sessionmaker[Session], team_id: str,
               token_tables: Sequence[Table] = ()) -> ErasePlan:
    """What erasing the workspace of ``team_id`` deletes; ``workspace.unknown`` when no
    workspace has that team id. ``token_tables``: Slack's installation store tables (rows
    by ``team_id``), which the models do not describe."""
    with sessions() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
        if workspace is None:
            raise ServiceError("erase.unknown", team=team_id)
        rows = {Workspace.__tablename__: 1}
        conditions = [*((table, _owned(table, workspace.id)) for table in _workspace_tables()),
                      *((table, _token_condition(table, team_id)) for table in token_tables)]
        for table, condition in conditions:
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                rows[table.name] = int(count)
        return ErasePlan(team_id, workspace.name, workspace.uninstalled_at is None, rows)


def do_erase_workspace(sessions: sessionmaker[Session], team_id: str, *, force: bool = False,
                       token_tables: Sequence[Table] = ()) -> ErasePlan:
    """Delete every row of the workspace of ``team_id`` in every table, then the workspace
    and its rows in ``token_tables`` (Slack's installation store, by ``team_id``); returns
    what was there (``erase_plan``). Refused (``erase.installed``) while Vigie is installed
    there, unless ``force``: its next event or poll would start it again.

    The mentions go first, a batch per transaction, so that their delete triggers keep
    the counts and the search index (SQLite's FTS rows; PostgreSQL's go by their key) and
    the rows tied to them go by their keys; then every other table, children first, and
    the workspace in one transaction. SQLite's index is compacted after it: no word of
    theirs stays in its pages."""
    plan = erase_plan(sessions, team_id, token_tables)
    if plan.installed and not force:
        raise ServiceError("erase.installed", team=team_id)
    with sessions() as session:
        workspace_id = session.scalars(select(Workspace.id).where(
            Workspace.team_id == team_id)).one()
    while True:
        with transaction(sessions) as session:
            # An ingest batch in flight stores its posts first, a later one waits (then
            # meets no workspace).
            forgotten.hold_for_forget(session, workspace_id)
            ids = list(session.scalars(select(Mention.id).where(
                Mention.workspace_id == workspace_id).order_by(Mention.id).limit(BATCH)))
            if not ids:
                break
            session.execute(delete(Mention).where(Mention.id.in_(ids))
                            .execution_options(synchronize_session=False))
            search_index.mark_compaction_due(session)
    with transaction(sessions) as session:
        forgotten.hold_for_forget(session, workspace_id)
        for table in _workspace_tables():
            session.execute(delete(table).where(_owned(table, workspace_id)))
        for table in token_tables:
            session.execute(delete(table).where(_token_condition(table, team_id)))
        session.execute(delete(Workspace).where(Workspace.id == workspace_id))
        search_index.mark_compaction_due(session)
    with transaction(sessions) as session:
        search_index.compact_if_due(session)
    log.info("workspace %s erased: %d rows", team_id, plan.total)
    return plan
