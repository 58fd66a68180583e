"""answering with buttons or reactions (issue 16): channels.answer_mode, posts.seed_due_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:10:00

"buttons" (the default: one button per option on the post, a private vote, the post is
one request) or "reactions" (the bot seeds its reaction keys after the post is marked
sent). Existing channels become "buttons" through the server default.

`posts.seed_due_at`: set when a reactions-mode post is marked sent, cleared once the
bot's own reactions are on it; a process that died in between leaves it set, and the
next start seeds it (the reactions are idempotent on both platforms). Existing posts
stay NULL: nothing to seed.

Both are added with a plain ALTER TABLE (and dropped the same way, SQLite 3.35+), not a
batch rebuild: rebuilding channels or posts on SQLite would drop the board triggers of
migration 0004 that sit on them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('channels', sa.Column('answer_mode', sa.String(length=16), nullable=False,
                                        server_default='buttons'))
    op.add_column('posts', sa.Column('seed_due_at', storage.types.UTCDateTime(timezone=True),
                                     nullable=True))
    op.create_index(op.f('ix_posts_seed_due_at'), 'posts', ['seed_due_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_posts_seed_due_at'), table_name='posts')
    op.execute("ALTER TABLE posts DROP COLUMN seed_due_at")
    op.execute("ALTER TABLE channels DROP COLUMN answer_mode")
