"""Claiming, sending and revealing posts.

The order is always: claim in the database (a unique row per channel and local day),
commit, send with the claim's idempotency key, then mark sent. A crash between send and
mark leaves a pending claim that the next run retries with the same key, and the adapter
makes the retry appear once. A short send lease stops a second process from retrying a
claim that is being sent right now. A failed send or reveal asks the scheduler to wake
the core again after RETRY_DELAY (the `retry_planned` hook), well inside the grace window.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import messages
from bot.rules.picking import NothingToPick
from bot.rules.schedule import Schedule, next_slot, slot_day
from bot.service.bank_sync import alternates_of, question_of
from bot.service.choosing import choose
from bot.service.deps import Deps, ref_of, schedule_of
from bot.service.results import results_of
from storage.models import ChannelRow
from storage.repositories import FAILED, MISSED, PENDING
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)
RETRY_DELAY = timedelta(seconds=60)  # after a failed send or reveal, try again this soon
MISSED_LOOKBACK = timedelta(days=7)


async def run_due(deps: Deps) -> None:
    """Everything due at the clock's now: today's posts within grace, retries, reveals."""
    now = deps.clock.now()
    await retry_unsent(deps, now)  # first, so a send failing in this run waits for the next
    live = set(deps.router.platforms())
    async with deps.db.uow() as uow:
        # a channel whose platform has no adapter running in this process is left alone:
        # claiming would only fail to send (another process may serve that platform)
        channel_pks = [c.id for c in await uow.channels.scheduled() if c.platform in live]
    for pk in channel_pks:
        await post_due(deps, pk, now)
    await reveal_due(deps, now)


async def next_due(deps: Deps, after: datetime) -> datetime | None:
    """The next instant after `after` at which run_due has something to do."""
    moments: list[datetime] = []
    async with deps.db.uow() as uow:
        for channel in await uow.channels.scheduled():
            if not channel.paused:
                moments.append(next_slot(schedule_of(channel), after))
        reveal = await uow.posts.next_reveal_after(after)
    if reveal is not None:
        moments.append(reveal)
    return min(moments) if moments else None


async def post_due(deps: Deps, channel_pk: int, now: datetime) -> None:
    """Claim and send the channel's latest slot if it is within grace; record every
    earlier unclaimed slot of the last week as missed (which never breaks a streak:
    streaks count posts)."""
    async with deps.db.uow() as uow:
        channel = await uow.channels.by_pk(channel_pk)
        if channel is None or not channel.scheduled or channel.paused:
            return
        schedule = schedule_of(channel)
        slots = _slots_since(schedule, channel.active_since, now)
        if not slots:
            return
        latest = slots[-1]
        overdue = slots if now - latest > deps.grace else slots[:-1]
        if overdue:
            claimed = await uow.posts.days_from(channel.id, slot_day(schedule, overdue[0]))
            for slot in overdue:
                day = slot_day(schedule, slot)
                if day not in claimed and await uow.posts.claim(
                    channel.id, day, MISSED, now, slot_at=slot
                ) is not None:
                    log.warning("channel %s missed its post for %s (outside grace)",
                                channel.id, day)
            await uow.commit()
        if now - latest > deps.grace:
            return
        post_id = await uow.posts.claim(
            channel.id, slot_day(schedule, latest), PENDING, now, slot_at=latest,
            lease_until=now + SEND_LEASE,
        )
        if post_id is None:
            return
        if not await _assign(uow, deps, channel, post_id, record_missed=True):
            return
        await uow.commit()
    await send_post(deps, post_id)


def _slots_since(schedule: Schedule, active_since: datetime | None, now: datetime) -> list[datetime]:
    """Slots in (now - MISSED_LOOKBACK, now], none before the channel became active."""
    start = now - MISSED_LOOKBACK
    if active_since is not None and active_since > start:
        start = active_since - timedelta(microseconds=1)
    slots: list[datetime] = []
    slot = next_slot(schedule, start)
    while slot <= now:
        slots.append(slot)
        slot = next_slot(schedule, slot)
    return slots


async def claim_now(deps: Deps, channel: ChannelRow, uow: UnitOfWork, now: datetime) -> int | None:
    """For `qotd post`: take today's claim when today is a scheduled day not yet claimed,
    else an extra post. Returns the post id, for the caller to commit. None when nothing
    can be picked: then nothing is committed and the caller must not commit either
    (leaving the unit of work rolls the claim back, so today's slot stays open)."""
    day: date | None = None
    slot: datetime | None = None
    if channel.scheduled:
        schedule = schedule_of(channel)
        today = now.astimezone(ZoneInfo(schedule.timezone)).date()
        slot = slot_on(schedule, today)
        if slot is not None:
            day = today
    post_id = None
    if day is not None:
        post_id = await uow.posts.claim(
            channel.id, day, PENDING, now, slot_at=slot, lease_until=now + SEND_LEASE
        )
    if post_id is None:
        post_id = await uow.posts.claim(
            channel.id, None, PENDING, now, lease_until=now + SEND_LEASE
        )
    assert post_id is not None  # an extra post (day NULL) never conflicts
    return post_id if await _assign(uow, deps, channel, post_id, record_missed=False) else None


def slot_on(schedule: Schedule, day: date) -> datetime | None:
    """The slot falling on a local calendar day, or None when the day is not scheduled."""
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(schedule.timezone))
    slot = next_slot(schedule, midnight - timedelta(seconds=1))
    return slot if slot_day(schedule, slot) == day else None


async def _assign(uow: UnitOfWork, deps: Deps, channel: ChannelRow, post_id: int, *,
                  record_missed: bool) -> bool:
    """Pick the question for a fresh claim; False if nothing is eligible. Then, with
    `record_missed` (the scheduled path), a scheduled day is recorded as missed and
    committed; otherwise nothing is committed and the caller leaves the unit of work
    without committing, which rolls back the claim and the draw."""
    draw = await uow.channels.next_draw(channel.id)
    try:
        chosen = await choose(uow, channel, deps.seed_for(channel), draw)
    except NothingToPick:
        log.warning("channel %s: no eligible question (filters or empty bank)", channel.id)
        post = await uow.posts.get(post_id)
        assert post is not None
        if not record_missed or post.day is None:
            return False
        post.status = MISSED
        post.send_lease_until = None
        await uow.commit()
        return False
    if chosen.new_cycle:
        channel.cycle += 1
    post = await uow.posts.get(post_id)
    assert post is not None
    post.number = draw
    post.cycle = channel.cycle
    post.question_id = chosen.candidate.key
    return True


async def send_post(deps: Deps, post_id: int, *, resend: bool = False) -> bool:
    """Send a claimed post and mark it sent. `resend`: an earlier attempt may have
    reached the platform (retry_unsent), so the adapter should look before sending."""
    async with deps.db.uow() as uow:
        post = await uow.posts.get(post_id)
        if post is None or post.status != PENDING or post.question_id is None:
            return False
        channel = await uow.channels.by_pk(post.channel_pk)
        row = await uow.questions.get(post.question_id)
        assert channel is not None and row is not None and post.number is not None
        message = messages.question_post(post.number, question_of(row.data))
        ref = ref_of(channel)
        reveal_delay = deps.reveal_delay(channel)
    try:
        message_id = await deps.router.for_channel(ref).post(
            ref, message, idempotency_key=f"post:{post_id}", resend=resend
        )
    except Exception as exc:  # the adapter's failure must not stop other channels
        log.warning("post %s: send failed (%s); will retry", post_id, type(exc).__name__)
        async with deps.db.uow() as uow:
            post = await uow.posts.get(post_id)
            pending = post is not None and post.status == PENDING
            if post is not None and pending:
                post.send_lease_until = None
                await uow.commit()
        if pending:
            await deps.retry_planned(deps.clock.now() + RETRY_DELAY)
        return False
    now = deps.clock.now()
    reveal_at = now + reveal_delay
    async with deps.db.uow() as uow:
        marked = await uow.posts.mark_sent(post_id, message_id, now, reveal_at)
        await uow.commit()
        if not marked:
            post = await uow.posts.get(post_id)
            log.warning(
                "post %s: sent as message %s but the claim is now %s (another process took "
                "it over); not marking it sent", post_id, message_id,
                post.status if post is not None else "gone",
            )
            return False
    await deps.reveal_planned(post_id, reveal_at)
    return True


async def retry_unsent(deps: Deps, now: datetime) -> None:
    async with deps.db.uow() as uow:
        retry: list[int] = []
        for post in await uow.posts.unsent(now):
            # a claim is only made within grace, and may be retried for as long again
            if now - post.claimed_at > deps.grace:
                post.status = MISSED if post.day is not None else FAILED
                post.send_lease_until = None
                post.question_id = None  # never shown: back into the cycle
                log.warning("post %s: gave up sending after the grace window", post.id)
            elif await uow.posts.take_send_lease(post.id, now, now + SEND_LEASE):
                retry.append(post.id)
        await uow.commit()
    for post_id in retry:
        await send_post(deps, post_id, resend=True)


async def reveal_due(deps: Deps, now: datetime) -> None:
    live = set(deps.router.platforms())
    async with deps.db.uow() as uow:
        due = []
        for post in await uow.posts.due_reveals(now):
            channel = await uow.channels.by_pk(post.channel_pk)
            if channel is not None and channel.platform in live:
                due.append(post.id)
    for post_id in due:
        await reveal(deps, post_id, now)


async def reveal(deps: Deps, post_id: int, now: datetime) -> bool:
    async with deps.db.uow() as uow:
        before = await uow.posts.get(post_id)
        # A lease already set (expired) means an earlier attempt died or failed: it may
        # have reached the platform, so the adapter should look before replying again.
        resend = before is not None and before.reveal_lease_until is not None
        if not await uow.posts.take_reveal_lease(post_id, now, now + SEND_LEASE):
            return False
        await uow.commit()
        post = await uow.posts.get(post_id)
        assert post is not None and post.question_id is not None and post.number is not None
        channel = await uow.channels.by_pk(post.channel_pk)
        row = await uow.questions.get(post.question_id)
        assert channel is not None and row is not None and post.message_id is not None
        question = question_of(row.data)
        results = await results_of(uow, post.id, question)
        alternates = await alternates_of(uow, row.id, row.group_key)
        message = messages.reveal(post.number, question, results, alternates)
        ref, parent = ref_of(channel), post.message_id
    try:
        reply_id = await deps.router.for_channel(ref).reply_in_thread(
            ref, parent, message, idempotency_key=f"reveal:{post_id}", resend=resend
        )
    except Exception as exc:
        log.warning("reveal %s: send failed (%s); will retry", post_id, type(exc).__name__)
        failed_at = deps.clock.now()
        async with deps.db.uow() as uow:
            post = await uow.posts.get(post_id)
            if post is not None:
                post.reveal_lease_until = failed_at  # expired at once: retry soon
                await uow.commit()
        await deps.retry_planned(failed_at + RETRY_DELAY)
        return False
    async with deps.db.uow() as uow:
        post = await uow.posts.get(post_id)
        assert post is not None
        post.revealed_at = deps.clock.now()
        post.reveal_message_id = reply_id
        await uow.commit()
    return True
