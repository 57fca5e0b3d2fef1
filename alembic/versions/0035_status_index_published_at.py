"""mentions: the status listing index also holds published_at, so a since: window is
checked in the index instead of on every row of the status

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 00:30:00

``/cm mentions love since:7d status:approved`` walks the status's index newest first. With
a window too wide to bound by id up front (more than 1,000 mentions), each entry's row was
read to test ``published_at``: every approved mention of the workspace when the window
holds few of them (5,600 rows, 5,845 buffers, 16 ms at 1,000,000 mentions on PostgreSQL).
With ``published_at`` after ``id`` in the key, both engines test the window on the index
entry and read only the rows inside it (582 buffers, 2 ms); the index still gives a
status's mentions newest first. It replaces (workspace_id, status, id): one index more
per row would have cost ingest; this one costs a wider entry (PostgreSQL 8 bytes, SQLite
the stored timestamp's text).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = 'ix_mentions_workspace_id_status_id'
NEW = 'ix_mentions_workspace_id_status_id_published_at'


def upgrade() -> None:
    op.create_index(NEW, 'mentions', ['workspace_id', 'status', 'id', 'published_at'])
    op.drop_index(OLD, table_name='mentions')


def downgrade() -> None:
    op.create_index(OLD, 'mentions', ['workspace_id', 'status', 'id'])
    op.drop_index(NEW, table_name='mentions')
