"""The timer: one APScheduler 3 job per process that wakes the engine.

The database is the schedule (bot.service.engine); this only decides *when* to look:
at the earliest due moment the last pass reported, when something in this process says
there may be work sooner (`poke`: a schedule change, a retry, a reveal), and at least
every `poll` so that work another replica planned is seen. There are no per-channel
jobs, so ten thousand channels cost one job and start-up does no per-channel work.

The job runs whenever it wakes, however late (`misfire_grace_time=None`): whether a
slot is still within its grace window is the engine's decision, made from the database
and recorded as missed when it is not, never a job silently dropped by APScheduler.
Times are converted to the loop's real clock, so a shifted or fake clock (tests, demos)
wakes at the right moment and never spins on a date that is already past.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.rules.backoff import retry_delay
from bot.service.errors import error_code

log = logging.getLogger(__name__)

Pass = Callable[[], Awaitable[datetime | None]]
"""One engine pass; returns the next moment it has work (clock time), if any."""

WAKE_JOB_ID = "wake"


class WakeTimer:
    def __init__(self, run: Pass, clock: Clock, poll: timedelta) -> None:
        self._run = run
        self._clock = clock
        self._poll = poll
        self._rng = random.Random()
        self._running = False
        self._poked: datetime | None = None
        self._failures = 0
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            # Not 1: `_fire` re-arms the one job before APScheduler counts its own run as
            # finished, and a wake due at once would then be skipped as "maximum number
            # of running instances" and, a date trigger, removed: no wake ever again.
            # Overlap is handled in `_fire` instead.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 3},
        )

    def _real(self, when: datetime) -> datetime:
        """A clock time as the real time APScheduler waits for."""
        return datetime.now(UTC) + max(when - self._clock.now(), timedelta(0))

    async def _fire(self) -> None:
        if self._running:  # a pass is in progress: it re-arms when it ends, for now at latest
            self.poke(self._clock.now())
            return
        self._running = True
        self._poked = None
        try:
            upcoming = await self._run()
            if self._failures:
                log.warning("the posting pass works again after %d failed passes",
                            self._failures)
            self._failures = 0
        except Exception as exc:
            self._failures += 1
            delay = min(retry_delay(self._failures, self._rng), self._poll)
            log.error("posting pass failed (%s); trying again in %.0f s", error_code(exc),
                      delay.total_seconds())
            upcoming = self._clock.now() + delay
        finally:
            self._running = False
        poked, self._poked = self._poked, None
        self.arm(min((m for m in (upcoming, poked) if m is not None), default=None))

    def arm(self, when: datetime | None) -> None:
        """Wake at `when` (clock time), or at the next poll if that comes first."""
        latest = self._clock.now() + self._poll
        target = latest if when is None or when > latest else when
        self.scheduler.add_job(
            self._fire,
            trigger=DateTrigger(run_date=self._real(target)),
            id=WAKE_JOB_ID,
            name="wake the posting engine",
            replace_existing=True,
        )

    def poke(self, when: datetime) -> None:
        """There may be work at `when`: wake by then (never later than planned)."""
        if self._running:
            self._poked = when if self._poked is None else min(self._poked, when)
            return
        job = self.scheduler.get_job(WAKE_JOB_ID)
        if job is not None and job.next_run_time is not None and \
                job.next_run_time <= self._real(when):
            return
        self.arm(when)

    def job(self) -> Job | None:
        job: Job | None = self.scheduler.get_job(WAKE_JOB_ID)
        return job

    def jobs(self) -> list[Job]:
        jobs: list[Job] = self.scheduler.get_jobs()
        return jobs

    def start(self, first: datetime | None) -> None:
        if not self.scheduler.running:
            self.scheduler.start()
        self.arm(first)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
