"""Read models for results, leaderboards and stats: plain rows, no ORM objects, so the
service can hand them to the pure rules as they are."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    TextClause,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import SQLITE_BUSY_TIMEOUT_MS
from storage.models import (
    AttemptRow,
    BoardPeriodRow,
    ChannelRow,
    ChannelTotalRow,
    PeriodTotalRow,
    PostRow,
    QuestionRow,
    UserRow,
    WorkspaceTotalRow,
)
from storage.repositories import SENT
from storage.types import UTCDateTime, stored_utc

# The all-time totals from attempts (the same SQL as migration 0004's fill): what
# `qotd db sync` runs when the tables are in doubt, and what the bench's loader runs.
REBUILD_TOTALS = (
    "DELETE FROM board_channel_totals",
    "INSERT INTO board_channel_totals (channel_pk, user_pk, points, first_at, attempts) "
    "SELECT p.channel_pk, a.user_pk, sum(a.points), min(a.first_at), count(*) "
    "FROM attempts a JOIN posts p ON p.id = a.post_id WHERE p.status = 'sent' "
    "GROUP BY p.channel_pk, a.user_pk",
    "DELETE FROM board_workspace_totals",
    "INSERT INTO board_workspace_totals "
    "(platform, workspace_id, user_pk, points, first_at, attempts) "
    "SELECT c.platform, c.workspace_id, a.user_pk, sum(a.points), min(a.first_at), count(*) "
    "FROM attempts a JOIN posts p ON p.id = a.post_id JOIN channels c ON c.id = p.channel_pk "
    "WHERE p.status = 'sent' GROUP BY c.platform, c.workspace_id, a.user_pk",
    # the week and month periods (migration 0005) are made again when next asked for
    "DELETE FROM board_period_totals",
    "DELETE FROM board_periods",
)


# how long making a board period waits for the writers (then the board is summed once)
PERIOD_LOCK_WAIT_MS = 500

# a board period's scope: (platform, workspace_id, channel_pk), channel_pk 0 for the
# whole workspace
PeriodScope = tuple[str, str, int]


@dataclass(frozen=True)
class TieGroup:
    """The members with `points` on a board read from totals, named by those totals:
    `kind` "channel" (key (channel_pk,)), "workspace" ((platform, workspace_id)) or
    "period" ((period_id,))."""

    kind: str
    key: tuple[Any, ...]
    points: float


# each totals table by the `kind` that names it, with the columns that key one scope
TotalsTable = type[ChannelTotalRow] | type[WorkspaceTotalRow] | type[PeriodTotalRow]
_TOTALS: dict[str, tuple[TotalsTable, tuple[str, ...]]] = {
    "channel": (ChannelTotalRow, ("channel_pk",)),
    "workspace": (WorkspaceTotalRow, ("platform", "workspace_id")),
    "period": (PeriodTotalRow, ("period_id",)),
}


def _totals_scope(kind: str, columns: Any, prefix: str = "") -> list[ColumnElement[bool]]:
    """One scope of a totals table (`columns`: its ORM class or an alias's `.c`), each
    key column equal to the bound parameter of its name (after `prefix`)."""
    return [getattr(columns, name) == bindparam(prefix + name) for name in _TOTALS[kind][1]]


@dataclass(frozen=True)
class UserTotal:
    user_pk: int
    user_id: str
    display_name: str
    points: float
    first_answer_at: datetime


@dataclass(frozen=True)
class BoardRow:
    """One member's total on a board, with `points_rank`: 1 + how many members have
    strictly more points (the rank before the streak and first-answer tie-breaks). The
    caller's tie-group members below the top come without names (user_id and
    display_name ""): they only place the caller."""

    total: UserTotal
    points_rank: int


@dataclass(frozen=True)
class BoardPlace:
    """Where a board is asked for, from one lookup: the scope's channel keys, the asking
    channel's key and time zone (None and "UTC" when it was never seen) and the caller's
    user key (None when never seen)."""

    channel_pks: list[int]
    here_pk: int | None
    zone: str
    caller_pk: int | None


@dataclass(frozen=True)
class SentPost:
    """A sent post as the streak rule needs it (no ORM row, no question)."""

    id: int
    channel_pk: int
    posted_at: datetime
    scheduled: bool


@dataclass(frozen=True)
class MemberKeys:
    """A channel's and a user's keys, and the user's stored name; None: never seen."""

    channel_pk: int | None
    user_pk: int | None
    display_name: str | None


@dataclass(frozen=True)
class FirstAttempt:
    post_id: int
    user_pk: int
    first_at: datetime


@dataclass(frozen=True)
class AttemptFact:
    post_id: int
    user_pk: int
    first_at: datetime
    correct: bool | None
    topic: str


class Queries:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def board_place(
        self, platform: str, workspace_id: str, channel_id: str, user_id: str,
        workspace: bool,
    ) -> BoardPlace:
        """The channel (or, with `workspace`, every channel of its workspace) and the
        caller, in one statement of plain columns (no ORM rows to build)."""
        params = {"platform": platform, "workspace_id": workspace_id,
                  "channel_id": channel_id, "user_id": user_id}
        rows = (await self.session.execute(_place_statement(workspace), params)).all()
        here = next((r for r in rows if r[1]), None)
        return BoardPlace(
            channel_pks=[int(r[0]) for r in rows],
            here_pk=int(here[0]) if here is not None else None,
            zone=str(here[2]) if here is not None else "UTC",
            caller_pk=int(rows[0][3]) if rows and rows[0][3] is not None else None,
        )

    async def board_all_time(
        self, channel_pk: int | None, workspace: tuple[str, str] | None,
        caller_pk: int | None, top: int = 10, tie_group: bool = True,
    ) -> list[BoardRow]:
        """`board(..., since=None)` from the totals tables (migration 0004) instead of
        every attempt of the scope: the same rows, ranks and order. The scope is one
        channel (`channel_pk`) or a workspace ((platform, workspace_id)).

        Index ranges of ix_board_*_totals_rank only: the `top`-th highest points (the
        cut: everyone from it up is within the top by rank, ties included), the members
        from the cut up, ranked among themselves, and the caller's tie group, whose
        members share one rank: 1 + the members with more points, counted once.

        `tie_group` False: of the caller's tie group only the caller's own row (with that
        rank), for a caller placed in it by `tie_group_ahead` instead of by its rows."""
        params: dict[str, Any] = {"caller": caller_pk}
        if workspace is not None:
            params["platform"], params["workspace_id"] = workspace
        else:
            params["channel_pk"] = channel_pk
        stmt = _totals_statement("workspace" if workspace is not None else "channel",
                                 caller_pk is not None, top, self.dialect == "postgresql",
                                 tie_group)
        return _board_rows((await self.session.execute(stmt, params)).all())

    async def live_period(self, scope: PeriodScope, since: datetime, keep_until: datetime,
                          now: datetime) -> int | None:
        """The board period of `scope` from `since` whose totals hold this board (kept
        until `keep_until` at least, and still kept at `now`), or None: make it."""
        platform, workspace_id, channel_pk = scope
        params = {"platform": platform, "workspace_id": workspace_id,
                  "channel_pk": channel_pk, "since": since, "keep_until": keep_until,
                  "now": now}
        found = (await self.session.execute(_live_period_statement(), params)
                 ).scalar_one_or_none()
        return None if found is None else int(found)

    async def analyze_periods(self) -> None:
        """PostgreSQL: fresh statistics for the period totals, run once a period is made.
        Without them the planner takes a new period's rows for a handful (the table was
        filled since autovacuum last looked), and the tie-group count, sized by that
        guess, loops over every member of the group for every post it reads: seconds
        instead of milliseconds on a large board. ANALYZE samples the table and takes no
        lock that writers wait for. SQLite's planner does not use such statistics here."""
        if self.dialect == "postgresql":
            await self.session.execute(text("ANALYZE board_period_totals"))

    async def make_period(self, scope: PeriodScope, since: datetime, keep_until: datetime,
                          now: datetime) -> int | None:
        """Make the board period of `scope` from `since` and fill its totals with the sum
        of its attempts, in this transaction (commit to keep; it should be the first
        statement of its transaction); periods no longer kept at `now` go. From the
        commit on the triggers of migration 0005 keep the totals.

        The fill must see every attempt that the triggers will not: writers of attempts
        and posts wait for it (SQLite: the write lock, taken by the first statement;
        PostgreSQL: a table lock, which also waits for the writers in flight). None when
        that lock is not had within PERIOD_LOCK_WAIT_MS (lock_timeout on PostgreSQL,
        busy_timeout on SQLite): the caller sums the board itself this time, rather than
        queueing behind writers or deadlocking with one."""
        s = self.session
        if self.dialect == "postgresql":
            try:
                async with s.begin_nested():
                    await s.execute(text(f"SET LOCAL lock_timeout = '{PERIOD_LOCK_WAIT_MS}ms'"))
                    await s.execute(text(
                        "LOCK TABLE posts, attempts IN SHARE ROW EXCLUSIVE MODE"))
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                    raise
                return None
            return await self._fill_period(scope, since, keep_until, now)
        # SQLite: the first write below takes the write lock; it is waited for briefly.
        # The pooled connection gets its usual wait back before it can go back to the pool
        await s.execute(text(f"PRAGMA busy_timeout = {PERIOD_LOCK_WAIT_MS}"))
        try:
            try:
                return await self._fill_period(scope, since, keep_until, now)
            finally:
                await s.execute(text(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            await s.rollback()
            return None

    async def _fill_period(self, scope: PeriodScope, since: datetime, keep_until: datetime,
                           now: datetime) -> int:
        s = self.session
        stale = select(BoardPeriodRow.id).where(
            or_(BoardPeriodRow.keep_until <= now,
                and_(*_period_scope(scope), BoardPeriodRow.since == since)))
        await s.execute(delete(PeriodTotalRow).where(PeriodTotalRow.period_id.in_(stale)))
        await s.execute(delete(BoardPeriodRow).where(BoardPeriodRow.id.in_(stale)))
        platform, workspace_id, channel_pk = scope
        period_id = (await s.execute(
            insert(BoardPeriodRow).values(platform=platform, workspace_id=workspace_id,
                                          channel_pk=channel_pk, since=since,
                                          keep_until=keep_until)
            .returning(BoardPeriodRow.id))).scalar_one()
        await s.execute(_period_fill(channel_pk != 0), {
            "period_id": period_id, "platform": platform, "workspace_id": workspace_id,
            "channel_pk": channel_pk, "since": since, "keep_until": keep_until,
        })
        return int(period_id)

    async def board_of_period(self, period_id: int, caller_pk: int | None, top: int = 10,
                              tie_group: bool = True) -> list[BoardRow]:
        """`board(..., since)` from a period's totals: the same rows, ranks and order
        (as `board_all_time` is for all time, `tie_group` too)."""
        stmt = _totals_statement("period", caller_pk is not None, top,
                                 self.dialect == "postgresql", tie_group)
        params = {"period_id": period_id, "caller": caller_pk}
        return _board_rows((await self.session.execute(stmt, params)).all())

    async def rebuild_totals(self) -> None:
        """Recompute both totals tables from attempts, in the caller's transaction (commit
        to keep). On PostgreSQL the tables the triggers read are locked against writers
        first, so no attempt changes between the delete and the sums."""
        if self.dialect == "postgresql":
            await self.session.execute(text(
                "LOCK TABLE attempts, posts, channels, board_channel_totals, "
                "board_workspace_totals, board_periods, board_period_totals "
                "IN SHARE ROW EXCLUSIVE MODE"
            ))
        for statement in REBUILD_TOTALS:
            await self.session.execute(text(statement))

    async def board(
        self, channel_pks: Sequence[int], since: datetime | None, caller_pk: int | None,
        top: int = 10,
    ) -> list[BoardRow]:
        """The board's candidates, ranked by points in the database: every member whose
        points rank is within `top` (so the whole tie group at the boundary, whose order
        the streak decides), plus every member tied on points with the caller. One
        statement: the totals are summed once, so equal points compare equal.

        Reads attempts through ix_attempts_board (post_id, first_at, user_pk, points):
        the posts of the scope, and for a week or month only the attempts since then."""
        stmt = _board_statement(since is not None, caller_pk is not None, top)
        params = {"pks": list(channel_pks), "since": since, "caller": caller_pk}
        return _board_rows((await self.session.execute(stmt, params)).all())

    async def sent_posts(self, channel_pks: Sequence[int]) -> list[SentPost]:
        """The channels' sent posts in posting order, as tuples (ix_posts_board)."""
        stmt = (
            select(PostRow.id, PostRow.channel_pk, PostRow.posted_at, PostRow.day.is_not(None))
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .order_by(PostRow.posted_at, PostRow.id)
        )
        rows = (await self.session.execute(stmt)).all()
        out = []
        for pk, channel_pk, posted_at, scheduled in rows:
            assert posted_at is not None
            out.append(SentPost(pk, channel_pk, stored_utc(posted_at), bool(scheduled)))
        return out

    async def user_streak_facts(
        self, channel_pk: int, user_pk: int
    ) -> tuple[list[SentPost], list[FirstAttempt]]:
        """`sent_posts([channel_pk])` and `first_attempts([channel_pk], [user_pk])` in one
        statement (one round trip, built once): what a member's streak, current and
        best, is computed from. The posts in posting order."""
        params = {"channel_pk": channel_pk, "user_pk": user_pk}
        rows = (await self.session.execute(_user_streak_statement(), params)).all()
        posts: list[SentPost] = []
        facts: list[FirstAttempt] = []
        for kind, pk, key, at, flag in rows:
            if kind == 0:
                posts.append(SentPost(pk, key, stored_utc(at), bool(flag)))
            else:
                facts.append(FirstAttempt(pk, key, stored_utc(at)))
        posts.sort(key=lambda post: (post.posted_at, post.id))
        return posts, facts

    async def member_keys(
        self, platform: str, workspace_id: str, channel_id: str, user_id: str
    ) -> MemberKeys:
        """The channel's and the user's keys and the user's stored display name (None
        for what was never seen), in one statement of index lookups: what `/streak` and
        `/qotd stats` need before they count, without loading either row."""
        params = {"platform": platform, "workspace_id": workspace_id,
                  "channel_id": channel_id, "user_id": user_id}
        channel_pk, user_pk, name = (
            await self.session.execute(_member_keys_statement(), params)).one()
        return MemberKeys(channel_pk, user_pk, name)

    async def recent_streak_facts(
        self, channel_pks: Sequence[int], user_pks: Sequence[int], scheduled: int,
        every_answer: bool = False, group: TieGroup | None = None,
    ) -> tuple[list[SentPost], set[int], list[FirstAttempt]]:
        """Each channel's sent posts from its `scheduled`-th last scheduled post on, in
        posting order; the channels whose whole history that is (no scheduled post
        before); and the users' first answers to those posts. One statement (one round
        trip per streak window).

        `every_answer`: every answer to those posts instead, for the caller to pick the
        users from: cheaper when they are hundreds and the posts few (a range of
        ix_attempts_board per post instead of a seek per user and post).

        `group`: the answers of a tie group's members instead (`user_pks` unused), whom
        the statement selects itself from the totals (a range of their rank index): no
        list of hundreds of keys to send, and only their answers come back."""
        params: dict[str, Any] = {"pks": list(channel_pks), "users": list(user_pks),
                                  "scheduled": scheduled, "before": scheduled - 1}
        if group is not None:
            mode = f"group-{group.kind}"
            names = (f"group_{name}" for name in _TOTALS[group.kind][1])
            params.update(zip(names, group.key, strict=True))
            params["group_points"] = group.points
        else:
            mode = "all" if every_answer else "users" if user_pks else "none"
        stmt = _streak_statement(mode, self.dialect == "postgresql")
        rows = (await self.session.execute(stmt, params)).all()
        posts: list[SentPost] = []
        complete: set[int] = set()
        facts: list[FirstAttempt] = []
        for kind, pk, key, at, flag in rows:
            if kind == 0:
                posts.append(SentPost(pk, key, stored_utc(at), bool(flag)))
            elif kind == 2:
                if flag:
                    complete.add(pk)
            else:
                facts.append(FirstAttempt(pk, key, stored_utc(at)))
        posts.sort(key=lambda post: (post.posted_at, post.id))
        return posts, complete, facts

    async def tie_group_ahead(
        self, channel_pks: Sequence[int], group: TieGroup, caller_pk: int, streak: int,
        first_at: datetime,
    ) -> int:
        """How many members of the caller's tie group (`group`: same points, on the totals
        the board was read from) are ahead of the caller, whose current streak is `streak`
        and first answer `first_at`: a member is ahead with a longer current streak, or an
        equal one and an earlier first answer (bot.rules.ranking.place_in_group). One
        statement; no member's streak comes back, since only how it compares matters.

        Ahead = the members answering before the caller with a streak >= `streak`, plus
        those answering at or after them with a streak >= `streak` + 1. Whether a current
        streak (bot.rules.streaks.compute_streak) is at least k reads a channel's last
        k + 1 scheduled posts: counted back from the latest (r = 0, 1, ...), with an answer
        counted when made before the next scheduled post (the latest has no deadline),
        streak >= k iff the posts r = 1 .. k-1 are all counted and r = 0 or r = k is (an
        unanswered latest post does not break the run before it). Across channels the
        best one counts, so it is an OR over channels; k = 0 always holds."""
        if streak < 0:
            raise ValueError("a current streak is never negative")
        params: dict[str, Any] = {
            "pks": list(channel_pks), "caller": caller_pk, "group_points": group.points,
            "first": first_at, "streak": streak, "before": streak - 1, "reach": streak + 1,
        }
        names = (f"group_{name}" for name in _TOTALS[group.kind][1])
        params.update(zip(names, group.key, strict=True))
        stmt = _ahead_statement(group.kind, self.dialect == "postgresql")
        return int((await self.session.execute(stmt, params)).scalar_one())

    async def first_attempts(
        self, channel_pks: Sequence[int], user_pks: Sequence[int],
        posted_since: datetime | None = None,
    ) -> list[FirstAttempt]:
        """When each of these users first answered each sent post of these channels
        (posted since `posted_since`, if given), read through ix_attempts_user
        (user_pk, post_id, first_at)."""
        if not user_pks:
            return []
        stmt = (
            select(AttemptRow.post_id, AttemptRow.user_pk, AttemptRow.first_at)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .where(
                AttemptRow.user_pk.in_(user_pks),
                PostRow.channel_pk.in_(channel_pks),
                PostRow.status == SENT,
            )
        )
        if posted_since is not None:
            stmt = stmt.where(PostRow.posted_at >= posted_since)
        rows = (await self.session.execute(stmt)).all()
        return [FirstAttempt(p, u, stored_utc(f)) for p, u, f in rows]

    async def attempt_facts(
        self, channel_pks: Sequence[int], user_pk: int | None = None
    ) -> list[AttemptFact]:
        stmt = (
            select(
                AttemptRow.post_id,
                AttemptRow.user_pk,
                AttemptRow.first_at,
                AttemptRow.correct,
                QuestionRow.topic,
            )
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(QuestionRow, QuestionRow.id == PostRow.question_id)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
        )
        if user_pk is not None:
            stmt = stmt.where(AttemptRow.user_pk == user_pk)
        rows = (await self.session.execute(stmt)).all()
        return [
            AttemptFact(post_id=p, user_pk=u, first_at=stored_utc(f), correct=c, topic=t)
            for p, u, f, c, t in rows
        ]


# The leaderboard's statements are built once per shape, with bound parameters: building
# a statement of CTEs and subqueries costs more Python than the database takes to run it.


def _period_scope(scope: PeriodScope) -> list[ColumnElement[bool]]:
    platform, workspace_id, channel_pk = scope
    return [BoardPeriodRow.platform == platform, BoardPeriodRow.workspace_id == workspace_id,
            BoardPeriodRow.channel_pk == channel_pk]


@functools.cache
def _period_fill(one_channel: bool) -> TextClause:
    """A period's totals summed from attempts: the attempts first made in [since,
    keep_until) on sent posts of the channel, or of every channel of the workspace (read
    through ix_posts_channel_status, then ix_attempts_board per post)."""
    channels = (":channel_pk" if one_channel else  # (no parentheses: not a scalar)
                "SELECT c.id FROM channels c WHERE c.platform = :platform "
                "AND c.workspace_id = :workspace_id")
    return text(
        "INSERT INTO board_period_totals (period_id, user_pk, points, first_at, attempts) "
        "SELECT :period_id, a.user_pk, sum(a.points), min(a.first_at), count(*) "
        "FROM posts p JOIN attempts a ON a.post_id = p.id "
        f"WHERE p.channel_pk IN ({channels}) AND p.status = 'sent' "
        "AND a.first_at >= :since AND a.first_at < :keep_until GROUP BY a.user_pk"
    ).bindparams(bindparam("since", type_=UTCDateTime),
                 bindparam("keep_until", type_=UTCDateTime))


@functools.cache
def _live_period_statement() -> Select[Any]:
    """Built once (the board's hot path): a new select per call cost more Python than
    the index lookup it runs."""
    return select(BoardPeriodRow.id).where(
        BoardPeriodRow.platform == bindparam("platform"),
        BoardPeriodRow.workspace_id == bindparam("workspace_id"),
        BoardPeriodRow.channel_pk == bindparam("channel_pk"),
        BoardPeriodRow.since == bindparam("since", type_=UTCDateTime),
        BoardPeriodRow.keep_until >= bindparam("keep_until", type_=UTCDateTime),
        BoardPeriodRow.keep_until > bindparam("now", type_=UTCDateTime),
    )


@functools.cache
def _place_statement(workspace: bool) -> Select[Any]:
    caller = (
        select(UserRow.id)
        .where(UserRow.platform == bindparam("platform"),
               UserRow.workspace_id == bindparam("workspace_id"),
               UserRow.user_id == bindparam("user_id"))
        .scalar_subquery()
    )
    stmt = select(
        ChannelRow.id, ChannelRow.channel_id == bindparam("channel_id"), ChannelRow.timezone,
        caller,
    ).where(ChannelRow.platform == bindparam("platform"),
            ChannelRow.workspace_id == bindparam("workspace_id"))
    if not workspace:
        stmt = stmt.where(ChannelRow.channel_id == bindparam("channel_id"))
    return stmt


@functools.cache
def _totals_statement(kind: str, with_caller: bool, top: int, postgres: bool,
                      tie_group: bool = True) -> Select[Any]:
    """The board from a totals table: `kind` "channel" and "workspace" (all time,
    migration 0004) or "period" (a week or month, migration 0005). `tie_group` False:
    the caller's row alone, not every row with the caller's points."""
    t, _ = _TOTALS[kind]
    g = t.__table__.alias("above")
    scope = _totals_scope(kind, t)
    scope_above = _totals_scope(kind, g.c)
    lowest = select(func.min(t.points)).where(*scope).correlate(None).scalar_subquery()
    cut = func.coalesce(
        select(t.points).where(*scope).order_by(t.points.desc()).limit(1)
        .offset(top - 1).correlate(None).scalar_subquery(),
        lowest,
    )
    # everyone with more points than a member from the cut up is from the cut up too, so
    # the rank among these rows is the rank on the whole board. PostgreSQL says it with
    # FETCH ... WITH TIES, so that it plans for those few rows: it would guess a third of
    # the scope for `points >= cut` (and price the statement high enough to JIT it)
    top_rows = select(t.user_pk, t.points, t.first_at).where(*scope)
    if postgres:
        top_rows = top_rows.order_by(t.points.desc()).fetch(top, with_ties=True)
    else:
        top_rows = top_rows.where(t.points >= cut)
    top_part = top_rows.subquery()
    parts = [
        select(
            top_part.c.user_pk, top_part.c.points, top_part.c.first_at,
            func.rank().over(order_by=top_part.c.points.desc()).label("points_rank"),
        )
    ]
    if with_caller:
        mine = (
            select(t.points).where(*scope, t.user_pk == bindparam("caller")).correlate(None)
            .scalar_subquery()
        )
        ahead = (
            select(func.count()).select_from(g).where(*scope_above, g.c.points > mine)
            .scalar_subquery()
        )
        parts.append(
            select(t.user_pk, t.points, t.first_at, (ahead + 1).label("points_rank"))
            .where(*scope, t.points == mine if tie_group else t.user_pk == bindparam("caller"))
        )
    candidates = (union(*parts) if len(parts) > 1 else parts[0]).subquery("board_top")
    # the names by primary key, row by row: a join would be planned for the thousands of
    # rows PostgreSQL guesses `points >= cut` keeps (a hash of every user), not the few
    named = _shown(candidates.c.points_rank, candidates.c.user_pk, with_caller, top)
    name = {
        column: case((named, select(column).where(UserRow.id == candidates.c.user_pk)
                      .scalar_subquery()))
        for column in (UserRow.user_id, UserRow.display_name)
    }
    user_id = name[UserRow.user_id].label("user_id")
    return select(
        candidates.c.user_pk,
        user_id,
        name[UserRow.display_name].label("display_name"),
        candidates.c.points,
        candidates.c.first_at,
        candidates.c.points_rank,
    ).order_by(candidates.c.points_rank, candidates.c.first_at, user_id,
               candidates.c.user_pk)


def _shown(points_rank: Any, user_pk: Any, with_caller: bool, top: int) -> Any:
    """Whose names a board's rows carry: the top's and the caller's. The rest of the
    caller's tie group (often hundreds) only places the caller, by points, streak and
    first answer, so their names are not read (NULL)."""
    if not with_caller:
        return literal(True)
    return or_(points_rank <= top, user_pk == bindparam("caller"))


@functools.cache
def _board_statement(with_since: bool, with_caller: bool, top: int) -> Select[Any]:
    per_user = (
        select(
            AttemptRow.user_pk.label("user_pk"),
            func.sum(AttemptRow.points).label("points"),
            func.min(AttemptRow.first_at).label("first_at"),
        )
        .join(PostRow, PostRow.id == AttemptRow.post_id)
        .where(PostRow.channel_pk.in_(bindparam("pks", expanding=True)),
               PostRow.status == SENT)
        .group_by(AttemptRow.user_pk)
    )
    if with_since:
        per_user = per_user.where(AttemptRow.first_at >= bindparam("since"))
    totals = per_user.cte("board_totals")
    ranked = select(
        totals.c.user_pk,
        totals.c.points,
        totals.c.first_at,
        func.rank().over(order_by=totals.c.points.desc()).label("points_rank"),
    ).cte("board_ranked")
    keep = ranked.c.points_rank <= top
    if with_caller:
        mine = (
            select(ranked.c.points).where(ranked.c.user_pk == bindparam("caller"))
            .scalar_subquery()
        )
        keep = or_(keep, ranked.c.points == mine)
    named = _shown(ranked.c.points_rank, ranked.c.user_pk, with_caller, top)
    user_id = case((named, UserRow.user_id)).label("user_id")
    return (
        select(
            ranked.c.user_pk,
            user_id,
            case((named, UserRow.display_name)).label("display_name"),
            ranked.c.points,
            ranked.c.first_at,
            ranked.c.points_rank,
        )
        .join(UserRow, UserRow.id == ranked.c.user_pk)
        .where(keep)
        .order_by(ranked.c.points_rank, ranked.c.first_at, user_id, ranked.c.user_pk)
    )


@functools.cache
def _user_streak_statement() -> CompoundSelect[Any]:
    """Rows of two kinds: 0 a sent post of the channel (id, channel, posted_at,
    scheduled), from ix_posts_channel_status; 1 the user's first answer to one of them
    (post, user, first_at), from ix_attempts_user."""
    channel = bindparam("channel_pk", type_=Integer)
    posts = select(literal(0).label("kind"), PostRow.id, PostRow.channel_pk,
                   PostRow.posted_at, PostRow.day.is_not(None)).where(
        PostRow.channel_pk == channel, PostRow.status == SENT)
    answers = (
        select(literal(1), AttemptRow.post_id, AttemptRow.user_pk, AttemptRow.first_at,
               literal(False))
        .join(PostRow, PostRow.id == AttemptRow.post_id)
        .where(AttemptRow.user_pk == bindparam("user_pk", type_=Integer),
               PostRow.channel_pk == channel, PostRow.status == SENT)
    )
    return union_all(posts, answers)


@functools.cache
def _member_keys_statement() -> Select[Any]:
    """Three scalar subqueries, each a lookup of a unique index: the channel's key, the
    user's key and the user's stored display name (NULL where there is no such row)."""
    where_user = (UserRow.platform == bindparam("platform"),
                  UserRow.workspace_id == bindparam("workspace_id"),
                  UserRow.user_id == bindparam("user_id"))
    channel = select(ChannelRow.id).where(
        ChannelRow.platform == bindparam("platform"),
        ChannelRow.workspace_id == bindparam("workspace_id"),
        ChannelRow.channel_id == bindparam("channel_id"),
    ).scalar_subquery()
    user = select(UserRow.id).where(*where_user).scalar_subquery()
    name = select(UserRow.display_name).where(*where_user).scalar_subquery()
    return select(channel.label("channel_pk"), user.label("user_pk"), name.label("name"))


@functools.cache
def _streak_statement(answers: str, postgres: bool) -> CompoundSelect[Any]:
    """Each channel's sent posts from its `scheduled`-th last scheduled post on, with a
    flag for the channels whose whole history that is, then the users' first answers to
    those posts. The cut is a short backward range of ix_posts_channel_status per channel
    (no window over the channel's whole history); the answers are read by (user, post)
    through ix_attempts_user."""

    def scheduled_posts() -> Select[Any]:
        return select(PostRow.posted_at).where(
            PostRow.channel_pk == ChannelRow.id, PostRow.status == SENT,
            PostRow.day.is_not(None),
        )

    def nth_latest(offset: Any) -> Any:
        return (
            scheduled_posts().order_by(PostRow.posted_at.desc(), PostRow.id.desc())
            .limit(1).offset(offset).scalar_subquery()
        )

    earliest = (
        select(func.min(PostRow.posted_at)).where(
            PostRow.channel_pk == ChannelRow.id, PostRow.status == SENT,
            PostRow.day.is_not(None),
        ).scalar_subquery()
    )
    cut = (
        select(
            ChannelRow.id.label("channel_pk"),
            func.coalesce(nth_latest(bindparam("before", type_=Integer)), earliest)
            .label("since"),
        )
        .where(ChannelRow.id.in_(bindparam("pks", expanding=True)))
        .cte("streak_cut")
        # computed once per channel: inlined, PostgreSQL evaluated the cut's subqueries
        # again for every sent post of the scope (a year's posts, 18,250 of them)
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    window = select(
        PostRow.id.label("id"),
        PostRow.channel_pk.label("channel_pk"),
        PostRow.posted_at.label("posted_at"),
        PostRow.day.is_not(None).label("scheduled"),
    )
    if postgres:
        # a range of ix_posts_channel_status per channel (LATERAL; OFFSET 0 keeps it
        # from being flattened into a join): joined, PostgreSQL guessed a third of all
        # posts and read them all to keep the window's few
        per_channel = window.where(
            PostRow.channel_pk == cut.c.channel_pk, PostRow.status == SENT,
            PostRow.posted_at >= cut.c.since,
        ).offset(0).lateral("streak_window")
        recent = select(*per_channel.c).select_from(cut).join(per_channel, true()).cte(
            "streak_posts")
    else:
        recent = (
            window.join(cut, cut.c.channel_pk == PostRow.channel_pk)
            .where(PostRow.status == SENT, PostRow.posted_at >= cut.c.since)
            .cte("streak_posts")
        )
    # rows of three kinds: 0 a post, 2 a channel and whether the window holds its whole
    # history (a row of its own, so that it is computed once per channel, not per post),
    # 1 an answer
    parts: list[Any] = [
        select(literal(0).label("kind"), recent.c.id, recent.c.channel_pk, recent.c.posted_at,
               recent.c.scheduled),
        select(
            literal(2), ChannelRow.id, ChannelRow.id, earliest,
            nth_latest(bindparam("scheduled", type_=Integer)).is_(None),
        ).where(ChannelRow.id.in_(bindparam("pks", expanding=True))),
    ]
    if answers != "none":
        facts = select(
            literal(1), AttemptRow.post_id, AttemptRow.user_pk, AttemptRow.first_at,
            literal(False),
        ).where(AttemptRow.post_id.in_(select(recent.c.id)))
        if answers == "users":
            facts = facts.where(AttemptRow.user_pk.in_(bindparam("users", expanding=True)))
        elif answers.startswith("group-"):
            # by post (ix_attempts_board), each answer checked against the group's members:
            # `+ 0` keeps SQLite from seeking every member's whole history through
            # ix_attempts_user instead (hundreds of members, each with a year of answers)
            facts = facts.where((AttemptRow.user_pk + 0).in_(_group_members(answers[6:])))
        parts.append(facts)
    return union_all(*parts)


@functools.cache
def _ahead_statement(kind: str, postgres: bool) -> Select[Any]:
    """Queries.tie_group_ahead's count. Each channel's scheduled posts from its
    (`reach` + 1)-th latest on, numbered back from the latest (r) with their deadline
    (the next scheduled post's time), found as the streak window's are (a short backward
    range of ix_posts_channel_status per channel); the group's members' answers to them
    (ix_attempts_board per post, each checked against the members); per member and
    channel whether streak >= `streak` and >= `streak` + 1 hold; the members of the group
    ahead counted from the totals' rank index."""
    t, _ = _TOTALS[kind]
    cut = (
        select(
            ChannelRow.id.label("channel_pk"),
            func.coalesce(_nth_latest_scheduled(bindparam("reach", type_=Integer)),
                          _earliest_scheduled()).label("since"),
        )
        .where(ChannelRow.id.in_(bindparam("pks", expanding=True)))
        .cte("tie_cut")
        # computed once per channel, and read first: inlined, SQLite walked each
        # channel's whole history and evaluated the cut again for every post of it
        .prefix_with("MATERIALIZED", dialect="postgresql")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )
    newest_first = (PostRow.posted_at.desc(), PostRow.id.desc())
    numbered = select(
        PostRow.id.label("id"),
        PostRow.channel_pk.label("channel_pk"),
        (func.row_number().over(partition_by=PostRow.channel_pk, order_by=newest_first) - 1)
        .label("r"),
        func.lag(PostRow.posted_at).over(partition_by=PostRow.channel_pk,
                                         order_by=newest_first).label("deadline"),
    )
    if postgres:
        # a range of the posts index per channel, as in the streak window (LATERAL;
        # OFFSET 0 keeps it from being flattened into a join over every post)
        per_channel = numbered.where(
            PostRow.channel_pk == cut.c.channel_pk, PostRow.status == SENT,
            PostRow.day.is_not(None), PostRow.posted_at >= cut.c.since,
        ).offset(0).lateral("tie_window")
        window = select(*per_channel.c).select_from(cut).join(per_channel, true()).cte(
            "tie_posts")
    else:
        window = (
            numbered.join(cut, cut.c.channel_pk == PostRow.channel_pk)
            .where(PostRow.status == SENT, PostRow.day.is_not(None),
                   PostRow.posted_at >= cut.c.since)
            .cte("tie_posts")
        )
    r = window.c.r
    # the members' counted answers: by post (ix_attempts_board), each checked against the
    # group. SQLite: `+ 0`, not a seek of every member's whole history through
    # ix_attempts_user. PostgreSQL: per post (LATERAL, OFFSET 0); joined, it guessed the
    # group (a period's totals, unanalysed) one row and hashed it against every attempt
    if postgres:
        answers = (
            select(AttemptRow.user_pk.label("user_pk"), AttemptRow.first_at.label("first_at"))
            .where(AttemptRow.post_id == window.c.id).offset(0).lateral("tie_answers")
        )
        answer_user: Any = answers.c.user_pk
        answer_first: Any = answers.c.first_at
        answered = select(answer_user.label("user_pk"), window.c.channel_pk, r).select_from(
            window).join(answers, true())
        member = answer_user.in_(_group_members(kind))
    else:
        answer_user, answer_first = AttemptRow.user_pk, AttemptRow.first_at
        answered = select(answer_user.label("user_pk"), window.c.channel_pk, r).select_from(
            window).join(AttemptRow, AttemptRow.post_id == window.c.id)
        member = (answer_user + 0).in_(_group_members(kind))
    counted = (
        answered
        .where(r <= bindparam("reach", type_=Integer),
               or_(window.c.deadline.is_(None), answer_first < window.c.deadline), member)
        .cte("tie_counted")
    )
    c = counted.c

    def at_least(k: str, inner: str) -> Any:
        """streak >= :k in one channel: the posts r = 1 .. :inner (= :k - 1) all
        counted, and the latest or the k-th back."""
        run = func.sum(case((and_(c.r >= 1, c.r <= bindparam(inner, type_=Integer)), 1),
                            else_=0))
        ends = func.max(case((or_(c.r == 0, c.r == bindparam(k, type_=Integer)), 1),
                             else_=0))
        return case((and_(run == bindparam(inner, type_=Integer), ends == 1), 1), else_=0)

    per_channel_ok = (
        select(c.user_pk, at_least("streak", "before").label("level"),
               at_least("reach", "streak").label("above"))
        .group_by(c.user_pk, c.channel_pk)
        .subquery("tie_channels")
    )
    best = (
        select(per_channel_ok.c.user_pk, func.max(per_channel_ok.c.level).label("level"),
               func.max(per_channel_ok.c.above).label("above"))
        .group_by(per_channel_ok.c.user_pk)
        .subquery("tie_best")
    )
    first = bindparam("first", type_=UTCDateTime)
    ahead = or_(
        and_(t.first_at < first,
             or_(bindparam("streak", type_=Integer) == 0, best.c.level == 1)),
        and_(t.first_at >= first, best.c.above == 1),
    )
    return (
        select(func.count())
        .select_from(t)
        .outerjoin(best, best.c.user_pk == t.user_pk)
        .where(*_totals_scope(kind, t, "group_"), t.points == bindparam("group_points"),
               t.user_pk != bindparam("caller"), ahead)
    )


def _nth_latest_scheduled(offset: Any) -> Any:
    """The posted_at of a channel's `offset`-th latest scheduled sent post (0 the latest;
    NULL when it has fewer), correlated to the enclosing query's channels row."""
    return (
        select(PostRow.posted_at)
        .where(PostRow.channel_pk == ChannelRow.id, PostRow.status == SENT,
               PostRow.day.is_not(None))
        .order_by(PostRow.posted_at.desc(), PostRow.id.desc())
        .limit(1).offset(offset).scalar_subquery()
    )


def _earliest_scheduled() -> Any:
    return (
        select(func.min(PostRow.posted_at))
        .where(PostRow.channel_pk == ChannelRow.id, PostRow.status == SENT,
               PostRow.day.is_not(None))
        .scalar_subquery()
    )


def _group_members(kind: str) -> Select[Any]:
    t, _ = _TOTALS[kind]
    return select(t.user_pk).where(*_totals_scope(kind, t, "group_"),
                                   t.points == bindparam("group_points"))


def _board_rows(rows: Sequence[Any]) -> list[BoardRow]:
    return [
        BoardRow(
            UserTotal(
                user_pk=pk,
                user_id=uid or "",  # NULL: a tied member's name, not read
                display_name=name or "",
                points=float(points or 0.0),
                first_answer_at=stored_utc(first),
            ),
            points_rank=int(prank),
        )
        for pk, uid, name, points, first, prank in rows
    ]


