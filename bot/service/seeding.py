"""Reactions mode's seeding (issue 16): the bot's own reactions, one per answer key, added
to a post once it is marked sent, as a step of its own.

Never part of the send: not inside its lease, its retries or its timeout, and (with the
timer running, `qotd run`) not inside the engine step either. The platforms pace
reactions far below posts (Slack's `reactions.add` at about 50 a minute per workspace),
so a step that waited for its seeds would hold a send slot and slow every other post of
the fan-out to the seeding rate. The seeds run as tasks of their own, which the adapter
paces by its rate limiter; without the timer (tests, the console) they are added before
the send returns, so what a test or a console line shows is complete.

A failure is logged and leaves the post sent: members can still add the reactions
themselves (the footer says which). The post stays marked "seed due"
(`posts.seed_due_at`), as it does when the process stops between mark-sent and the
seeding (a crash, a deploy); the next start seeds what is marked (`reseed`). The
platforms take a reaction added twice as one, so a seed that landed before the crash is
not doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from bot.boundary import NO, YES, ChannelRef
from bot.service.bank_sync import question_of
from bot.service.deps import Deps, SeedRunner
from bot.service.errors import error_code
from storage import seeding as seed_rows

log = logging.getLogger(__name__)

RESEED_LIMIT = 500  # posts per start: a backlog beyond this waits for the next start
RESEED_WITHIN = timedelta(hours=24)  # older posts are not seeded any more


class Seeder:
    """Runs one core's seeding steps: inline, or as tasks it keeps until they end (or
    `stop` cancels them: their posts stay marked, the next start seeds them)."""

    def __init__(self, deps: Deps, *, background: bool) -> None:
        self._deps = deps
        self._background = background
        self._tasks: set[asyncio.Task[Any]] = set()

    async def seed(self, post_id: int, ref: ChannelRef, message_id: str,
                   keys: tuple[str, ...]) -> None:
        if keys:
            await self._run(seed_reactions(self._deps, post_id, ref, message_id, keys))

    async def reseed(self, platforms: list[str]) -> None:
        await self._run(_reseed_logged(self._deps, platforms))

    async def _run(self, work: Coroutine[Any, Any, Any]) -> None:
        if not self._background:
            await work
            return
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def seeder_of(deps: Deps) -> SeedRunner:
    """The core's Seeder; a Deps built without a core (a unit test) seeds inline."""
    return deps.seeder if deps.seeder is not None else Seeder(deps, background=False)


async def seed_reactions(deps: Deps, post_id: int, ref: ChannelRef, message_id: str,
                         keys: tuple[str, ...]) -> bool:
    """Add the post's seed reactions, then clear its "seed due" mark; False (logged, the
    mark kept) when the platform refused or timed out."""
    try:
        async with asyncio.timeout(deps.settings.send_timeout_seconds):
            await deps.router.for_channel(ref).add_reactions(ref, message_id, keys)
    except Exception as exc:  # best effort: the post is out and counts
        log.warning("post %s in channel %s: could not add its reactions (%s); members can "
                    "still react themselves, and the next start tries again", post_id,
                    ref.channel_id, error_code(exc))
        return False
    try:
        async with deps.db.uow() as uow:
            await seed_rows.seeded(uow.session, [post_id])
            await uow.commit()
    except Exception as exc:  # the next start seeds it once more: harmless
        log.warning("post %s: could not record its reactions as added (%s)", post_id,
                    error_code(exc))
    return True


async def reseed(deps: Deps, platforms: list[str]) -> int:
    """At start: seed the reactions-mode posts whose seeding a stopped process cut
    short (or that failed), if they went out within the last day (after their reveal
    too: a vote then is practice, and a post should look the same however the process
    fared). Returns how many were seeded."""
    oldest = deps.clock.now() - RESEED_WITHIN
    async with deps.db.uow() as uow:
        due = await seed_rows.unseeded(uow.session, platforms, RESEED_LIMIT)
        stale = [p.post_id for p in due
                 if p.due_at < oldest or p.message_id is None or p.data is None]
        if stale:
            await seed_rows.seeded(uow.session, stale)
            await uow.commit()
    done = 0
    for post in due:
        if post.post_id in stale:
            continue
        assert post.message_id is not None and post.data is not None
        question = question_of(post.data)
        keys = tuple(question.letters) if question.kind == "choice" else (YES, NO)
        ref = ChannelRef(post.platform, post.workspace_id, post.channel_id)
        log.info("post %s in channel %s: adding the reactions a stopped process did not",
                 post.post_id, ref.channel_id)
        done += await seed_reactions(deps, post.post_id, ref, post.message_id, keys)
    return done


async def _reseed_logged(deps: Deps, platforms: list[str]) -> None:
    try:
        await reseed(deps, platforms)
    except Exception as exc:  # a convenience: never a reason not to run
        log.warning("could not add the reactions left over by a stopped process (%s)",
                    error_code(exc))
