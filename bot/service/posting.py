"""One unit of due work at a time: a channel's slot, a pending send, a reveal.

The order is always: take the work in the database (a compare-and-set on the channel's
next slot and a unique claim per channel and local day; a lease with a fencing token on
a send or a reveal), commit, talk to the platform with the claim's idempotency key,
then record the outcome, only while still holding the token. The lease is short and
renewed while the platform call runs, so a holder that dies (SIGKILL, a lost machine)
leaves work that becomes due again by itself within one lease; whoever takes it next
sends it as a resend, and the adapter adopts a copy that already reached the platform.

A sender that finds, when it comes back, that another holder recorded a different
message deletes its own copy, so the channel converges to one post.

Which work is due, and running many of them at once, is `bot.service.engine`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import messages
from bot.boundary import ChannelRef, OutMessage
from bot.faults import checkpoint
from bot.rules.backoff import retry_at
from bot.rules.picking import NothingToPick
from bot.rules.schedule import next_slot, slot_day, slot_on_day
from bot.service.answers import replay_strays
from bot.service.bank_sync import alternates_of, question_of
from bot.service.choosing import choose
from bot.service.deps import Deps, ref_of, schedule_of
from bot.service.errors import error_code
from bot.service.results import results_of
from bot.service.seeding import seeder_of
from storage import seeding as seed_rows
from storage.bank_reads import send_facts
from storage.models import ChannelRow
from storage.repositories import FAILED, MISSED, PENDING, SENT
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_CATCH_UP = 400  # slots recorded missed in one go after a very long outage
REVEAL_MAX_ATTEMPTS = 10
REVEAL_GIVE_UP = timedelta(hours=24)


# -- a channel's slot --------------------------------------------------------------------


async def post_slot(deps: Deps, channel_pk: int, now: datetime) -> None:
    """Handle the channel's due slot: record the slots found past grace as missed, claim
    and send the latest one if it is within grace. The compare-and-set on next_slot_at
    makes this happen once per slot across processes."""
    checkpoint("before-claim")
    missed_days: list[date] = []
    post_id: int | None = None
    async with deps.db.uow() as uow:
        channel = await uow.channels.lock_due(channel_pk, now)
        if channel is None or channel.next_slot_at is None:
            return
        schedule = schedule_of(channel)
        first = channel.next_slot_at
        slots = [first]
        following = next_slot(schedule, first)
        while following <= now and len(slots) < MAX_CATCH_UP:
            slots.append(following)
            following = next_slot(schedule, following)
        if following <= now:  # down for over a year: the rest is not worth a row each
            following = next_slot(schedule, now)
        if not await uow.channels.advance(channel.id, first, following):
            return
        latest = slots[-1]
        in_grace = now - latest <= deps.grace
        for slot in slots if not in_grace else slots[:-1]:
            day = slot_day(schedule, slot)
            if await uow.posts.claim(channel.id, day, MISSED, now, slot_at=slot) is not None:
                missed_days.append(day)
        if in_grace:
            post_id = await uow.posts.claim(
                channel.id, slot_day(schedule, latest), PENDING, now, slot_at=latest,
                lease_until=now + deps.lease,
            )
            if post_id is not None and not await _assign(uow, deps, channel, post_id):
                post = await uow.posts.get(post_id)
                assert post is not None
                post.status, post.send_due_at = MISSED, None
                post_id = None
        ref, admin = ref_of(channel), channel.admin_user_id
        await uow.commit()
    if missed_days:
        log.warning("channel %s (%s %s): missed the post of %s: found past the %g h grace "
                    "window", channel_pk, ref.platform, ref.channel_id,
                    ", ".join(f"{d:%Y-%m-%d}" for d in missed_days), deps.settings.grace_hours)
        await tell_admins(deps, ref, admin, messages.missed_notice(missed_days,
                                                                   deps.settings.grace_hours))
    await deps.wake(following)
    if post_id is not None:
        checkpoint("after-claim")
        await send_post(deps, post_id, token=1, resend=False)


async def tell_admins(deps: Deps, ref: ChannelRef, admin: str | None,
                      message: OutMessage) -> None:
    """Privately to the admin who scheduled the channel; once (no retry: a notice)."""
    if not admin:
        log.info("channel %s has no known admin to tell", ref.channel_id)
        return
    try:
        await deps.router.for_channel(ref).send_ephemeral(ref, admin, message)
    except Exception as exc:
        log.warning("could not tell the admin of channel %s (%s)", ref.channel_id,
                    error_code(exc))


# -- `/qotd post` --------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """What `claim_now` took: the post, its number and its channel-local day (None: an
    extra post)."""

    post_id: int
    number: int
    day: date | None


async def claim_now(deps: Deps, channel: ChannelRow, uow: UnitOfWork, now: datetime
                    ) -> Claimed | None:
    """For `qotd post`: take today's claim when today is a scheduled day not yet claimed,
    else an extra post, for the caller to commit. None when nothing can be picked: then
    the caller must not commit (leaving the unit of work rolls the draw back, and today's
    slot stays open).

    The question is picked first, under the channel's draw lock (`next_draw`), and the
    claim is inserted with it: one statement for the claim and its pick, no read of the
    row back. The order of locks is then the scheduled slot's (`post_slot` locks the
    channel row before it claims)."""
    pick = await _pick(uow, deps, channel)
    if pick is None:
        return None
    draw, question_id = pick
    lease_until = now + deps.lease
    if channel.scheduled:
        schedule = schedule_of(channel)
        today = now.astimezone(ZoneInfo(schedule.timezone)).date()
        slot = slot_on_day(schedule, today)
        if slot is not None:
            taken = await uow.posts.claim_day_or_extra(
                channel.id, today, slot, now, lease_until,
                number=draw, cycle=channel.cycle, question_id=question_id)
            if taken is not None:
                post_id, got_day = taken
                return Claimed(post_id, draw, today if got_day else None)
    extra = await uow.posts.claim(channel.id, None, PENDING, now, lease_until=lease_until,
                                  number=draw, cycle=channel.cycle, question_id=question_id)
    assert extra is not None  # an extra post (day NULL) never conflicts
    return Claimed(extra, draw, None)


async def _pick(uow: UnitOfWork, deps: Deps, channel: ChannelRow) -> tuple[int, str] | None:
    """Take the channel's next draw and pick its question: (draw, question id), the
    channel's cycle moved on if the pick began a new one; None if nothing is eligible."""
    draw = await uow.channels.next_draw(channel.id)
    try:
        chosen = await choose(uow, channel, deps.seed_for(channel), draw, deps.bank,
                              now=deps.clock.now())
    except NothingToPick:
        log.warning("channel %s: no eligible question (filters or empty bank)", channel.id)
        return None
    if chosen.new_cycle:
        channel.cycle += 1
    return draw, chosen.candidate.key


async def _assign(uow: UnitOfWork, deps: Deps, channel: ChannelRow, post_id: int) -> bool:
    """Pick the question for a fresh claim; False if nothing is eligible."""
    pick = await _pick(uow, deps, channel)
    if pick is None:
        return False
    draw, question_id = pick
    await uow.posts.assign(post_id, draw, channel.cycle, question_id)
    return True


# -- leases ------------------------------------------------------------------------------


Renew = Callable[[UnitOfWork, datetime], Awaitable[bool]]


@contextlib.asynccontextmanager
async def renewing(deps: Deps, renew: Renew) -> AsyncIterator[None]:
    """Keep a lease alive while the platform call runs (every third of a lease), until
    it is lost (another holder took over: the outcome is then settled by the token)."""

    async def keep() -> None:
        while True:
            await asyncio.sleep(deps.lease.total_seconds() / 3)
            try:
                async with deps.db.uow() as uow:
                    held = await renew(uow, deps.clock.now() + deps.lease)
                    await uow.commit()
            except Exception as exc:  # the database may be back by the next renewal
                log.warning("could not renew a lease (%s)", error_code(exc))
                continue
            if not held:
                return

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- sending a claimed post ----------------------------------------------------------------


async def take_and_send(deps: Deps, post_id: int, now: datetime) -> None:
    """A due pending claim (failed earlier, or its sender's lease ran out): take the
    lease and resend, or give up when the grace window is over."""
    async with deps.db.uow() as uow:
        token = await uow.posts.take_send(post_id, now, now + deps.lease)
        await uow.commit()
        if token is None:
            return
        post = await uow.posts.get(post_id)
        assert post is not None
        expired = now - post.claimed_at > deps.grace or post.question_id is None
        if expired:
            status = MISSED if post.day is not None else FAILED
            channel = await uow.channels.by_pk(post.channel_pk)
            assert channel is not None
            given_up = await uow.posts.give_up_send(post_id, token, status)
            await uow.commit()
            ref, admin, day = ref_of(channel), channel.admin_user_id, post.day
    if expired:
        if given_up:
            log.warning("post %s in channel %s: gave up sending after the %g h grace window",
                        post_id, ref.channel_id, deps.settings.grace_hours)
            if day is not None:
                await tell_admins(deps, ref, admin,
                                  messages.missed_notice([day], deps.settings.grace_hours))
        return
    await send_post(deps, post_id, token=token, resend=True)


async def send_post(deps: Deps, post_id: int, *, token: int, resend: bool) -> bool:
    """Send a claimed post while holding `token`, then mark it sent. `resend`: an
    earlier attempt may have reached the platform, so the adapter looks before sending."""
    async with deps.db.uow() as uow:  # the post, its channel and question: one read
        post = await send_facts(uow.session, post_id)
        if (post is None or post.status != PENDING or post.question_id is None
                or post.send_token != token):
            return False  # fencing: another holder has it now
        assert post.data is not None and post.number is not None
        message = messages.question_post(post.number, question_of(post.data),
                                         post_id=post_id, answers=post.answer_mode)
        ref = ChannelRef(post.platform, post.workspace_id, post.channel_id)
        reveal_delay = deps.reveal_delay_of(post.reveal_hours)
        deadline, attempts = post.claimed_at + deps.grace, post.send_attempts

    async def renew(uow: UnitOfWork, until: datetime) -> bool:
        return await uow.posts.renew_send(post_id, token, until)

    try:
        async with renewing(deps, renew), asyncio.timeout(deps.settings.send_timeout_seconds):
            message_id = await deps.router.for_channel(ref).post(
                ref, message, idempotency_key=f"post:{post_id}", resend=resend
            )
    except Exception as exc:  # the platform's failure must not stop other channels
        now = deps.clock.now()
        again = retry_at(now, attempts, deps.rng, deadline)
        log.warning("post %s in channel %s: send failed (%s); attempt %d, next at %s",
                    post_id, ref.channel_id, error_code(exc), attempts, f"{again:%H:%M:%S}")
        async with deps.db.uow() as uow:  # due again at the backoff, if still ours
            await uow.posts.renew_send(post_id, token, again)
            await uow.commit()
        await deps.wake(again)
        return False
    checkpoint("after-send")
    now = deps.clock.now()
    reveal_at = now + reveal_delay
    async with deps.db.uow() as uow:
        marked = await uow.posts.mark_sent(post_id, token, message_id, now, reveal_at)
        if marked:
            if message.reactions:  # reactions mode: the seeding step is still to come
                await seed_rows.seed_due(uow.session, post_id, now)
            await replay_strays(uow, post.channel_pk, message_id)
        await uow.commit()
    if marked:
        checkpoint("after-mark-sent")
        await deps.wake(reveal_at)
        await seeder_of(deps).seed(post_id, ref, message_id, message.reactions)
        return True
    await converge(deps, post_id, ref, message_id)
    return False


async def converge(deps: Deps, post_id: int, ref: ChannelRef, mine: str) -> None:
    """This sender lost its lease while its request was in flight and another holder
    took over. Wait for that holder's outcome (at most two leases); if it recorded a
    different message, or the claim was given up, delete this sender's copy."""
    for _ in range(int(deps.lease.total_seconds() * 2) + 1):
        async with deps.db.uow() as uow:
            post = await uow.posts.get(post_id)
        if post is None or post.status != PENDING:
            break
        await asyncio.sleep(1)
    if post is not None and post.status == SENT and post.message_id == mine:
        log.info("post %s: the new holder adopted message %s; nothing to undo", post_id, mine)
        return
    if post is not None and post.status == PENDING:
        log.warning("post %s: sent as %s after losing the lease, and the new holder has not "
                    "finished; leaving it", post_id, mine)
        return
    log.warning("post %s: sent as %s after losing the lease; the post is %s; deleting this "
                "copy", post_id, mine,
                f"message {post.message_id}" if post is not None and post.message_id
                else (post.status if post is not None else "gone"))
    await _delete_copy(deps, ref, f"post {post_id}", mine)


async def _delete_copy(deps: Deps, ref: ChannelRef, what: str, message_id: str,
                       parent: str | None = None) -> None:
    """Delete the extra copy a sender that lost its lease left behind; a failure to do
    so is logged, never raised (the database already holds the one that counts)."""
    try:
        await deps.router.for_channel(ref).delete(ref, message_id, parent_message_id=parent)
    except Exception as exc:
        log.warning("%s: could not delete the extra copy %s (%s)", what, message_id,
                    error_code(exc))


# -- reveals -----------------------------------------------------------------------------


async def reveal(deps: Deps, post_id: int, now: datetime) -> bool:
    async with deps.db.uow() as uow:
        token = await uow.posts.take_reveal(post_id, now, now + deps.lease)
        await uow.commit()
        if token is None:
            return False
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
        # a later attempt may find an earlier one's reply already in the thread
        attempts, planned = post.reveal_attempts, post.reveal_at or now
    resend = attempts > 1
    checkpoint("before-reveal")

    async def renew(uow: UnitOfWork, until: datetime) -> bool:
        return await uow.posts.renew_reveal(post_id, token, until)

    try:
        async with renewing(deps, renew), asyncio.timeout(deps.settings.send_timeout_seconds):
            reply_id = await deps.router.for_channel(ref).reply_in_thread(
                ref, parent, message, idempotency_key=f"reveal:{post_id}", resend=resend
            )
    except Exception as exc:
        failed_at = deps.clock.now()
        code = error_code(exc)
        async with deps.db.uow() as uow:
            if attempts >= REVEAL_MAX_ATTEMPTS or failed_at - planned > REVEAL_GIVE_UP:
                reason = f"gave up after {attempts} attempts: {code}"[:200]
                await uow.posts.close_reveal(post_id, token, failed_at, None, reason)
                await uow.commit()
                log.warning("reveal %s in channel %s: %s; points are closed", post_id,
                            ref.channel_id, reason)
                return False
            again = retry_at(failed_at, attempts, deps.rng, None)
            await uow.posts.renew_reveal(post_id, token, again)
            await uow.commit()
        log.warning("reveal %s in channel %s: send failed (%s); attempt %d, next at %s",
                    post_id, ref.channel_id, code, attempts, f"{again:%H:%M:%S}")
        await deps.wake(again)
        return False
    checkpoint("after-reveal-send")
    async with deps.db.uow() as uow:
        closed = await uow.posts.close_reveal(post_id, token, deps.clock.now(), reply_id)
        await uow.commit()
        if closed:
            return True
        post = await uow.posts.get(post_id)
    # the lease was lost mid-request and another holder revealed (or gave up): unless it
    # adopted this very reply, this one is an extra copy in the thread
    if post is not None and post.reveal_message_id != reply_id and post.revealed_at is not None:
        log.warning("reveal %s: replied as %s after losing the lease; deleting this copy",
                    post_id, reply_id)
        await _delete_copy(deps, ref, f"reveal {post_id}", reply_id, parent)
    return False
