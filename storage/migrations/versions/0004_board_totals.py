"""all-time board totals: per (channel, member) and per (workspace, member) the points,
the first answer and the number of attempts on sent posts, kept by triggers on attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:00:00

An all-time board summed every attempt of its scope (the whole year) on each request.
These two tables hold the sums instead, and database triggers keep them in the SAME
transaction as every change of `attempts` (insert, upsert, update, delete, cascades)
whoever writes it, so the service layer does not need to know they exist:

- an attempt inserted on a sent post adds its points (and may move `first_at` earlier);
- an update of the points alone adds the difference (the hot path: one row each);
- an update that moves an attempt (post, user) or its `first_at`, a delete, and a post
  entering or leaving status 'sent' recompute the member's one row from attempts (through
  ix_attempts_user), so min(first_at) stays exact;
- deleting a post or a channel deletes its attempts first (BEFORE triggers), so they are
  subtracted while the post and channel rows that say where they counted still exist
  (a foreign-key cascade runs after the parent row is gone).

The points are multiples of 1/2 (bot.rules.scoring), which binary floating point adds and
subtracts exactly, so a running sum equals the GROUP BY. `qotd db sync` rebuilds both
tables from attempts if they are ever in doubt (storage.queries.rebuild_totals, the same
SQL as the fill below).

Not followed by the triggers: a channel moved to another platform or workspace, or a
post to another channel (nothing does either); a sync rebuilds. A later migration that
rebuilds attempts, posts or channels on SQLite (batch mode's copy-and-move) drops their
triggers with the old table and must create them again (`_sqlite_triggers`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

CH = "board_channel_totals"
WS = "board_workspace_totals"

FILL = [
    f"DELETE FROM {CH}",
    f"INSERT INTO {CH} (channel_pk, user_pk, points, first_at, attempts) "
    "SELECT p.channel_pk, a.user_pk, sum(a.points), min(a.first_at), count(*) "
    "FROM attempts a JOIN posts p ON p.id = a.post_id WHERE p.status = 'sent' "
    "GROUP BY p.channel_pk, a.user_pk",
    f"DELETE FROM {WS}",
    f"INSERT INTO {WS} (platform, workspace_id, user_pk, points, first_at, attempts) "
    "SELECT c.platform, c.workspace_id, a.user_pk, sum(a.points), min(a.first_at), count(*) "
    "FROM attempts a JOIN posts p ON p.id = a.post_id JOIN channels c ON c.id = p.channel_pk "
    "WHERE p.status = 'sent' GROUP BY c.platform, c.workspace_id, a.user_pk",
]


def _refresh(post: str, user: str) -> list[str]:
    """Recompute the member's two rows for the post's channel and workspace from attempts
    (`post`, `user`: SQL expressions naming them, e.g. OLD.post_id). Nothing is left
    when the member has no attempt on a sent post there any more."""
    channel = f"(SELECT p.channel_pk FROM posts p WHERE p.id = {post})"
    return [
        f"DELETE FROM {CH} WHERE channel_pk = {channel} AND user_pk = {user}",
        f"INSERT INTO {CH} (channel_pk, user_pk, points, first_at, attempts) "
        "SELECT p.channel_pk, a.user_pk, sum(a.points), min(a.first_at), count(*) "
        "FROM attempts a JOIN posts p ON p.id = a.post_id "
        f"WHERE a.user_pk = {user} AND p.channel_pk = {channel} AND p.status = 'sent' "
        "GROUP BY p.channel_pk, a.user_pk",
        f"DELETE FROM {WS} WHERE user_pk = {user} AND (platform, workspace_id) IN "
        f"(SELECT c.platform, c.workspace_id FROM channels c WHERE c.id = {channel})",
        f"INSERT INTO {WS} (platform, workspace_id, user_pk, points, first_at, attempts) "
        "SELECT c.platform, c.workspace_id, a.user_pk, sum(a.points), min(a.first_at), "
        "count(*) FROM attempts a JOIN posts p ON p.id = a.post_id "
        "JOIN channels c ON c.id = p.channel_pk "
        "JOIN channels here ON here.platform = c.platform "
        "AND here.workspace_id = c.workspace_id "
        f"WHERE a.user_pk = {user} AND here.id = {channel} AND p.status = 'sent' "
        "GROUP BY c.platform, c.workspace_id, a.user_pk",
    ]


def _add(postgres: bool) -> list[str]:
    """NEW's points and first answer added to its two rows (the insert path)."""
    least = "LEAST" if postgres else "min"
    ch, ws = (CH, WS) if postgres else ("", "")
    dot = "." if postgres else ""
    return [
        f"INSERT INTO {CH} (channel_pk, user_pk, points, first_at, attempts) "
        "SELECT p.channel_pk, NEW.user_pk, NEW.points, NEW.first_at, 1 FROM posts p "
        "WHERE p.id = NEW.post_id AND p.status = 'sent' "
        "ON CONFLICT (channel_pk, user_pk) DO UPDATE SET "
        f"points = {ch}{dot}points + excluded.points, "
        f"first_at = {least}({ch}{dot}first_at, excluded.first_at), "
        f"attempts = {ch}{dot}attempts + 1",
        f"INSERT INTO {WS} (platform, workspace_id, user_pk, points, first_at, attempts) "
        "SELECT c.platform, c.workspace_id, NEW.user_pk, NEW.points, NEW.first_at, 1 "
        "FROM posts p JOIN channels c ON c.id = p.channel_pk "
        "WHERE p.id = NEW.post_id AND p.status = 'sent' "
        "ON CONFLICT (platform, workspace_id, user_pk) DO UPDATE SET "
        f"points = {ws}{dot}points + excluded.points, "
        f"first_at = {least}({ws}{dot}first_at, excluded.first_at), "
        f"attempts = {ws}{dot}attempts + 1",
    ]


def _shift() -> list[str]:
    """The points changed, nothing else that places the attempt: add the difference."""
    sent = "(SELECT p.channel_pk FROM posts p WHERE p.id = NEW.post_id AND p.status = 'sent')"
    return [
        f"UPDATE {CH} SET points = points + (NEW.points - OLD.points) "
        f"WHERE channel_pk = {sent} AND user_pk = NEW.user_pk",
        f"UPDATE {WS} SET points = points + (NEW.points - OLD.points) "
        f"WHERE user_pk = NEW.user_pk AND (platform, workspace_id) IN "
        f"(SELECT c.platform, c.workspace_id FROM channels c WHERE c.id = {sent})",
    ]


def _refresh_post_users(post: str) -> list[str]:
    """Every member with an attempt on the post, recomputed (its status changed)."""
    users = f"(SELECT a.user_pk FROM attempts a WHERE a.post_id = {post})"
    channel = f"(SELECT p.channel_pk FROM posts p WHERE p.id = {post})"
    return [
        f"DELETE FROM {CH} WHERE channel_pk = {channel} AND user_pk IN {users}",
        f"INSERT INTO {CH} (channel_pk, user_pk, points, first_at, attempts) "
        "SELECT p.channel_pk, a.user_pk, sum(a.points), min(a.first_at), count(*) "
        "FROM attempts a JOIN posts p ON p.id = a.post_id "
        f"WHERE a.user_pk IN {users} AND p.channel_pk = {channel} AND p.status = 'sent' "
        "GROUP BY p.channel_pk, a.user_pk",
        f"DELETE FROM {WS} WHERE user_pk IN {users} AND (platform, workspace_id) IN "
        f"(SELECT c.platform, c.workspace_id FROM channels c WHERE c.id = {channel})",
        f"INSERT INTO {WS} (platform, workspace_id, user_pk, points, first_at, attempts) "
        "SELECT c.platform, c.workspace_id, a.user_pk, sum(a.points), min(a.first_at), "
        "count(*) FROM attempts a JOIN posts p ON p.id = a.post_id "
        "JOIN channels c ON c.id = p.channel_pk "
        "JOIN channels here ON here.platform = c.platform "
        "AND here.workspace_id = c.workspace_id "
        f"WHERE a.user_pk IN {users} AND here.id = {channel} AND p.status = 'sent' "
        "GROUP BY c.platform, c.workspace_id, a.user_pk",
    ]


PLACED = ("OLD.post_id <> NEW.post_id OR OLD.user_pk <> NEW.user_pk "
          "OR OLD.first_at <> NEW.first_at")
SENT_CHANGED = "(OLD.status = 'sent') <> (NEW.status = 'sent')"


def _sqlite_triggers() -> list[str]:
    def trigger(name: str, when: str, body: list[str]) -> str:
        return f"CREATE TRIGGER {name} {when} BEGIN " + "".join(f"{s}; " for s in body) + "END"

    return [
        trigger("trg_attempts_totals_insert", "AFTER INSERT ON attempts", _add(False)),
        trigger("trg_attempts_totals_points",
                "AFTER UPDATE OF points ON attempts WHEN OLD.points <> NEW.points "
                f"AND NOT ({PLACED})", _shift()),
        trigger("trg_attempts_totals_move",
                f"AFTER UPDATE OF post_id, user_pk, first_at ON attempts WHEN {PLACED}",
                _refresh("OLD.post_id", "OLD.user_pk") + _refresh("NEW.post_id", "NEW.user_pk")),
        trigger("trg_attempts_totals_delete", "AFTER DELETE ON attempts",
                _refresh("OLD.post_id", "OLD.user_pk")),
        trigger("trg_posts_totals_status",
                f"AFTER UPDATE OF status ON posts WHEN {SENT_CHANGED}",
                _refresh_post_users("NEW.id")),
        trigger("trg_posts_totals_delete", "BEFORE DELETE ON posts",
                ["DELETE FROM attempts WHERE post_id = OLD.id"]),
        trigger("trg_channels_totals_delete", "BEFORE DELETE ON channels",
                ["DELETE FROM posts WHERE channel_pk = OLD.id"]),
    ]


def _pg_function(name: str, body: list[str], returns: str) -> str:
    statements = "".join(f"    {s};\n" for s in body)
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{statements}    RETURN {returns};\nEND\n$$")


def _pg_triggers() -> list[str]:
    attempts_body = (
        "IF TG_OP = 'INSERT' THEN\n"
        + "".join(f"        {s};\n" for s in _add(True))
        + f"    ELSIF TG_OP = 'UPDATE' AND NOT ({PLACED}) THEN\n"
        + "".join(f"        {s};\n" for s in _shift())
        + "    ELSIF TG_OP = 'UPDATE' THEN\n"
        + "".join(f"        {s};\n" for s in _refresh("OLD.post_id", "OLD.user_pk")
                  + _refresh("NEW.post_id", "NEW.user_pk"))
        + "    ELSE\n"
        + "".join(f"        {s};\n" for s in _refresh("OLD.post_id", "OLD.user_pk"))
        + "    END IF"
    )
    return [
        _pg_function("qotd_attempts_totals", [attempts_body], "NULL"),
        "CREATE TRIGGER trg_attempts_totals_write AFTER INSERT OR DELETE ON attempts "
        "FOR EACH ROW EXECUTE FUNCTION qotd_attempts_totals()",
        "CREATE TRIGGER trg_attempts_totals_update AFTER UPDATE ON attempts FOR EACH ROW "
        f"WHEN (OLD.points <> NEW.points OR {PLACED}) "
        "EXECUTE FUNCTION qotd_attempts_totals()",
        _pg_function("qotd_posts_totals_status", _refresh_post_users("NEW.id"), "NULL"),
        "CREATE TRIGGER trg_posts_totals_status AFTER UPDATE OF status ON posts "
        f"FOR EACH ROW WHEN ({SENT_CHANGED}) EXECUTE FUNCTION qotd_posts_totals_status()",
        _pg_function("qotd_posts_totals_delete",
                     ["DELETE FROM attempts WHERE post_id = OLD.id"], "OLD"),
        "CREATE TRIGGER trg_posts_totals_delete BEFORE DELETE ON posts FOR EACH ROW "
        "EXECUTE FUNCTION qotd_posts_totals_delete()",
        _pg_function("qotd_channels_totals_delete",
                     ["DELETE FROM posts WHERE channel_pk = OLD.id"], "OLD"),
        "CREATE TRIGGER trg_channels_totals_delete BEFORE DELETE ON channels FOR EACH ROW "
        "EXECUTE FUNCTION qotd_channels_totals_delete()",
    ]


def upgrade() -> None:
    op.create_table(
        CH,
        sa.Column('channel_pk', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('first_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['channel_pk'], ['channels.id'],
                                name=op.f('fk_board_channel_totals_channel_pk_channels'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('channel_pk', 'user_pk', name=op.f('pk_board_channel_totals')),
    )
    with op.batch_alter_table(CH, schema=None) as batch_op:
        batch_op.create_index('ix_board_channel_totals_rank',
                              ['channel_pk', 'points', 'first_at', 'user_pk'], unique=False)
    op.create_table(
        WS,
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace_id', sa.String(length=64), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('first_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('platform', 'workspace_id', 'user_pk',
                                name=op.f('pk_board_workspace_totals')),
    )
    with op.batch_alter_table(WS, schema=None) as batch_op:
        batch_op.create_index('ix_board_workspace_totals_rank',
                              ['platform', 'workspace_id', 'points', 'first_at', 'user_pk'],
                              unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)
    for statement in FILL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in [("channels", "trg_channels_totals_delete"),
                               ("posts", "trg_posts_totals_delete"),
                               ("posts", "trg_posts_totals_status"),
                               ("attempts", "trg_attempts_totals_update"),
                               ("attempts", "trg_attempts_totals_write")]:
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for function in ("qotd_channels_totals_delete", "qotd_posts_totals_delete",
                         "qotd_posts_totals_status", "qotd_attempts_totals"):
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for trigger in ("trg_channels_totals_delete", "trg_posts_totals_delete",
                        "trg_posts_totals_status", "trg_attempts_totals_delete",
                        "trg_attempts_totals_move", "trg_attempts_totals_points",
                        "trg_attempts_totals_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
    with op.batch_alter_table(WS, schema=None) as batch_op:
        batch_op.drop_index('ix_board_workspace_totals_rank')
    op.drop_table(WS)
    with op.batch_alter_table(CH, schema=None) as batch_op:
        batch_op.drop_index('ix_board_channel_totals_rank')
    op.drop_table(CH)
