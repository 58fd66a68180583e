"""Leaderboard, streak and stats: read queries fed to the pure rules."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot import messages
from bot.boundary import CommandInput, Reply, error
from bot.rules.inputs import InputError, problems_of, refusal_text, shown
from bot.rules.ranking import (
    PERIOD_KEPT,
    PERIODS,
    Period,
    Ranked,
    Standing,
    board,
    period_start,
    place_in_group,
    rank,
)
from bot.rules.streaks import PostMoment, Streak, compute_streak
from bot.service import review
from bot.service.deps import Deps
from storage.queries import (
    AttemptFact,
    BoardRow,
    FirstAttempt,
    PeriodScope,
    SentPost,
    TieGroup,
    UserTotal,
)
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SCOPES = ("channel", "workspace")
TOP = 10
STREAK_WINDOW = 16  # scheduled posts per channel read first for a current streak
_PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "all time"}


Answered = dict[int, dict[int, dict[int, datetime]]]  # user -> channel -> post -> first_at


def _by_channel(
    posts: Sequence[SentPost], facts: Sequence[FirstAttempt | AttemptFact],
    wanted: set[int] | None = None,
) -> tuple[dict[int, list[PostMoment]], Answered]:
    """The posts as the streak rule takes them, per channel, and each user's first
    answers per channel and post (only `wanted` users, when given)."""
    by_channel: dict[int, list[PostMoment]] = defaultdict(list)
    channel_of: dict[int, int] = {}
    for post in posts:
        by_channel[post.channel_pk].append(PostMoment(post.id, post.posted_at, post.scheduled))
        channel_of[post.id] = post.channel_pk
    answered: Answered = defaultdict(lambda: defaultdict(dict))
    for fact in facts:
        if fact.post_id in channel_of and (wanted is None or fact.user_pk in wanted):
            answered[fact.user_pk][channel_of[fact.post_id]][fact.post_id] = fact.first_at
    return by_channel, answered


def _streaks(
    posts: Sequence[SentPost], facts: Sequence[FirstAttempt | AttemptFact]
) -> dict[int, Streak]:
    """Each user's streak per channel, keeping the best current one across channels.
    Extra posts (`day` NULL) are passed along but marked: the rule leaves them out."""
    by_channel, answered = _by_channel(posts, facts)
    out: dict[int, Streak] = {}
    for user_pk, channels in answered.items():
        best = Streak(0, 0)
        for channel_pk, attempts in channels.items():
            streak = compute_streak(by_channel[channel_pk], attempts)
            best = Streak(max(best.current, streak.current), max(best.best, streak.best))
        out[user_pk] = best
    return out


async def user_streak(uow: UnitOfWork, channel_pk: int, user_pk: int) -> Streak:
    """The member's current and best streak in the channel, from its whole history (one
    statement: the channel's sent posts and the member's first answers)."""
    posts, facts = await uow.queries.user_streak_facts(channel_pk, user_pk)
    return _streaks(posts, facts).get(user_pk, Streak(0, 0))


async def _current_streaks(
    uow: UnitOfWork, channel_pks: Sequence[int], user_pks: Sequence[int]
) -> dict[int, int]:
    """The users' current streaks (the best across these channels), exactly as `_streaks`
    computes them from all history, reading only recent attempts.

    A current streak is the run that ends at a channel's latest scheduled posts, so the
    rule is applied to each channel's last `window` scheduled posts. Where a user's run
    there reaches back to the window's first post, it may go on further: that user is
    computed again with a window four times as large, until the run starts inside the
    window or the window holds the channel's whole history."""
    out: dict[int, int] = {}
    pending = set(user_pks)
    window = STREAK_WINDOW
    while pending:
        posts, complete, facts = await uow.queries.recent_streak_facts(
            channel_pks, sorted(pending), window
        )
        if not posts:
            break
        moments, answered = _by_channel(posts, facts)
        unresolved = set()
        for user_pk in pending:
            best, longer = 0, False
            for pk, attempts in answered.get(user_pk, {}).items():
                run = compute_streak(moments[pk], attempts).current
                # no break inside the window: the run may go on before it
                longer = longer or (pk not in complete and run >= window - 1)
                best = max(best, run)
            if longer:
                unresolved.add(user_pk)
            else:
                out[user_pk] = best
        pending = unresolved
        window *= 4
    return out


async def _capped_streaks(
    uow: UnitOfWork, channel_pks: Sequence[int], user_pks: Sequence[int], cap: int,
) -> dict[int, int]:
    """min(current streak, `cap`) for each user, from one read of each channel's last
    `cap + 1` scheduled posts: a run shorter than `cap` there is the whole streak (it
    starts inside the window); a run of `cap` or more means a streak of at least `cap`.
    Ranking a member against a caller whose streak is `cap - 1` needs no more. Only for
    a board summed from attempts (no totals to count a tie group in the database)."""
    # a tie group is often hundreds of members on a few posts: every answer to those
    # posts is read, and the members' picked here
    posts, _, facts = await uow.queries.recent_streak_facts(
        channel_pks, user_pks, cap + 1, every_answer=len(user_pks) > 50
    )
    moments, answered = _by_channel(posts, facts, set(user_pks))
    out = dict.fromkeys(user_pks, 0)
    for user_pk, channels in answered.items():
        best = max(compute_streak(moments[pk], attempts).current
                   for pk, attempts in channels.items())
        out[user_pk] = min(best, cap)
    return out


def board_request(options: Mapping[str, str]) -> tuple[str, str]:
    """(period, scope), defaults week and channel; InputError naming each bad one."""
    period = options.get("period", "week").strip().lower()
    scope = options.get("scope", "channel").strip().lower()
    problems = []
    if period not in PERIODS:
        problems.append(f"period must be one of {', '.join(PERIODS)} (got {shown(period)})")
    if scope not in SCOPES:
        problems.append(f"scope must be one of {', '.join(SCOPES)} (got {shown(scope)})")
    if problems:
        raise InputError(*problems)
    return period, scope


async def board_problems(deps: Deps, command: CommandInput) -> list[str]:
    return problems_of(lambda: board_request(command.options))


async def leaderboard(deps: Deps, command: CommandInput) -> list[Reply]:
    try:
        period, scope = board_request(command.options)
    except InputError as exc:
        return [error(refusal_text(exc.problems))]
    ref = command.channel
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        # the channel (or the workspace's channels) and the caller: one lookup
        place = await uow.queries.board_place(
            ref.platform, ref.workspace_id, ref.channel_id, command.actor.user_id,
            workspace=scope == "workspace",
        )
        pks, caller_pk = place.channel_pks, place.caller_pk
        since = period_start(_period(period), now, place.zone)
        rows: list[BoardRow] = []
        # the totals the board was read from: (kind, key), None when summed from attempts
        totals: tuple[str, tuple[Any, ...]] | None = None
        if pks and since is None:
            # all time: the totals the database keeps per channel and per workspace
            workspace = (ref.platform, ref.workspace_id) if scope == "workspace" else None
            # the caller's tie group is counted in the database, not read (tie_group)
            rows = await uow.queries.board_all_time(
                place.here_pk if workspace is None else None, workspace, caller_pk, TOP,
                tie_group=False,
            )
            totals = ("workspace", workspace) if workspace else ("channel", (place.here_pk,))
        elif pks and since is not None:
            scope_pk = 0 if scope == "workspace" else place.here_pk
            assert scope_pk is not None  # a channel scope with channels has its own
            rows, period_id = await _period_board(
                uow, (ref.platform, ref.workspace_id, scope_pk), pks, since,
                since + PERIOD_KEPT[period], caller_pk, now)
            totals = ("period", (period_id,)) if period_id is not None else None
        # exact streaks only where they are shown or order what is shown: the members
        # within the top by points (their whole tie group at the boundary) and the caller
        shown_pks = {r.total.user_pk for r in rows if r.points_rank <= TOP}
        own = next((r for r in rows if r.total.user_pk == caller_pk), None)
        if own is not None:
            shown_pks.add(own.total.user_pk)
        streaks = await _current_streaks(uow, pks, sorted(shown_pks)) if shown_pks else {}
        # how many of the caller's tie group below the top are ahead of the caller (None:
        # placed here from their capped streaks)
        ahead: int | None = None
        if own is not None and own.points_rank > TOP:
            # the tie group only places the caller: whether each member's streak is
            # below, equal to or above the caller's is all it takes
            mine_streak = streaks.get(own.total.user_pk, 0)
            if totals is not None:
                # counted by the database in the totals the board was read from (whose
                # read brought only the caller's row of the group)
                ahead = await uow.queries.tie_group_ahead(
                    pks, TieGroup(totals[0], totals[1], own.total.points),
                    own.total.user_pk, mine_streak, own.total.first_answer_at)
            else:
                # the board was summed from attempts this once (no totals name the group;
                # its rows came with it)
                tied = sorted(r.total.user_pk for r in rows if r.points_rank == own.points_rank
                              and r.total.user_pk != caller_pk)
                if tied:
                    streaks.update(await _capped_streaks(uow, pks, tied, mine_streak + 1))
    def standing(total: UserTotal) -> Standing:
        return Standing(user_id=total.user_id, display_name=total.display_name,
                        points=total.points, current_streak=streaks.get(total.user_pk, 0),
                        first_answer_at=total.first_answer_at)

    top_group = [standing(r.total) for r in rows if r.points_rank <= TOP]
    head, mine = board(rank(top_group), command.actor.user_id, TOP)
    if mine is None and own is not None:
        mine = _own_rank(rows, own, standing(own.total), streaks, head, ahead)
    where = "this workspace" if scope == "workspace" else "this channel"
    title = f"Leaderboard: {_PERIOD_TITLES[period]}, {where}"
    return [messages.leaderboard(title, head, mine, command.actor.user_id)]


async def _period_board(
    uow: UnitOfWork, scope: PeriodScope, pks: Sequence[int], since: datetime,
    keep_until: datetime, caller_pk: int | None, now: datetime,
) -> tuple[list[BoardRow], int | None]:
    """A week or month board from its period's totals (migration 0005), made first when
    this is the period's first board: of the caller's tie group only the caller's row (the
    group is counted by Queries.tie_group_ahead). If the totals cannot be made now (the
    writers hold the tables), the board is summed from attempts this once, with the whole
    tie group. With the rows, the period read (None when summed)."""
    period_id = await uow.queries.live_period(scope, since, keep_until, now)
    if period_id is None:
        await uow.session.rollback()  # the making starts a transaction of its own
        period_id = await uow.queries.make_period(scope, since, keep_until, now)
        if period_id is None:
            log.info("board period of %s from %s: tables busy, summed this time", scope, since)
            await uow.session.rollback()
            return await uow.queries.board(pks, since, caller_pk, TOP), None
        await uow.commit()
        await uow.queries.analyze_periods()
        await uow.commit()  # statistics are kept only if their transaction commits
    return (await uow.queries.board_of_period(period_id, caller_pk, TOP, tie_group=False),
            period_id)


def _own_rank(
    rows: Sequence[BoardRow], own: BoardRow, mine: Standing, streaks: Mapping[int, int],
    head: Sequence[Ranked], ahead: int | None = None,
) -> Ranked | None:
    """The caller's entry below the top: the members with more points (counted by the
    database) come first, then the tie-breaks place the caller in their own tie group:
    `ahead` of them when the database counted it (Queries.tie_group_ahead), else by
    comparing the members' keys (place_in_group)."""
    if any(r.standing.user_id == mine.user_id for r in head):
        return None
    if ahead is not None:
        return Ranked(rank=own.points_rank + ahead, standing=mine)
    others = [(r.total.points, streaks.get(r.total.user_pk, 0), r.total.first_answer_at)
              for r in rows
              if r.points_rank == own.points_rank and r.total.user_pk != own.total.user_pk]
    return Ranked(rank=own.points_rank - 1 + place_in_group(mine, others), standing=mine)


def _period(value: str) -> Period:
    periods: dict[str, Period] = {"week": "week", "month": "month", "all": "all"}
    return periods[value]


async def _keys_and_name(uow: UnitOfWork, command: CommandInput
                         ) -> tuple[tuple[int, int] | None, str]:
    """The channel's and the target user's keys (`[user]` option, else the caller), or
    None when either has never been seen (nothing to count, and nothing is created); and
    whom the reply is about: the name that came with the command, else the stored one
    (the platform did not say, or nothing visible was left of it), else the user id.
    One statement (Queries.member_keys), no row loaded."""
    target = command.user or command.actor
    ref = command.channel
    found = await uow.queries.member_keys(ref.platform, ref.workspace_id, ref.channel_id,
                                          target.user_id)
    name = target.display_name or found.display_name or target.user_id
    if found.channel_pk is None or found.user_pk is None:
        return None, name
    return (found.channel_pk, found.user_pk), name


async def streak(deps: Deps, command: CommandInput) -> list[Reply]:
    async with deps.db.uow() as uow:
        keys, name = await _keys_and_name(uow, command)
        if keys is None:
            return [messages.streak_reply(name, 0, 0)]
        result = await user_streak(uow, *keys)
    return [messages.streak_reply(name, result.current, result.best)]


async def stats(deps: Deps, command: CommandInput) -> list[Reply]:
    async with deps.db.uow() as uow:
        keys, name = await _keys_and_name(uow, command)
        if keys is None:
            return [messages.stats_reply(name, 0, 0, [], 0, 0)]
        channel_pk, user_pk = keys
        facts = await uow.queries.attempt_facts([channel_pk], user_pk)
        result = await user_streak(uow, channel_pk, user_pk)
        # review mastery is private: only in the caller's own stats
        own = command.user is None or command.user.user_id == command.actor.user_id
        mastery: list[str] = []
        if own:
            now = deps.clock.now()
            await review.sync_user(uow, user_pk, now)
            mastery = review.mastery_lines(await review.mastery_of(uow, user_pk, now))
            await uow.commit()
    judged = [f for f in facts if f.correct is not None]
    by_topic: dict[str, list[AttemptFact]] = defaultdict(list)
    for fact in judged:
        by_topic[fact.topic].append(fact)
    topics = [
        messages.TopicLine(topic, len(items), sum(1 for f in items if f.correct))
        for topic, items in sorted(by_topic.items())
    ]
    correct = sum(1 for f in judged if f.correct)
    reply = messages.stats_reply(name, len(judged), correct, topics, result.current,
                                 result.best)
    if mastery:
        body = "\n".join([reply.message.body, *mastery])
        reply = replace(reply, message=replace(reply.message, body=body))
    return [reply]

