"""Admin web: logins, sessions, invites; full-text search over items; report indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Search: SQLite gets an FTS5 table ``items_fts`` (number, text, address) kept by triggers;
PostgreSQL a GIN index on ``core.search.PG_DOCUMENT`` — the query must use the same expression.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PG_DOCUMENT = (
    "to_tsvector('russian', coalesce(number, '') || ' ' || coalesce(text, '') || ' ' || "
    "coalesce(address, ''))"
)


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_staff_login'), ['login'])

    op.create_table(
        'staff_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('staff_id', BigId, nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=256), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_sessions_staff_id_staff'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    )
    op.create_index(op.f('ix_staff_sessions_staff_id'), 'staff_sessions', ['staff_id'], unique=False)

    op.create_table(
        'staff_invites',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('staff_id', BigId, nullable=False),
        sa.Column('created_by_id', BigId, nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_staff_invites_created_by_id_staff'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_invites_staff_id_staff'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invites')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invites_token_hash')),
    )
    op.create_index(op.f('ix_staff_invites_staff_id'), 'staff_invites', ['staff_id'], unique=False)

    op.create_index('ix_items_org_received', 'items', ['organisation_id', 'received_at'], unique=False)
    op.create_index(op.f('ix_surveys_answered_at'), 'surveys', ['answered_at'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "CREATE VIRTUAL TABLE items_fts USING fts5(number, text, address, content='items', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
            "INSERT INTO items_fts(rowid, number, text, address) VALUES (new.id, new.number, new.text, new.address); END"
        )
        op.execute(
            "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
            "INSERT INTO items_fts(items_fts, rowid, number, text, address) "
            "VALUES ('delete', old.id, old.number, old.text, old.address); END"
        )
        # Only a change of the indexed columns touches the index (status changes are frequent).
        op.execute(
            "CREATE TRIGGER items_fts_au AFTER UPDATE OF number, text, address ON items BEGIN "
            "INSERT INTO items_fts(items_fts, rowid, number, text, address) "
            "VALUES ('delete', old.id, old.number, old.text, old.address); "
            "INSERT INTO items_fts(rowid, number, text, address) VALUES (new.id, new.number, new.text, new.address); END"
        )
        op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_items_search ON items USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('items_fts_ai', 'items_fts_ad', 'items_fts_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_search")
    op.drop_index(op.f('ix_surveys_answered_at'), table_name='surveys')
    op.drop_index('ix_items_org_received', table_name='items')
    op.drop_index(op.f('ix_staff_invites_staff_id'), table_name='staff_invites')
    op.drop_table('staff_invites')
    op.drop_index(op.f('ix_staff_sessions_staff_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_staff_login'), type_='unique')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('login')
