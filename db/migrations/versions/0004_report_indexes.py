"""Report indexes: the period's items and answers read from covering indexes, and small partial
indexes of the routing and quality events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

The report (core/reports.py) reads only the period's rows, and reads them from indexes that hold
every column it needs, so it never visits the items' rows (texts make them large: a month of a
million-item district is ~50,000 scattered rows):
* ``ix_items_report_received`` — items received in a period: counts by topic, channel, settlement,
  organisation, repeats, first reactions, items per day, problems (on SQLite with the address the
  problems read the street from; PostgreSQL limits an index entry to ~2.7 kB, a long address
  could break an insert there, so it reads those rows from the table);
* ``ix_items_report_answered`` — answers given in a period (on-time share, answer time, ratings);
* ``ix_item_events_rerouted`` / ``ix_item_events_reclassified`` — was an item of the period
  redirected or reclassified: a probe per item into an index that holds only those events;
* ``ix_item_events_returned`` / ``ix_item_events_reopened`` — returns for rework and reopenings
  in a period (ratings), by time.
Partial indexes (SQLite and PostgreSQL both have them) stay a few per cent of ``item_events``.
The queries name the same constants literally, so SQLite's planner can use them.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = (
    ('ix_item_events_rerouted', ['item_id'], "action = 'route' AND old_value IS NOT NULL"),
    ('ix_item_events_reclassified', ['item_id'], "action = 'reclassified'"),
    ('ix_item_events_returned', ['at'], "action = 'review' AND new_value = 'returned'"),
    ('ix_item_events_reopened', ['at'], "action = 'status' AND new_value = 'reopened'"),
)


# The scope filters (topic, settlement, organisation, channel) are in both, so a scoped report is
# as cheap as the whole centre's.
RECEIVED = ['received_at', 'registered_at', 'channel', 'topic_id', 'theme_id', 'settlement_id', 'organisation_id',
            'repeat_of_id', 'first_reaction_at']
ANSWERED = ['answered_at', 'organisation_id', 'channel', 'topic_id', 'settlement_id', 'received_at',
            'due_answer_at']


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_index('ix_items_report_received', 'items', RECEIVED + (['address'] if sqlite else []), unique=False)
    op.create_index('ix_items_report_answered', 'items', ANSWERED, unique=False)
    for name, columns, where in PARTIAL:
        op.create_index(name, 'item_events', columns, unique=False,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, _columns, _where in reversed(PARTIAL):
        op.drop_index(name, table_name='item_events')
    op.drop_index('ix_items_report_answered', table_name='items')
    op.drop_index('ix_items_report_received', table_name='items')
