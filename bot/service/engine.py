"""The posting engine: the database is the schedule.

Due work is rows: a channel's `next_slot_at`, a pending send's `send_due_at`, a reveal's
`reveal_due_at`, each indexed. One pass (`run_due`) reads what is due now with three
range queries, runs each item as its own isolated step, many at once (bounded by
`QOTD_SEND_CONCURRENCY`; the adapters pace the platform calls), and returns when the
next item becomes due, for the timer. Nothing lives only in memory except the backoff
of a step whose database write itself failed (`bot.service.failures`).

Replicas coordinate only through those rows: the compare-and-set on `next_slot_at`,
the unique claim per channel and day, and the leases with fencing tokens on sends and
reveals. Any replica may run any step; a second one finds the work taken and moves on.

The daily review nudges (bot.service.nudges) are due work of the same kind: a reminder's
`next_at`, read by one more range query at the end of the pass, each person a step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.rules.schedule import next_slot
from bot.service import nudges, posting
from bot.service.answers import replay_matched
from bot.service.deps import Deps, schedule_of
from bot.service.errors import error_code
from bot.service.failures import StepKey
from storage.nudge_repo import nudge_repo
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500  # rows read per query; a pass loops while a batch comes back full
STRAY_KEEP = timedelta(days=2)
HOUSEKEEPING_EVERY = timedelta(minutes=5)


async def run_due(deps: Deps) -> None:
    """Everything due at the clock's now, each item isolated from the others."""
    now = deps.clock.now()
    live = deps.router.platforms()
    if not live:
        return
    limit = asyncio.Semaphore(deps.settings.send_concurrency)
    for round_ in range(1000):  # bounded: a pass ends even if work keeps arriving
        async with deps.db.uow() as uow:
            if round_ == 0:
                await _plan_unplanned(uow, live, now)
            channels = await uow.channels.due(now, live, BATCH)
            sends = await uow.posts.due_sends(now, live, BATCH)
            reveals = await uow.posts.due_reveals(now, live, BATCH)
        steps: list[tuple[StepKey, Callable[[], Awaitable[object]]]] = []
        steps += [(("channel", pk), _bind(posting.post_slot, deps, pk, now)) for pk in channels]
        steps += [(("send", pid), _bind(posting.take_and_send, deps, pid, now)) for pid in sends]
        steps += [(("reveal", pid), _bind(posting.reveal, deps, pid, now)) for pid in reveals]
        steps = [(key, step) for key, step in steps if not deps.failures.blocked(key, now)]
        if not steps:
            break
        await asyncio.gather(*(_isolated(deps, limit, key, step, now) for key, step in steps))
        if max(len(channels), len(sends), len(reveals)) < BATCH:
            break
    # the daily review nudges: their own indexed query (reminders.next_at) and steps
    await nudges.run_due_nudges(deps)
    await _housekeeping(deps, now)


def _bind(step: Callable[[Deps, int, datetime], Awaitable[object]], deps: Deps, key: int,
          now: datetime) -> Callable[[], Awaitable[object]]:
    return lambda: step(deps, key, now)


async def _isolated(deps: Deps, limit: asyncio.Semaphore, key: StepKey,
                    step: Callable[[], Awaitable[object]], now: datetime) -> None:
    """Run one step; its failure is logged once with what and why, backs off, and never
    reaches the other steps of the pass."""
    async with limit:
        try:
            await step()
        except Exception as exc:
            count, again = deps.failures.failed(key, deps.clock.now(), deps.rng)
            log.warning("%s %s: step failed (%s); attempt %d, next at %s", key[0], key[1],
                        error_code(exc), count, f"{again:%H:%M:%S}")
            await deps.wake(again)
        else:
            deps.failures.succeeded(key)


async def _plan_unplanned(uow: UnitOfWork, live: list[str], now: datetime) -> None:
    """Channels scheduled by an earlier version have no next slot yet: plan each from its
    last claimed slot (or when it became active), at most a week back, so the pass
    catches up what is in grace and records what is not. One query when there are none."""
    rows = await uow.channels.unplanned(live)
    for channel in rows:
        last = await uow.posts.last_slot(channel.id)
        since = max(x for x in (last, channel.active_since, now - timedelta(days=7))
                    if x is not None)
        channel.next_slot_at = next_slot(schedule_of(channel), since)
    if rows:
        await uow.commit()


async def _housekeeping(deps: Deps, now: datetime) -> None:
    """Every few minutes, not every pass: an idle pass should only read."""
    last = deps.failures.housekept_at
    if last is not None and timedelta(0) <= now - last < HOUSEKEEPING_EVERY:
        return
    deps.failures.housekept_at = now
    deps.failures.prune(now)
    async with deps.db.uow() as uow:
        await replay_matched(uow)
        await uow.answers.prune_strays(now - STRAY_KEEP)
        await uow.commit()


async def next_due(deps: Deps, after: datetime) -> datetime | None:
    """The first moment after `after` at which a pass has something to do."""
    live = deps.router.platforms()
    if not live:
        return None
    async with deps.db.uow() as uow:
        moments = [
            await uow.channels.earliest_slot(live, after),
            await uow.posts.earliest_due(live, after),
            await nudge_repo(uow).earliest(live, after),  # the daily review nudges
            deps.failures.earliest_after(after),
        ]
    present = [m for m in moments if m is not None]
    return min(present) if present else None

