"""Channel setup: schedule, pause, resume, skip, post, status, topics.

Every handler validates all of its input before writing anything, and refusals are
ephemeral errors that name the valid form.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.boundary import CommandInput, Reply, error, info
from bot.rules.schedule import Schedule, ScheduleError, next_slot, parse_schedule, slot_day
from bot.service import posting
from bot.service.choosing import candidates_for, left_in_cycle
from bot.service.deps import Deps, schedule_of
from content.model import DIFFICULTIES
from storage.models import ChannelRow
from storage.repositories import SKIPPED
from storage.uow import UnitOfWork

REVEAL_FORM = "reveal must be a whole number of hours from 1 to 23"
DIFFICULTY_FORM = (
    "difficulty must be a list like easy,medium or weights like easy=2,medium=1,hard=0 "
    f"(difficulties: {', '.join(DIFFICULTIES)})"
)


async def _channel(uow: UnitOfWork, deps: Deps, command: CommandInput) -> ChannelRow:
    ref = command.channel
    return await uow.channels.get_or_create(
        ref.platform, ref.workspace_id, ref.channel_id, deps.clock.now()
    )


def _local(when: datetime, zone: str) -> str:
    return f"{when.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} {zone}"


async def _open_slot_from(uow: UnitOfWork, channel_pk: int, sched: Schedule,
                          slot: datetime) -> datetime | None:
    """From `slot` on, the first slot whose local day is not taken yet (a post or a skip
    claims a day); None if 60 in a row are taken, which cannot happen in practice."""
    for _ in range(60):
        if await uow.posts.on_day(channel_pk, slot_day(sched, slot)) is None:
            return slot
        slot = next_slot(sched, slot)
    return None


async def _next_open_slot(uow: UnitOfWork, channel_pk: int, sched: Schedule,
                          after: datetime) -> datetime:
    """The next post's time: a `qotd post` or `qotd skip` may have taken the next slot's
    day, and announcing that slot would be wrong."""
    first = next_slot(sched, after)
    return await _open_slot_from(uow, channel_pk, sched, first) or first


async def schedule(deps: Deps, command: CommandInput) -> list[Reply]:
    opts = command.options
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        try:
            sched = parse_schedule(
                opts.get("time"), opts.get("timezone"), opts.get("days"),
                current=schedule_of(channel) if channel.scheduled else None,
            )
        except ScheduleError as exc:
            return [error(str(exc))]
        reveal_hours = channel.reveal_hours
        if "reveal" in opts:
            raw = opts["reveal"].strip().lower().removesuffix("h")
            if not raw.isdigit() or not 1 <= int(raw) <= 23:
                return [error(f"{REVEAL_FORM} (got {opts['reveal']!r})")]
            reveal_hours = float(int(raw))
        channel.post_time = f"{sched.time:%H:%M}"
        channel.timezone = sched.timezone
        channel.days = ",".join(sched.days)
        channel.reveal_hours = reveal_hours
        channel.scheduled = True
        channel.paused = False
        channel.active_since = now
        channel.next_slot_at = next_slot(sched, now)
        channel.admin_user_id = command.actor.user_id
        await uow.announce_wake(channel.next_slot_at)
        await uow.commit()
        pk, delay = channel.id, deps.reveal_delay(channel)
        first = await _next_open_slot(uow, pk, sched, now)
        planned = channel.next_slot_at
    await deps.wake(planned)
    return [
        info(
            f"Scheduled: {sched.describe()}. Next post {_local(first, sched.timezone)}; "
            f"answers are revealed {delay.total_seconds() / 3600:g} h after each post.",
            title="Schedule saved",
        )
    ]


async def pause(deps: Deps, command: CommandInput) -> list[Reply]:
    return await _set_paused(deps, command, True)


async def resume(deps: Deps, command: CommandInput) -> list[Reply]:
    return await _set_paused(deps, command, False)


async def _set_paused(deps: Deps, command: CommandInput, paused: bool) -> list[Reply]:
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        if not channel.scheduled:
            return [error("This channel has no schedule yet: run `qotd schedule` first.")]
        if channel.paused == paused:
            return [info(f"Already {'paused' if paused else 'running'}.")]
        channel.paused = paused
        sched = schedule_of(channel)
        if paused:
            channel.next_slot_at = None
        else:
            channel.active_since = now  # a slot that passed while paused is not caught up
            channel.next_slot_at = next_slot(sched, now)
            channel.admin_user_id = command.actor.user_id
            await uow.announce_wake(channel.next_slot_at)
        await uow.commit()
        pk = channel.id
        upcoming = await _next_open_slot(uow, pk, sched, now)
    if not paused:
        await deps.wake(upcoming)
    if paused:
        return [info("Paused: no questions until `qotd resume`. Streaks are not affected.")]
    return [info(f"Resumed. Next post {_local(upcoming, sched.timezone)}.")]


async def skip(deps: Deps, command: CommandInput) -> list[Reply]:
    """Skip today's slot if it has not been posted, else the next scheduled slot."""
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        if not channel.scheduled:
            return [error("This channel has no schedule yet: nothing to skip.")]
        sched = schedule_of(channel)
        today = now.astimezone(ZoneInfo(sched.timezone)).date()
        slot = await _open_slot_from(
            uow, channel.id, sched, posting.slot_on(sched, today) or next_slot(sched, now)
        )
        if slot is None:  # pragma: no cover - 60 scheduled days all claimed is impossible
            return [error("Could not find a slot to skip.")]
        day = slot_day(sched, slot)
        await uow.posts.claim(channel.id, day, SKIPPED, now, slot_at=slot)
        await uow.commit()
    return [info(f"Skipped the question of {day:%a %Y-%m-%d}. Streaks are not affected.")]


async def post_now(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        post_id = await posting.claim_now(deps, channel, uow, now)
        if post_id is None:  # leaving without commit rolls back the claim: nothing written
            return [error("No question is eligible: check `qotd topics` (the filters may "
                          "exclude every question) or the bank.")]
        post = await uow.posts.get(post_id)
        assert post is not None
        number, day = post.number, post.day
        await uow.commit()
    if not await posting.send_post(deps, post_id, token=1, resend=False):
        return [error(f"Question #{number} is claimed but sending failed; it will be retried.")]
    claim = f" (today's question, {day:%Y-%m-%d})" if day is not None else " (an extra post)"
    return [info(f"Posted question #{number}{claim}.")]


async def status(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        if channel is None:
            return [info("Not set up here yet. An admin can run `qotd schedule`.", title="Status")]
        left = await left_in_cycle(uow, channel)
        lines = []
        if channel.scheduled:
            sched = schedule_of(channel)
            lines.append(f"Schedule: {sched.describe()}")
            lines.append(f"State: {'paused' if channel.paused else 'running'}")
            if not channel.paused:
                upcoming = await _next_open_slot(uow, channel.id, sched, now)
                lines.append(f"Next post: {_local(upcoming, sched.timezone)}")
        else:
            lines.append("Schedule: none (only `qotd post` posts here)")
        lines.append(f"Reveal: {deps.reveal_delay(channel).total_seconds() / 3600:g} h after posting")
        lines.append(f"Questions left in cycle {channel.cycle}: {left}")
        lines.append(f"Filters: {_filters(channel)}")
        if await uow.posts.has_pending(channel.id):
            lines.append("A post is waiting to be re-sent.")
        latest = await uow.posts.latest_sent(channel.id)
        if latest is not None and latest.reveal_error:
            lines.append(f"The reveal of #{latest.number} was not posted "
                         f"({latest.reveal_error}); its points are closed.")
    return [info("\n".join(lines), title="Status")]


def _filters(channel: ChannelRow) -> str:
    parts = []
    if channel.include_topics:
        parts.append(f"only {', '.join(channel.include_topics)}")
    if channel.exclude_topics:
        parts.append(f"not {', '.join(channel.exclude_topics)}")
    if channel.difficulty_weights is not None:
        weights = channel.difficulty_weights
        parts.append(
            "difficulty " + ",".join(f"{d}={weights.get(d, 1.0):g}" for d in DIFFICULTIES)
        )
    return "; ".join(parts) or "none (all topics, all difficulties)"


_WEIGHT = re.compile(r"^(easy|medium|hard)\s*=\s*(\d+(?:\.\d+)?)$")


def parse_difficulty(text: str) -> dict[str, float]:
    """`easy,medium` (the rest 0) or `easy=2,medium=1,hard=0` (the rest 1)."""
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError(DIFFICULTY_FORM)
    if all("=" not in t for t in items):
        unknown = [t for t in items if t not in DIFFICULTIES]
        if unknown:
            raise ValueError(f"unknown difficulty {unknown[0]!r}: {DIFFICULTY_FORM}")
        return {d: (1.0 if d in items else 0.0) for d in DIFFICULTIES}
    weights: dict[str, float] = dict.fromkeys(DIFFICULTIES, 1.0)
    for item in items:
        match = _WEIGHT.match(item)
        if not match:
            raise ValueError(f"cannot read {item!r}: {DIFFICULTY_FORM}")
        weights[match.group(1)] = float(match.group(2))
    if not any(weights.values()):
        raise ValueError(f"at least one difficulty needs a weight above 0: {DIFFICULTY_FORM}")
    return weights


def _topic_list(text: str, known: list[str]) -> list[str]:
    by_lower = {t.lower(): t for t in known}
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in wanted if t.lower() not in by_lower]
    if unknown:
        raise ValueError(
            f"unknown topic {unknown[0]!r}; valid topics: {', '.join(known) or '(none yet)'}"
        )
    return sorted({by_lower[t.lower()] for t in wanted})


async def topics(deps: Deps, command: CommandInput) -> list[Reply]:
    opts = command.options
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        known = await uow.questions.topics()
        if not opts:
            return [
                info(
                    f"Topics: {', '.join(known) or '(none)'}\nFilters: {_filters(channel)}",
                    title="Topics",
                )
            ]
        unknown_opts = sorted(set(opts) - {"include", "exclude", "difficulty", "reset"})
        if unknown_opts:
            return [error(f"unknown option {unknown_opts[0]!r}: use include, exclude, "
                          "difficulty or reset")]
        try:
            if "reset" in opts:
                if opts["reset"].strip().lower() not in ("yes", "true", "1"):
                    raise ValueError("reset must be yes")
                include: list[str] = []
                exclude: list[str] = []
                weights: dict[str, float] | None = None
            else:
                include = list(channel.include_topics or [])
                exclude = list(channel.exclude_topics or [])
                weights = channel.difficulty_weights
            if "include" in opts:
                include = _topic_list(opts["include"], known)
            if "exclude" in opts:
                exclude = _topic_list(opts["exclude"], known)
            if "difficulty" in opts:
                weights = parse_difficulty(opts["difficulty"])
        except ValueError as exc:
            return [error(str(exc))]
        channel.include_topics = include
        channel.exclude_topics = exclude
        channel.difficulty_weights = weights
        if not candidates_for(channel, await uow.questions.pickable()):
            return [error("Those filters leave no question to post; nothing was changed.")]
        await uow.commit()
        summary = _filters(channel)
    return [info(f"Filters saved: {summary}", title="Topics")]
