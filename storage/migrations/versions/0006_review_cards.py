"""personal review (issue 14): cards, review logs, the /review forget marker, daily
nudge reminders and claims, and channels.adaptive

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:50:00

Cards are derived from attempts on reads (storage.cards.sync_user), so no rows are
filled here: an upgraded database builds each person's cards the first time they ask.

`channels.adaptive` is added with a plain ALTER TABLE (and dropped the same way, SQLite
3.35+), not a batch rebuild: rebuilding channels on SQLite would drop the board triggers
of migration 0004 that sit on it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column('channels', sa.Column('adaptive', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_table(
        'cards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('group_key', sa.String(length=64), nullable=False),
        sa.Column('question_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.Integer(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=True),
        sa.Column('stability', sa.Float(), nullable=True),
        sa.Column('difficulty', sa.Float(), nullable=True),
        _utc('due'),
        _utc('last_review', nullable=True),
        sa.Column('reviews', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('lapses', sa.Integer(), nullable=False, server_default='0'),
        _utc('created_at'),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['user_pk'], ['users.id'], name=op.f('fk_cards_user_pk_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
        sa.UniqueConstraint('user_pk', 'group_key', name=op.f('uq_cards_user_pk_group_key')),
    )
    op.create_index('ix_cards_user_due', 'cards', ['user_pk', 'due'], unique=False)
    op.create_table(
        'review_logs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        _utc('attempt_updated_at', nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        _utc('reviewed_at'),
        sa.Column('review_duration_ms', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['card_id'], ['cards.id'],
                                name=op.f('fk_review_logs_card_id_cards'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'],
                                name=op.f('fk_review_logs_attempt_id_attempts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_logs')),
        sa.UniqueConstraint('attempt_id', name=op.f('uq_review_logs_attempt_id')),
    )
    op.create_index('ix_review_logs_card_reviewed', 'review_logs', ['card_id', 'reviewed_at'],
                    unique=False)
    op.create_table(
        'review_resets',
        sa.Column('user_pk', sa.Integer(), nullable=False),
        _utc('forgot_at'),
        sa.ForeignKeyConstraint(['user_pk'], ['users.id'],
                                name=op.f('fk_review_resets_user_pk_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_pk', name=op.f('pk_review_resets')),
    )
    op.create_table(
        'card_syncs',
        sa.Column('user_pk', sa.Integer(), nullable=False),
        _utc('synced_to'),
        sa.ForeignKeyConstraint(['user_pk'], ['users.id'],
                                name=op.f('fk_card_syncs_user_pk_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_pk', name=op.f('pk_card_syncs')),
    )
    # a person's attempts changed since their last card sync, read as a range
    op.create_index('ix_attempts_user_updated', 'attempts', ['user_pk', 'updated_at'],
                    unique=False)
    op.create_table(
        'reminders',
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('local_time', sa.String(length=5), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        _utc('next_at'),
        _utc('updated_at'),
        sa.ForeignKeyConstraint(['user_pk'], ['users.id'],
                                name=op.f('fk_reminders_user_pk_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_pk', name=op.f('pk_reminders')),
    )
    op.create_index(op.f('ix_reminders_next_at'), 'reminders', ['next_at'], unique=False)
    op.create_table(
        'nudges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        _utc('lease_until', nullable=True),
        sa.Column('message_id', sa.String(length=64), nullable=True),
        _utc('sent_at', nullable=True),
        sa.ForeignKeyConstraint(['user_pk'], ['users.id'],
                                name=op.f('fk_nudges_user_pk_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
        sa.UniqueConstraint('user_pk', 'day', name=op.f('uq_nudges_user_pk_day')),
    )


def downgrade() -> None:
    op.drop_table('nudges')
    op.drop_index(op.f('ix_reminders_next_at'), table_name='reminders')
    op.drop_table('reminders')
    op.drop_index('ix_attempts_user_updated', table_name='attempts')
    op.drop_table('card_syncs')
    op.drop_table('review_resets')
    op.drop_index('ix_review_logs_card_reviewed', table_name='review_logs')
    op.drop_table('review_logs')
    op.drop_index('ix_cards_user_due', table_name='cards')
    op.drop_table('cards')
    op.execute("ALTER TABLE channels DROP COLUMN adaptive")
