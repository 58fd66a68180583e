"""week and month board totals: per board period (a scope and its local start) and
member the points, the first answer and the number of attempts since the period began,
kept by triggers on attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:00:00

A week or month board summed the attempts of its period on each request: in a workspace
of a year's use, some 20,000 to 80,000 rows a time. A board period is made (and filled
with that sum, once) when its board is first asked for (storage.queries.board_period);
from then on the triggers below keep its totals in the SAME transaction as every change
of attempts, as migration 0004's do for all time:

- an attempt inserted on a sent post adds its points to every live period of its
  channel and of its workspace whose span holds its first answer;
- an update of the points alone adds the difference;
- an update that moves an attempt or its `first_at`, a delete, and a post entering or
  leaving status 'sent' recompute the member's rows of the periods concerned from
  attempts (through ix_attempts_user), so min(first_at) stays exact.

A period's totals count the attempts first made in [since, keep_until): the board of the
current period reads them while `now < keep_until` (a week is at most 7 days and an hour
long, a month 31 days and an hour; keep_until is 8 and 32 days on), and attempts after a
period's end cost no trigger work for it. Periods past their keep_until are deleted when
the next one is made; `qotd db sync` deletes them all (they are made again on demand).

No rows are filled here: no period exists until a board asks for one. Like 0004's, the
SQLite triggers go with their table when a batch migration rebuilds attempts, posts or
channels, and must be created again (`_sqlite_triggers`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BP = "board_periods"
PT = "board_period_totals"

# the periods of a post's channel and of its workspace: `p` the post, `bp` the period
_OF_POST = (
    "posts p JOIN channels c ON c.id = p.channel_pk "
    f"JOIN {BP} bp ON bp.platform = c.platform AND bp.workspace_id = c.workspace_id "
    "AND bp.channel_pk IN (0, c.id)"
)


def _live(post: str, at: str) -> str:
    """The periods that count an attempt on the sent post `post` first made at `at`."""
    return (f"SELECT bp.id FROM {_OF_POST} WHERE p.id = {post} AND p.status = 'sent' "
            f"AND bp.since <= {at} AND {at} < bp.keep_until")


def _refresh(post: str, users: str) -> list[str]:
    """Recompute the rows of `users` (an SQL list, e.g. `(OLD.user_pk)`) in every period
    of the post's channel and workspace from attempts: their sum since each period began,
    on sent posts of the period's scope."""
    return [
        f"DELETE FROM {PT} WHERE user_pk IN {users} AND period_id IN "
        f"(SELECT bp.id FROM {_OF_POST} WHERE p.id = {post})",
        f"INSERT INTO {PT} (period_id, user_pk, points, first_at, attempts) "
        "SELECT bp.id, a.user_pk, sum(a.points), min(a.first_at), count(*) "
        f"FROM {_OF_POST} "
        f"JOIN attempts a ON a.user_pk IN {users} AND a.first_at >= bp.since "
        "AND a.first_at < bp.keep_until "
        "JOIN posts ap ON ap.id = a.post_id AND ap.status = 'sent' "
        "JOIN channels ac ON ac.id = ap.channel_pk AND ac.platform = bp.platform "
        "AND ac.workspace_id = bp.workspace_id AND bp.channel_pk IN (0, ac.id) "
        f"WHERE p.id = {post} GROUP BY bp.id, a.user_pk",
    ]


def _add(postgres: bool) -> list[str]:
    least = "LEAST" if postgres else "min"
    t = f"{PT}." if postgres else ""
    return [
        f"INSERT INTO {PT} (period_id, user_pk, points, first_at, attempts) "
        "SELECT bp.id, NEW.user_pk, NEW.points, NEW.first_at, 1 "
        f"FROM {_OF_POST} WHERE p.id = NEW.post_id AND p.status = 'sent' "
        "AND bp.since <= NEW.first_at AND NEW.first_at < bp.keep_until "
        "ON CONFLICT (period_id, user_pk) DO UPDATE SET "
        f"points = {t}points + excluded.points, "
        f"first_at = {least}({t}first_at, excluded.first_at), "
        f"attempts = {t}attempts + 1",
    ]


def _shift() -> list[str]:
    return [
        f"UPDATE {PT} SET points = points + (NEW.points - OLD.points) "
        f"WHERE user_pk = NEW.user_pk AND period_id IN ({_live('NEW.post_id', 'NEW.first_at')})",
    ]


def _post_users(post: str) -> str:
    return f"(SELECT a.user_pk FROM attempts a WHERE a.post_id = {post})"


PLACED = ("OLD.post_id <> NEW.post_id OR OLD.user_pk <> NEW.user_pk "
          "OR OLD.first_at <> NEW.first_at")
SENT_CHANGED = "(OLD.status = 'sent') <> (NEW.status = 'sent')"

_SQLITE_NAMES = ("trg_posts_periods_status", "trg_attempts_periods_delete",
                 "trg_attempts_periods_move", "trg_attempts_periods_points",
                 "trg_attempts_periods_insert")


def _sqlite_triggers() -> list[str]:
    def trigger(name: str, when: str, body: list[str]) -> str:
        return f"CREATE TRIGGER {name} {when} BEGIN " + "".join(f"{s}; " for s in body) + "END"

    return [
        trigger("trg_attempts_periods_insert", "AFTER INSERT ON attempts", _add(False)),
        trigger("trg_attempts_periods_points",
                "AFTER UPDATE OF points ON attempts WHEN OLD.points <> NEW.points "
                f"AND NOT ({PLACED})", _shift()),
        trigger("trg_attempts_periods_move",
                f"AFTER UPDATE OF post_id, user_pk, first_at ON attempts WHEN {PLACED}",
                _refresh("OLD.post_id", "(OLD.user_pk)")
                + _refresh("NEW.post_id", "(NEW.user_pk)")),
        trigger("trg_attempts_periods_delete", "AFTER DELETE ON attempts",
                _refresh("OLD.post_id", "(OLD.user_pk)")),
        trigger("trg_posts_periods_status",
                f"AFTER UPDATE OF status ON posts WHEN {SENT_CHANGED}",
                _refresh("NEW.id", _post_users("NEW.id"))),
    ]


def _pg_function(name: str, body: str) -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}    RETURN NULL;\nEND\n$$")


def _statements(statements: list[str], indent: str = "        ") -> str:
    return "".join(f"{indent}{s};\n" for s in statements)


def _pg_triggers() -> list[str]:
    attempts_body = (
        "    IF TG_OP = 'INSERT' THEN\n" + _statements(_add(True))
        + f"    ELSIF TG_OP = 'UPDATE' AND NOT ({PLACED}) THEN\n" + _statements(_shift())
        + "    ELSIF TG_OP = 'UPDATE' THEN\n"
        + _statements(_refresh("OLD.post_id", "(OLD.user_pk)")
                      + _refresh("NEW.post_id", "(NEW.user_pk)"))
        + "    ELSE\n" + _statements(_refresh("OLD.post_id", "(OLD.user_pk)"))
        + "    END IF;\n"
    )
    return [
        _pg_function("qotd_attempts_periods", attempts_body),
        "CREATE TRIGGER trg_attempts_periods_write AFTER INSERT OR DELETE ON attempts "
        "FOR EACH ROW EXECUTE FUNCTION qotd_attempts_periods()",
        "CREATE TRIGGER trg_attempts_periods_update AFTER UPDATE ON attempts FOR EACH ROW "
        f"WHEN (OLD.points <> NEW.points OR {PLACED}) "
        "EXECUTE FUNCTION qotd_attempts_periods()",
        _pg_function("qotd_posts_periods_status",
                     _statements(_refresh("NEW.id", _post_users("NEW.id")), "    ")),
        "CREATE TRIGGER trg_posts_periods_status AFTER UPDATE OF status ON posts "
        f"FOR EACH ROW WHEN ({SENT_CHANGED}) EXECUTE FUNCTION qotd_posts_periods_status()",
    ]


def upgrade() -> None:
    op.create_table(
        BP,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace_id', sa.String(length=64), nullable=False),
        sa.Column('channel_pk', sa.Integer(), nullable=False),
        sa.Column('since', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('keep_until', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_board_periods')),
        sa.UniqueConstraint('platform', 'workspace_id', 'channel_pk', 'since',
                            name=op.f('uq_board_periods_platform_workspace_id_channel_pk_since')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        PT,
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('first_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['period_id'], ['board_periods.id'],
                                name=op.f('fk_board_period_totals_period_id_board_periods'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('period_id', 'user_pk', name=op.f('pk_board_period_totals')),
    )
    with op.batch_alter_table(PT, schema=None) as batch_op:
        batch_op.create_index('ix_board_period_totals_rank',
                              ['period_id', 'points', 'first_at', 'user_pk'], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in [("posts", "trg_posts_periods_status"),
                               ("attempts", "trg_attempts_periods_update"),
                               ("attempts", "trg_attempts_periods_write")]:
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for function in ("qotd_posts_periods_status", "qotd_attempts_periods"):
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for trigger in _SQLITE_NAMES:
            op.execute(f"DROP TRIGGER {trigger}")
    with op.batch_alter_table(PT, schema=None) as batch_op:
        batch_op.drop_index('ix_board_period_totals_rank')
    op.drop_table(PT)
    op.drop_table(BP)
