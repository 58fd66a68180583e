"""Names for people the adapter has only seen react, looked up in the background.

Reaction events carry no name, so a member who only reacts (and never runs a command or
presses a button, whose payloads name them) would be shown by id on boards and reveals.
`NameFiller` remembers whose name the adapter has seen (from payloads and from users.info
answers) and, for anyone else, asks users.info once, in the background:

- the input itself is never delayed: `heard()` only queues (no await) and the reaction
  goes to the core at once with no name;
- lookups take only budget the admin checks leave (`UserDirectory.lookup_spare`): they
  wait until the team's users.info meter is idle, use at most its `spare_share`, stop for
  a 429's Retry-After, and an admin check arriving meanwhile goes first;
- one lookup per person, queued once (a person already queued or looked up is not
  queued again); at most `limit` people wait across all teams, anyone beyond is dropped
  (logged once per fill) and queued again the next time they act;
- one worker per team with work (so one team's Retry-After pause does not hold up
  another's), ended by `stop()`;
- a lookup that fails (Slack's 5xx, a dropped connection, or the core failing to store
  the name) is tried once more after `retry_seconds`, then given up: the person stays
  shown by id, as before. A 429 is no failure (the lookup was not made): it waits for
  Retry-After. Slack's definitive answer without a name (`user_not_found`) is final.

Found names go to the core through `learn` (`Core.learn_name`), which cleans them like
every input's name and stores them unless it stored the same lately.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.users import RateLimited, UserDirectory
from bot.boundary import ChannelRef
from bot.service.errors import error_code

log = logging.getLogger(__name__)

LIMIT = 1_000  # people waiting for a lookup, all teams together
KNOWN_LIMIT = 100_000  # people whose name the adapter has seen (least recent out first)
RETRY_SECONDS = 60.0
ATTEMPTS = 2  # a failed lookup is tried once more, then given up

Learn = Callable[[ChannelRef, str, str], Awaitable[None]]
Key = tuple[str, str]  # team, user


@dataclass
class _Job:
    client: AsyncWebClient  # the request's client: it carries the installation's token
    ref: ChannelRef  # where they acted (the core stores names per workspace)
    user: str
    attempts: int = 0
    due: float = 0.0  # a retry's earliest time (the directory's monotonic clock)


class NameFiller:
    def __init__(
        self,
        directory: UserDirectory,
        learn: Learn,
        *,
        limit: int = LIMIT,
        known_limit: int = KNOWN_LIMIT,
        retry_seconds: float = RETRY_SECONDS,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._directory = directory
        self._learn = learn
        self._limit = limit
        self._known_limit = known_limit
        self._retry = retry_seconds
        self._monotonic = monotonic or directory.monotonic
        self._sleep = sleep or directory.sleep
        self._known: OrderedDict[Key, None] = OrderedDict()
        self._pending: set[Key] = set()  # queued, retrying or being looked up
        self._ready: dict[str, deque[_Job]] = {}
        self._retries: dict[str, deque[_Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._napping: set[str] = set()  # teams whose worker sleeps only for a retry
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._dropping = False
        self.dropped = 0  # people not queued because the queue was full
        self.learned = 0  # names handed to the core
        self.given_up = 0  # people whose lookups failed twice

    # -- what the handlers call (never awaits) -----------------------------------------

    def seen(self, team: str, user: str, name: str) -> None:
        """A payload named them: no lookup needed."""
        if name.strip():
            self._know((team, user))

    def heard(self, client: AsyncWebClient, ref: ChannelRef, user: str) -> None:
        """Someone acted without a name: look it up in the background unless the adapter
        has seen it (or is already looking)."""
        key = (ref.workspace_id, user)
        if self._closed or key in self._pending:
            return
        if key in self._known:
            self._known.move_to_end(key)
            return
        if len(self._pending) >= self._limit:
            self.dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning("Slack name lookups: %d people waiting already; dropping "
                            "more until the queue empties", self._limit)
            return
        self._pending.add(key)
        self._idle.clear()
        team = ref.workspace_id
        self._ready.setdefault(team, deque()).append(_Job(client, ref, user))
        self._wake(team)

    # -- lifecycle ---------------------------------------------------------------------

    async def idle(self) -> None:
        """Return once nobody is waiting for a lookup (tests; nothing else needs it)."""
        await self._idle.wait()

    def pending(self) -> int:
        return len(self._pending)

    async def stop(self) -> None:
        """Cancel every lookup not yet made; one under way is abandoned (its answer,
        if it comes, is cached by the directory and not stored)."""
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._ready.clear()
        self._retries.clear()
        self._pending.clear()
        self._idle.set()

    # -- the workers -------------------------------------------------------------------

    def _know(self, key: Key) -> None:
        self._known[key] = None
        self._known.move_to_end(key)
        while len(self._known) > self._known_limit:
            self._known.popitem(last=False)

    def _wake(self, team: str) -> None:
        task = self._workers.get(team)
        if task is not None and team in self._napping:
            task.cancel()  # asleep for a retry only: new work goes first
            task = None
        elif task is not None and task.done():
            task = None  # it has just ended: its done callback has not run yet
        if task is None:
            self._napping.discard(team)
            task = asyncio.create_task(self._work(team), name=f"slack-names-{team}")
            self._workers[team] = task
            task.add_done_callback(lambda done: self._ended(team, done))

    def _ended(self, team: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(team) is task:
            del self._workers[team]
            self._napping.discard(team)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack name lookups for team %s stopped (%s)", team,
                      error_code(task.exception() or Exception()))

    async def _work(self, team: str) -> None:
        ready = self._ready.setdefault(team, deque())
        retries = self._retries.setdefault(team, deque())
        while ready or retries:
            if ready:
                job = ready.popleft()
            else:
                wait = retries[0].due - self._monotonic()
                if wait > 0:
                    self._napping.add(team)
                    try:
                        await self._sleep(wait)
                    finally:
                        self._napping.discard(team)
                    continue
                job = retries.popleft()
            try:
                await self._one(job, ready, retries)
            except asyncio.CancelledError:
                ready.appendleft(job)  # stop(), or nothing: the job is not lost mid-way
                raise
        self._ready.pop(team, None)
        self._retries.pop(team, None)
        if not self._pending:
            self._idle.set()
            self._dropping = False

    async def _one(self, job: _Job, ready: deque[_Job], retries: deque[_Job]) -> None:
        key = (job.ref.workspace_id, job.user)
        try:
            found = await self._directory.lookup_spare(job.client, job.ref.workspace_id,
                                                       job.user)
            if found.name:
                await self._learn(job.ref, job.user, found.name)
                self.learned += 1
        except RateLimited:
            ready.appendleft(job)  # not made: after Retry-After (the directory waits)
            return
        except Exception as exc:  # LookupUnavailable, or the core could not store it
            job.attempts += 1
            if job.attempts < ATTEMPTS:
                log.info("Slack name lookup for a user of team %s failed (%s); trying "
                         "once more later", job.ref.workspace_id, error_code(exc))
                job.due = self._monotonic() + self._retry
                retries.append(job)
                return
            log.warning("Slack name lookup for a user of team %s failed again (%s); "
                        "they stay shown by id", job.ref.workspace_id, error_code(exc))
            self.given_up += 1
        self._pending.discard(key)
        self._know(key)
