"""Leaderboard, streak and stats: read queries fed to the pure rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot import messages
from bot.boundary import CommandInput, Reply, error
from bot.rules.inputs import InputError, refusal_text, shown
from bot.rules.ranking import PERIODS, Period, Standing, board, period_start, rank
from bot.rules.streaks import PostMoment, Streak, compute_streak
from bot.service.deps import Deps
from storage.models import PostRow
from storage.queries import AttemptFact
from storage.uow import UnitOfWork

SCOPES = ("channel", "workspace")
_PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "all time"}


def _streaks(
    posts: Sequence[PostRow], facts: Sequence[AttemptFact]
) -> dict[int, Streak]:
    """Each user's streak per channel, keeping the best current one across channels.
    Extra posts (`day` NULL) are passed along but marked: the rule leaves them out."""
    by_channel: dict[int, list[PostMoment]] = defaultdict(list)
    channel_of: dict[int, int] = {}
    for post in posts:
        assert post.posted_at is not None
        by_channel[post.channel_pk].append(
            PostMoment(post.id, post.posted_at, scheduled=post.day is not None)
        )
        channel_of[post.id] = post.channel_pk
    answered: dict[int, dict[int, dict[int, datetime]]] = defaultdict(lambda: defaultdict(dict))
    for fact in facts:
        if fact.post_id in channel_of:
            answered[fact.user_pk][channel_of[fact.post_id]][fact.post_id] = fact.first_at
    out: dict[int, Streak] = {}
    for user_pk, channels in answered.items():
        best = Streak(0, 0)
        for channel_pk, attempts in channels.items():
            streak = compute_streak(by_channel[channel_pk], attempts)
            best = Streak(max(best.current, streak.current), max(best.best, streak.best))
        out[user_pk] = best
    return out


async def _user_streak(uow: UnitOfWork, channel_pk: int, user_pk: int) -> Streak:
    posts = await uow.posts.sent([channel_pk])
    facts = await uow.queries.attempt_facts([channel_pk], user_pk)
    return _streaks(posts, facts).get(user_pk, Streak(0, 0))


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
    try:
        board_request(command.options)
    except InputError as exc:
        return list(exc.problems)
    return []


async def leaderboard(deps: Deps, command: CommandInput) -> list[Reply]:
    try:
        period, scope = board_request(command.options)
    except InputError as exc:
        return [error(refusal_text(exc.problems))]
    ref = command.channel
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        zone = channel.timezone if channel is not None else "UTC"
        if scope == "workspace":
            pks = await uow.queries.workspace_channels(ref.platform, ref.workspace_id)
        else:
            pks = [channel.id] if channel is not None else []
        since = period_start(_period(period), now, zone)
        totals = await uow.queries.totals(pks, since) if pks else []
        streaks = _streaks(await uow.posts.sent(pks), await uow.queries.attempt_facts(pks))
    standings = [
        Standing(
            user_id=t.user_id,
            display_name=t.display_name,
            points=t.points,
            current_streak=streaks.get(t.user_pk, Streak(0, 0)).current,
            first_answer_at=t.first_answer_at,
        )
        for t in totals
    ]
    head, mine = board(rank(standings), command.actor.user_id)
    where = "this workspace" if scope == "workspace" else "this channel"
    title = f"Leaderboard: {_PERIOD_TITLES[period]}, {where}"
    return [messages.leaderboard(title, head, mine, command.actor.user_id)]


def _period(value: str) -> Period:
    periods: dict[str, Period] = {"week": "week", "month": "month", "all": "all"}
    return periods[value]


async def _channel_and_user(uow: UnitOfWork, command: CommandInput) -> tuple[int, int] | None:
    """The channel's and the target user's keys (`[user]` option, else the caller), or
    None when either has never been seen: nothing to count, and nothing is created."""
    target = command.user or command.actor
    ref = command.channel
    channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
    user = await uow.users.find(ref.platform, ref.workspace_id, target.user_id)
    return None if channel is None or user is None else (channel.id, user.id)


async def _name(uow: UnitOfWork, command: CommandInput) -> str:
    """Whom a streak or stats reply is about: the name that came with the command, else
    the stored one (the platform did not say, or nothing visible was left of it), else
    the user id."""
    target = command.user or command.actor
    if target.display_name:
        return target.display_name
    ref = command.channel
    user = await uow.users.find(ref.platform, ref.workspace_id, target.user_id)
    return user.display_name if user is not None else target.user_id


async def streak(deps: Deps, command: CommandInput) -> list[Reply]:
    async with deps.db.uow() as uow:
        name = await _name(uow, command)
        keys = await _channel_and_user(uow, command)
        if keys is None:
            return [messages.streak_reply(name, 0, 0)]
        result = await _user_streak(uow, *keys)
    return [messages.streak_reply(name, result.current, result.best)]


async def stats(deps: Deps, command: CommandInput) -> list[Reply]:
    async with deps.db.uow() as uow:
        name = await _name(uow, command)
        keys = await _channel_and_user(uow, command)
        if keys is None:
            return [messages.stats_reply(name, 0, 0, [], 0, 0)]
        channel_pk, user_pk = keys
        facts = await uow.queries.attempt_facts([channel_pk], user_pk)
        result = await _user_streak(uow, channel_pk, user_pk)
    judged = [f for f in facts if f.correct is not None]
    by_topic: dict[str, list[AttemptFact]] = defaultdict(list)
    for fact in judged:
        by_topic[fact.topic].append(fact)
    topics = [
        messages.TopicLine(topic, len(items), sum(1 for f in items if f.correct))
        for topic, items in sorted(by_topic.items())
    ]
    correct = sum(1 for f in judged if f.correct)
    return [
        messages.stats_reply(name, len(judged), correct, topics, result.current, result.best)
    ]

