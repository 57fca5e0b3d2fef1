"""spike_event_alert_index: deleting an outbox row finds the spike event naming it by index

Revision ID: 0054
Revises: 0053
Create Date: 2026-12-07 04:30:00

Retention now deletes the outbox rows of messages sent before its window, thousands per
batch. ``spike_events.alert_outbox_id`` refers to them (``ON DELETE SET NULL``): without an
index, PostgreSQL read the whole of ``spike_events`` for each row deleted (12 s more for
98,000 rows with 2,000 events). ``ix_spike_events_alert_outbox_id`` is built from the rows
already stored: no backfill.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0054'
down_revision: str | None = '0053'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_spike_events_alert_outbox_id', 'spike_events', ['alert_outbox_id'])


def downgrade() -> None:
    op.drop_index('ix_spike_events_alert_outbox_id', table_name='spike_events')
