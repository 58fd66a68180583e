"""Channel setup: schedule, pause, resume, skip, post, status, topics.

Every handler validates all of its input before writing anything, and refusals are
ephemeral errors that name the valid form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.boundary import ANSWER_MODES, CommandInput, Reply, error, info
from bot.rules import zones
from bot.rules.adaptive import TARGET, parse_adaptive
from bot.rules.inputs import InputError, problems_of, refusal_text, shown, whole_number
from bot.rules.schedule import (
    Schedule,
    ScheduleError,
    next_slot,
    parse_schedule,
    slot_day,
    slot_on_day,
)
from bot.service import posting
from bot.service.choosing import left_in_cycle
from bot.service.deps import Deps, schedule_of
from bot.service.filters import Filters, filters_request
from content.model import DIFFICULTIES
from storage.bank_reads import day_taken, status_read
from storage.models import ChannelRow
from storage.repositories import SKIPPED
from storage.uow import UnitOfWork

REVEAL_FORM = "reveal must be a whole number of hours from 1 to 23"
ANSWERS_FORM = f"answers must be one of {', '.join(ANSWER_MODES)}"
ANSWER_MODE_LINES = {
    "buttons": "Answers: buttons (one per option on the post; a vote is private)",
    "reactions": "Answers: reactions (the bot adds one per option once the post is out)",
}


async def _channel(uow: UnitOfWork, deps: Deps, command: CommandInput) -> ChannelRow:
    ref = command.channel
    return await uow.channels.get_or_create(
        ref.platform, ref.workspace_id, ref.channel_id, deps.clock.now()
    )


def _local(when: datetime, zone: str) -> str:
    return f"{when.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} {zone}"


async def _open_slot_from(uow: UnitOfWork, channel_pk: int, sched: Schedule,
                          slot: datetime, tries: int = 60) -> datetime | None:
    """From `slot` on, the first slot whose local day is not taken yet (a post or a skip
    claims a day); None if `tries` (60) in a row are taken, which cannot happen in
    practice."""
    for _ in range(tries):
        if not await day_taken(uow.session, channel_pk, slot_day(sched, slot)):
            return slot
        slot = next_slot(sched, slot)
    return None


async def _next_open_slot(uow: UnitOfWork, channel_pk: int, sched: Schedule,
                          after: datetime) -> datetime:
    """The next post's time: a `qotd post` or `qotd skip` may have taken the next slot's
    day, and announcing that slot would be wrong."""
    first = next_slot(sched, after)
    return await _open_slot_from(uow, channel_pk, sched, first) or first


def parse_reveal(text: str) -> float:
    """`reveal:5` or `reveal:5h`: whole hours from 1 to 23."""
    hours = whole_number(text.strip().lower().removesuffix("h"), low=1, high=23)
    if hours is None:
        raise InputError(f"{REVEAL_FORM} (got {shown(text.strip())})")
    return float(hours)


def parse_answer_mode(text: str) -> str:
    """`answers:buttons` or `answers:reactions` (any case)."""
    mode = text.strip().lower()
    if mode not in ANSWER_MODES:
        raise InputError(f"{ANSWERS_FORM} (got {shown(text.strip())})")
    return mode


@dataclass(frozen=True)
class ScheduleRequest:
    schedule: Schedule
    reveal_hours: float | None
    answer_mode: str


def schedule_request(
    opts: Mapping[str, str], current: Schedule | None, reveal_hours: float | None,
    answer_mode: str = "buttons",
) -> ScheduleRequest:
    """The schedule, reveal delay and answer mode the options ask for (left-out ones
    keep their current value). Raises InputError with one line per bad option."""
    problems: list[str] = []
    sched: Schedule | None = None
    try:
        sched = parse_schedule(opts.get("time"), opts.get("timezone"), opts.get("days"),
                               current=current)
    except ScheduleError as exc:
        problems.extend(exc.problems)
    if "reveal" in opts:
        try:
            reveal_hours = parse_reveal(opts["reveal"])
        except InputError as exc:
            problems.extend(exc.problems)
    if "answers" in opts:
        try:
            answer_mode = parse_answer_mode(opts["answers"])
        except InputError as exc:
            problems.extend(exc.problems)
    if sched is None or problems:
        raise InputError(*problems)
    return ScheduleRequest(sched, reveal_hours, answer_mode)


async def schedule_problems(deps: Deps, command: CommandInput) -> list[str]:
    """What `schedule` would refuse in these options (for a refusal that lists all)."""
    return problems_of(lambda: schedule_request(command.options, None, None))


async def schedule(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        try:
            request = schedule_request(
                command.options, schedule_of(channel) if channel.scheduled else None,
                channel.reveal_hours, channel.answer_mode,
            )
        except InputError as exc:
            return [error(refusal_text(exc.problems))]
        sched, reveal_hours = request.schedule, request.reveal_hours
        channel.answer_mode = request.answer_mode
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
            f"answers are revealed {delay.total_seconds() / 3600:g} h after each post.\n"
            f"{ANSWER_MODE_LINES[request.answer_mode]}.",
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
            uow, channel.id, sched, slot_on_day(sched, today) or next_slot(sched, now)
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
        claimed = await posting.claim_now(deps, channel, uow, now)
        if claimed is None:  # leaving without commit rolls back the draw: nothing written
            return [error("No question is eligible: check `qotd topics` (the filters may "
                          "exclude every question) or the bank.")]
        post_id, number, day = claimed.post_id, claimed.number, claimed.day
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
        sched = schedule_of(channel) if channel.scheduled else None
        # the next post is the next slot unless a `qotd post` or `skip` took its day
        first = next_slot(sched, now) if sched is not None and not channel.paused else None
        # the bank check, the cycle's asked keys, the posts' facts and whether the
        # next slot's day is taken: one statement
        read = await status_read(uow.session, channel.id, channel.cycle,
                                 day=None if sched is None or first is None
                                 else slot_day(sched, first),
                                 sentinel=deps.bank.sentinel())
        left = await left_in_cycle(uow, channel, deps.bank, read)
        lines = []
        if sched is not None:
            lines.append(f"Schedule: {sched.describe()}")
            legacy = zones.refusal(sched.timezone)
            if legacy is not None:  # saved before such names were refused
                lines.append(f"Time zone: {legacy} (`qotd schedule timezone:…` changes it)")
            lines.append(f"State: {'paused' if channel.paused else 'running'}")
            if first is not None:
                # as `_next_open_slot`: the first of 60 slots whose day is not taken
                upcoming = first if not read.day_taken else await _open_slot_from(
                    uow, channel.id, sched, next_slot(sched, first), tries=59) or first
                lines.append(f"Next post: {_local(upcoming, sched.timezone)}")
        else:
            lines.append("Schedule: none (only `qotd post` posts here)")
        lines.append(f"Reveal: {deps.reveal_delay(channel).total_seconds() / 3600:g} h after posting")
        lines.append(ANSWER_MODE_LINES.get(channel.answer_mode, ANSWER_MODE_LINES["buttons"]))
        lines.append(f"Questions left in cycle {channel.cycle}: {left}")
        lines.append(f"Filters: {_filters(channel)}")
        if channel.adaptive:
            lines.append(f"Adaptive mix: on (aims for about {TARGET:.0%} correct)")
        facts = read.facts
        if facts.pending:
            lines.append("A post is waiting to be re-sent.")
        if facts.latest_reveal_error:
            lines.append(f"The reveal of #{facts.latest_number} was not posted "
                         f"({facts.latest_reveal_error}); its points are closed.")
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


async def topics_problems(deps: Deps, command: CommandInput) -> list[str]:
    """What `topics` would refuse in these options (for a refusal that lists all)."""
    async with deps.db.uow() as uow:
        known = await uow.questions.topics()
    return problems_of(lambda: _topics_request(command.options, known,
                                               Filters([], [], None), False))


def _topics_request(opts: Mapping[str, str], known: list[str], current: Filters,
                    adaptive: bool) -> tuple[Filters, bool]:
    """The filters and the adaptive setting the options ask for; every bad option in
    one InputError. `reset:yes` also turns the adaptive mix off (back to the plain
    picker), unless `adaptive` is given too."""
    problems: list[str] = []
    chosen = current
    try:
        chosen = filters_request(opts, known, current)
    except InputError as exc:
        problems.extend(exc.problems)
    if "reset" in opts:
        adaptive = False
    if "adaptive" in opts:
        try:
            adaptive = parse_adaptive(opts["adaptive"])
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(*problems)
    return chosen, adaptive


def _adaptive_line(channel: ChannelRow) -> str:
    if channel.adaptive:
        return (f"Adaptive mix: on. The picker aims for about {TARGET:.0%} correct over "
                "the channel's last four weeks (harder questions while the team does "
                "better, easier while it does worse) and favours the topics the team "
                "gets right least; every topic still comes up, and the filters apply.")
    return "Adaptive mix: off (`qotd topics adaptive:on` weighs by the team's results)."


async def topics(deps: Deps, command: CommandInput) -> list[Reply]:
    opts = command.options
    async with deps.db.uow() as uow:
        channel = await _channel(uow, deps, command)
        known = await uow.questions.topics()
        if not opts:
            text = f"Topics: {', '.join(known) or '(none)'}\nFilters: {_filters(channel)}"
            if channel.adaptive:
                text += f"\n{_adaptive_line(channel)}"
            return [info(text, title="Topics")]
        current = Filters(list(channel.include_topics or []),
                          list(channel.exclude_topics or []), channel.difficulty_weights)
        was_adaptive = channel.adaptive
        try:
            chosen, adaptive = _topics_request(opts, known, current, channel.adaptive)
        except InputError as exc:
            return [error(refusal_text(exc.problems))]
        channel.include_topics = chosen.include
        channel.exclude_topics = chosen.exclude
        channel.difficulty_weights = chosen.weights
        channel.adaptive = adaptive
        if not (await deps.bank.view(uow.session, channel)).keys:
            return [error("Those filters leave no question to post; nothing was changed.")]
        await uow.commit()
        summary = f"Filters saved: {_filters(channel)}"
        if "adaptive" in opts or adaptive or was_adaptive:
            summary += f"\n{_adaptive_line(channel)}"
    return [info(summary, title="Topics")]
