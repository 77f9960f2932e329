"""The admin's items list: covering indexes in the list's order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

The list (core/item_list.py) is ordered `received_at desc, id desc` and filtered by status, topic,
channel, settlement, organisation, kind and the answer deadline. With these columns in the index
entries, the page's ids are found by walking one index in the list's order and testing every filter
inside the index — no visit to the items' rows (large: texts) except the 50 shown:
* ``ix_items_list`` — everything the centre sees, newest first;
* ``ix_items_org_list`` — one organisation's items (a recipient's list, the «организация» filter);
* ``ix_items_status_list`` — items of the open statuses (few among a million closed ones), overdue.
The dashboard counts from the same indexes (index ranges only), and its satisfaction figure from
``ix_surveys_answered_list`` (the answers of the last 30 days, without visiting the surveys' rows).
`id` is a column of both so that ties of `received_at` come in the page's order, and a keyset
cursor `(received_at, id)` is a range of the index.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ['status', 'topic_id', 'channel', 'settlement_id', 'kind', 'due_answer_at']


def upgrade() -> None:
    op.create_index('ix_items_list', 'items', ['received_at', 'id', 'organisation_id', *FILTERS], unique=False)
    op.create_index('ix_items_org_list', 'items', ['organisation_id', 'received_at', 'id', *FILTERS], unique=False)
    op.create_index('ix_items_status_list', 'items',
                    ['status', 'received_at', 'id', 'organisation_id', *FILTERS[1:]], unique=False)
    op.create_index('ix_surveys_answered_list', 'surveys', ['answered_at', 'resolved', 'score', 'organisation_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_surveys_answered_list', table_name='surveys')
    op.drop_index('ix_items_status_list', table_name='items')
    op.drop_index('ix_items_org_list', table_name='items')
    op.drop_index('ix_items_list', table_name='items')
