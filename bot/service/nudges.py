"""The daily review nudge: `/review remind`, and the engine's step that sends the DMs.

A person who asks for a nudge (`/review remind time:08:30 timezone:Europe/Berlin`) gets
one direct message at that local time on each day their review queue has cards due,
and none on a day it is empty. It is sent exactly once per person and local day, with
the same claim as a channel's post (bot.service.posting):

* the due work is the reminder row's `next_at` (indexed): the next local nudge time, or
  while a nudge is being sent, the sender's lease expiry;
* one transaction locks the due reminder (SKIP LOCKED on PostgreSQL), claims the
  (person, local day) nudge row (UNIQUE: a second claimant finds it taken), and moves
  `next_at` by compare-and-set to the lease's expiry, then commits; only then is the DM
  sent, with the idempotency key `nudge:<user_pk>:<day>`;
* the holder marks the nudge sent only while its lease (`lease_until`, the fencing
  token) is still its own, and moves `next_at` to the next local day's time;
* a holder that dies leaves a reminder that is due again when its lease runs out: the
  next pass (this process after a restart, or any replica) takes the lease over and
  sends again with `resend=True` and the same key, so the adapter adopts a DM that
  already arrived;
* a nudge time missed while the bot was down is sent late once within the grace window
  (QOTD_GRACE_HOURS); past it the day is let go.

Cards due are counted after `sync_user` brings the person's cards up to date, so
today's answers in the channels count.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.boundary import CommandInput, DirectRef, OutMessage, Reply, error, info
from bot.rules.inputs import problems_of, refusal_text
from bot.rules.reminders import (
    ReminderTime,
    RemindOff,
    due_now,
    next_nudge,
    nudge_day,
    parse_reminder,
    reminder_of,
)
from bot.rules.schedule import ScheduleError
from bot.service.deps import Deps
from bot.service.errors import error_code
from bot.service.posting import renewing
from bot.service.review import sync_user
from storage.nudge_repo import PENDING, SKIPPED, nudge_repo
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500  # reminders read per query; a pass loops while a batch comes back full
MAX_ROUNDS = 200  # 100,000 people in one pass at most; the rest are due at the next


# -- /review remind ----------------------------------------------------------------------


async def remind_problems(deps: Deps, command: CommandInput) -> list[str]:
    """What `remind` would refuse, read-only (for the one-reply refusal in commands)."""
    ref = command.channel
    async with deps.db.uow() as uow:
        user = await uow.users.find(ref.platform, ref.workspace_id, command.actor.user_id)
        row = await nudge_repo(uow).reminder(user.id) if user is not None else None
    current = reminder_of(row.local_time, row.timezone) if row is not None else None
    options = command.options
    if options.get("time") is None and options.get("timezone") is None:
        return []
    return problems_of(lambda: parse_reminder(options.get("time"), options.get("timezone"),
                                              current=current))


async def remind(deps: Deps, command: CommandInput) -> list[Reply]:
    """`/review remind time:HH:MM timezone:Area/City`, `/review remind off` (time:off),
    or `/review remind` alone: what is set. Bad input is refused with the form and an
    example, and nothing is written. A new reminder without a zone takes the channel's
    schedule zone (the team's), else UTC; the reply says which."""
    ref = command.channel
    now = deps.clock.now()
    time_text, zone_text = command.options.get("time"), command.options.get("timezone")
    async with deps.db.uow() as uow:
        repo = nudge_repo(uow)
        user = await uow.users.find(ref.platform, ref.workspace_id, command.actor.user_id)
        row = await repo.reminder(user.id) if user is not None else None
        current = reminder_of(row.local_time, row.timezone) if row is not None else None
        if time_text is None and zone_text is None:
            return [_status_reply(current, row.next_at if row is not None else None)]
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        default_zone = channel.timezone if channel is not None and channel.scheduled else "UTC"
        try:
            wanted = parse_reminder(time_text, zone_text, current=current,
                                    default_timezone=default_zone)
        except ScheduleError as exc:
            return [error(refusal_text(exc.problems))]
        if isinstance(wanted, RemindOff):
            if user is None or row is None:
                return [info("You have no daily review nudge; nothing to turn off. "
                             "Set one with `/review remind time:08:30 timezone:Europe/Berlin`.")]
            await repo.delete_reminder(user.id)
            await repo.skip_stale(user.id, date.max)
            await uow.commit()
            return [info("Daily review nudge off: no more direct messages. Turn it back on "
                         "with `/review remind time:HH:MM`.")]
        user_pk = await uow.users.upsert(ref.platform, ref.workspace_id, command.actor.user_id,
                                         command.actor.display_name, now)
        next_at = await _first_free(uow, user_pk, wanted, now)
        await repo.set_reminder(user_pk, f"{wanted.at:%H:%M}", wanted.timezone, next_at, now)
        await uow.commit()
    await deps.wake(next_at)
    zone_note = ""
    if zone_text is None and current is None:
        zone_note = (f" (the {'channel' if default_zone != 'UTC' else 'default'} zone; "
                     "add `timezone:Area/City` for yours)")
    return [info(f"Daily review nudge set for {wanted.describe()}{zone_note}: a direct "
                 f"message on days you have cards due, never when nothing is. Next: "
                 f"{_local(next_at, wanted)}. Turn it off with `/review remind off`.")]


async def _first_free(uow: UnitOfWork, user_pk: int, reminder: ReminderTime,
                      now: datetime) -> datetime:
    """The next nudge time whose local day has no nudge yet (moving 08:30 to 09:00 after
    today's 08:30 was sent must not promise a second one today)."""
    repo = nudge_repo(uow)
    moment = next_nudge(reminder, now)
    for _ in range(2):
        existing = await repo.on_day(user_pk, nudge_day(reminder, moment))
        if existing is None or existing.status == PENDING:
            break
        moment = next_nudge(reminder, moment)
    return moment


def _local(moment: datetime, reminder: ReminderTime) -> str:
    local = moment.astimezone(ZoneInfo(reminder.timezone))
    return f"{local:%a %d %b %H:%M} your time ({reminder.timezone})"


def _status_reply(current: ReminderTime | None, next_at: datetime | None) -> Reply:
    if current is None or next_at is None:
        return info("No daily review nudge is set. `/review remind time:08:30 "
                    "timezone:Europe/Berlin` sends you a direct message at 08:30 your time "
                    "on days you have cards due.")
    return info(f"Daily review nudge: {current.describe()}, on days you have cards due. "
                f"Next: {_local(next_at, current)}. Turn it off with `/review remind off`.")


def nudge_message(due: int) -> OutMessage:
    """The DM. Platform-neutral (`/review` opens the session on Discord and Slack), no
    names, no mentions: only the count and what to do."""
    cards = "1 card is" if due == 1 else f"{due} cards are"
    return OutMessage(
        tone="info", title="Review time",
        body=f"{cards} due for review. Open your private session with `/review`.",
        footer="Daily nudge from qotd · turn it off with /review remind off",
    )


# -- the engine's step ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    nudge_id: int
    user_pk: int
    day: date
    lease: datetime
    following: datetime
    due: int
    person: DirectRef
    resend: bool


async def run_due_nudges(deps: Deps) -> None:
    """Every reminder due at the clock's now, each person isolated from the others,
    up to `send_concurrency` at once."""
    now = deps.clock.now()
    live = deps.router.platforms()
    if not live:
        return
    limit = asyncio.Semaphore(deps.settings.send_concurrency)
    seen: set[int] = set()
    for _ in range(MAX_ROUNDS):
        async with deps.db.uow() as uow:
            due = await nudge_repo(uow).due(now, live, BATCH)
        fresh = [pk for pk in due if pk not in seen]
        seen.update(fresh)
        steps = [pk for pk in fresh if not deps.failures.blocked(("nudge", pk), now)]
        if steps:
            await asyncio.gather(*(_isolated(deps, limit, pk, now) for pk in steps))
        if len(due) < BATCH or not fresh:
            break


async def _isolated(deps: Deps, limit: asyncio.Semaphore, user_pk: int, now: datetime) -> None:
    """One person's step; a failure is logged once, backs off (in memory: the lease in
    the database makes the work due again anyway) and never reaches the others."""
    key = ("nudge", user_pk)
    async with limit:
        try:
            await nudge_one(deps, user_pk, now)
        except Exception as exc:
            count, again = deps.failures.failed(key, deps.clock.now(), deps.rng)
            log.warning("nudge for user %s: step failed (%s); attempt %d, next at %s",
                        user_pk, error_code(exc), count, f"{again:%H:%M:%S}")
            await deps.wake(again)
        else:
            deps.failures.succeeded(key)


async def nudge_one(deps: Deps, user_pk: int, now: datetime) -> bool:
    """Handle one due reminder: claim and send today's nudge, record a day with nothing
    due as skipped, or move on. True when a DM was sent and recorded by this call."""
    claim = await _claim(deps, user_pk, now)
    if claim is None:
        return False
    return await _send(deps, claim)


async def _claim(deps: Deps, user_pk: int, now: datetime) -> _Claim | None:
    """The claim's transaction: every read first, the writes last, so on SQLite (one
    writer at a time; the transaction takes the write lock at its first write) the
    lock is held for a few statements, not for the card sync."""
    async with deps.db.uow() as uow:
        repo = nudge_repo(uow)
        found = await repo.lock_due(user_pk, now)
        if found is None:
            return None
        row, user = found
        reminder = reminder_of(row.local_time, row.timezone)
        expected = row.next_at
        due = due_now(reminder, expected, now, deps.grace)
        day = due.day or nudge_day(reminder, now)
        existing, stale = await repo.day_and_stale(user_pk, day)
        lease = now + deps.lease

        async def move_on(to: datetime) -> None:
            if await repo.move(user_pk, expected, to):
                await uow.commit()
                await deps.wake(to)

        if stale:  # claims of days gone by, left pending by a holder that died
            await repo.skip_stale(user_pk, day)
        free = existing is None or (existing.status == PENDING and (
            existing.lease_until is None or existing.lease_until <= now))
        if due.day is None:  # down past the grace window: let the day go
            if existing is not None and free:
                await repo.skip(existing.id, existing.lease_until)
            log.info("nudge for user %s: its time was missed past the %g h grace window",
                     user_pk, deps.settings.grace_hours)
            await move_on(due.following)
            return None
        if existing is not None and existing.status != PENDING:  # sent or skipped: done
            await move_on(due.following)
            return None
        if not free:  # its holder is at work: look again when the lease ends
            assert existing is not None and existing.lease_until is not None
            await move_on(existing.lease_until)
            return None
        await sync_user(uow, user_pk, now)  # today's answers make cards too
        count = await uow.cards.due_count(user_pk, now)
        if existing is not None and not await repo.take(existing.id, existing.lease_until,
                                                        now, lease):
            return None
        if count == 0:
            if existing is None:
                await repo.claim(user_pk, due.day, SKIPPED, None)
            else:
                await repo.skip(existing.id, lease)
            await move_on(due.following)
            return None
        nudge_id = existing.id if existing is not None else await repo.claim(
            user_pk, due.day, PENDING, lease)
        if nudge_id is None or not await repo.move(user_pk, expected, lease):
            return None  # another process took it between our read and our write
        await uow.commit()
        person = DirectRef(user.platform, user.workspace_id, user.user_id)
    return _Claim(nudge_id, user_pk, due.day, lease, due.following, count, person,
                  existing is not None)


async def _send(deps: Deps, claim: _Claim) -> bool:
    held = [claim.lease]  # the fencing value, moved by each renewal

    async def renew(uow: UnitOfWork, until: datetime) -> bool:
        repo = nudge_repo(uow)
        if not await repo.renew(claim.nudge_id, held[0], until):
            return False
        await repo.move(claim.user_pk, held[0], until)
        held[0] = until
        return True

    key = f"nudge:{claim.user_pk}:{claim.day.isoformat()}"
    outbound = deps.router.for_channel(claim.person)
    async with renewing(deps, renew), asyncio.timeout(deps.settings.send_timeout_seconds):
        message_id = await outbound.send_direct(claim.person, nudge_message(claim.due),
                                                idempotency_key=key, resend=claim.resend)
    async with deps.db.uow() as uow:
        repo = nudge_repo(uow)
        marked = await repo.mark_sent(claim.nudge_id, held[0], message_id, deps.clock.now())
        if marked:
            await repo.move(claim.user_pk, held[0], claim.following)
        await uow.commit()
    if not marked:
        log.warning("nudge %s for user %s: sent as %s, but the claim is no longer this "
                    "sender's (its lease ran out: the next holder resends with the same key "
                    "and adopts it; or the nudge was turned off meanwhile)", claim.nudge_id,
                    claim.user_pk, message_id)
        return False
    await deps.wake(claim.following)
    return True


async def next_nudge_due(deps: Deps, after: datetime) -> datetime | None:
    """The first moment after `after` at which a reminder needs the engine."""
    live = deps.router.platforms()
    if not live:
        return None
    async with deps.db.uow() as uow:
        return await nudge_repo(uow).earliest(live, after)
