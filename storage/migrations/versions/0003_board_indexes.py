"""leaderboard indexes: attempts by post and first answer (covering the board's sum),
attempts by user (streaks of the members shown), posts of a channel in posting order

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 13:00:00

Only indexes: no rows change. A week or month board reads, for each post of its scope,
only the attempts first made since the period began, and sums them from the index.
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_attempts_board', ['post_id', 'first_at', 'user_pk', 'points'], unique=False
        )
        batch_op.create_index('ix_attempts_user', ['user_pk', 'post_id', 'first_at'], unique=False)

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_channel_status')
        batch_op.create_index(
            'ix_posts_channel_status', ['channel_pk', 'status', 'posted_at', 'id', 'day'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_channel_status')
        batch_op.create_index('ix_posts_channel_status', ['channel_pk', 'status'], unique=False)

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_user')
        batch_op.drop_index('ix_attempts_board')
