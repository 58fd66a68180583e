"""due work is rows: channels.next_slot_at, posts send/reveal due times, fencing tokens,
stray reactions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00

Existing scheduled channels get next_slot_at NULL here; the engine plans them on its
first pass (one query finds them), from their last claimed slot, so nothing an earlier
version left due is skipped. A pending send or an unrevealed post becomes due at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_slot_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('admin_user_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_channels_next_slot_at'), ['next_slot_at'], unique=False)

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_due_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('send_token', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('send_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reveal_due_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reveal_token', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reveal_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reveal_error', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_posts_send_due_at'), ['send_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_reveal_due_at'), ['reveal_due_at'], unique=False)

    posts = sa.table(
        'posts',
        sa.column('status', sa.String), sa.column('question_id', sa.String),
        sa.column('claimed_at', storage.types.UTCDateTime(timezone=True)),
        sa.column('send_lease_until', storage.types.UTCDateTime(timezone=True)),
        sa.column('send_due_at', storage.types.UTCDateTime(timezone=True)),
        sa.column('send_attempts', sa.Integer),
        sa.column('reveal_at', storage.types.UTCDateTime(timezone=True)),
        sa.column('reveal_lease_until', storage.types.UTCDateTime(timezone=True)),
        sa.column('reveal_due_at', storage.types.UTCDateTime(timezone=True)),
        sa.column('reveal_attempts', sa.Integer),
        sa.column('revealed_at', storage.types.UTCDateTime(timezone=True)),
    )
    # a claim an earlier version left pending is due now, as a resend (it may have landed)
    op.execute(
        posts.update()
        .where(posts.c.status == 'pending', posts.c.question_id.is_not(None))
        .values(send_due_at=sa.func.coalesce(posts.c.send_lease_until, posts.c.claimed_at),
                send_attempts=1)
    )
    op.execute(
        posts.update()
        .where(posts.c.status == 'sent', posts.c.revealed_at.is_(None))
        .values(reveal_due_at=sa.func.coalesce(posts.c.reveal_lease_until, posts.c.reveal_at),
                reveal_attempts=sa.case((posts.c.reveal_lease_until.is_(None), 0), else_=1))
    )

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('send_lease_until')
        batch_op.drop_column('reveal_lease_until')

    op.create_table('stray_reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_pk', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('key', sa.String(length=8), nullable=False),
    sa.Column('added', sa.Boolean(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_pk'], ['channels.id'], name=op.f('fk_stray_reactions_channel_pk_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stray_reactions'))
    )
    with op.batch_alter_table('stray_reactions', schema=None) as batch_op:
        batch_op.create_index('ix_stray_reactions_channel_message', ['channel_pk', 'message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stray_reactions', schema=None) as batch_op:
        batch_op.drop_index('ix_stray_reactions_channel_message')
    op.drop_table('stray_reactions')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_lease_until', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reveal_lease_until', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_posts_reveal_due_at'))
        batch_op.drop_index(batch_op.f('ix_posts_send_due_at'))
        for name in ('reveal_error', 'reveal_attempts', 'reveal_token', 'reveal_due_at',
                     'send_attempts', 'send_token', 'send_due_at'):
            batch_op.drop_column(name)
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channels_next_slot_at'))
        batch_op.drop_column('admin_user_id')
        batch_op.drop_column('next_slot_at')
