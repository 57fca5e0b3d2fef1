"""watches, watch_groups: a name is unique in its workspace whatever its case

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 11:00:00

Vigie finds a watch or a group by ``lower(name)`` and refuses a new one whose name exists
in another case, but the unique constraints compared names as written: two admins adding
``Acme`` and ``acme`` at the same moment both passed the check, and both rows stayed, so
every later lookup of the name picked one of them arbitrarily. A unique index on
(workspace_id, lower(name)) makes the database refuse the second one (SQLite and
PostgreSQL both index expressions; names are ASCII, which both ``lower`` fold alike). The
case-sensitive constraints stay: the index already implies them, and dropping them would
rebuild both tables on SQLite for nothing. SQLAlchemy cannot reflect an index on an
expression from SQLite: a later batch migration that rebuilds one of these tables there
must create its index again.

Names already taken twice in different cases are renamed first, or the index could not be
built: the oldest row (lowest id) keeps its name, each later one gets ``-2``, ``-3``...
(the first free one, whatever its case, shortened to the 40 characters a name may have,
so it can still be typed in a command). Each rename is logged as a warning. The downgrade
drops the indexes and keeps the new names.
"""
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("vigie.migrations")

NAME_LIMIT = 40
"""The longest name a watch or a group may have (bot.services.watches.NAME_PATTERN,
bot.services.competitors.GROUP_NAME; watch_groups.name is VARCHAR(40))."""
INDEXES = (('watches', 'uq_watches_workspace_id_lower_name'),
           ('watch_groups', 'uq_watch_groups_workspace_id_lower_name'))


def _free_name(conn: sa.Connection, table: str, workspace_id: int, name: str) -> str:
    """The first of ``name-2``, ``name-3``... no row of the workspace has in any case."""
    taken = sa.text(f'SELECT 1 FROM {table} '
                    'WHERE workspace_id = :ws AND lower(name) = lower(:name)')
    number = 2
    while True:
        suffix = f'-{number}'
        candidate = name[:NAME_LIMIT - len(suffix)] + suffix
        if conn.execute(taken, {'ws': workspace_id, 'name': candidate}).first() is None:
            return candidate
        number += 1


def rename_case_duplicates(conn: sa.Connection, table: str) -> list[tuple[int, str, str]]:
    """Rename every row of ``table`` whose name an older row of its workspace has in another
    case; returns (workspace_id, old name, new name) for each, oldest first."""
    rows = conn.execute(sa.text(
        f'SELECT id, workspace_id, name, lower(name) FROM {table} '
        'ORDER BY workspace_id, id')).all()
    seen: set[tuple[int, str]] = set()
    renamed = []
    for row_id, workspace_id, name, lowered in rows:
        if (workspace_id, lowered) not in seen:
            seen.add((workspace_id, lowered))
            continue
        new = _free_name(conn, table, workspace_id, name)
        conn.execute(sa.text(f'UPDATE {table} SET name = :name WHERE id = :id'),
                     {'name': new, 'id': row_id})
        renamed.append((workspace_id, name, new))
    return renamed


def upgrade() -> None:
    conn = op.get_bind()
    for table, index in INDEXES:
        for workspace_id, old, new in rename_case_duplicates(conn, table):
            log.warning('%s: workspace %s had %r twice in different cases; the newer one '
                        'is now called %r', table, workspace_id, old, new)
        op.create_index(index, table, ['workspace_id', sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    for table, index in reversed(INDEXES):
        op.drop_index(index, table_name=table)
