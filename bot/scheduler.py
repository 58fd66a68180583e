"""APScheduler 3 jobs mirroring the database: one cron job per scheduled channel, a
date job per pending reveal, and one date job to retry a failed send or reveal soon.

The jobs only wake the core up; what to do is decided from the database (`run_due`),
so a job store lost at restart, a missed fire or a second process changes nothing: the
jobs are rebuilt from the database at start, and the database claim makes posting
exactly-once. Job defaults are set explicitly because APScheduler's own
(misfire_grace_time=1 s) silently skip a job that wakes a little late.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.rules.schedule import Schedule

log = logging.getLogger(__name__)

Wake = Callable[[], Awaitable[None]]


def post_job_id(channel_pk: int) -> str:
    return f"post:{channel_pk}"


def reveal_job_id(post_id: int) -> str:
    return f"reveal:{post_id}"


RETRY_JOB_ID = "retry"


class JobScheduler:
    def __init__(self, wake: Wake, grace: timedelta) -> None:
        self._wake = wake
        self._grace_seconds = max(1, int(grace.total_seconds()))
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "misfire_grace_time": self._grace_seconds,
                "coalesce": True,
                "max_instances": 1,
            },
        )

    async def _fire(self) -> None:
        try:
            await self._wake()
        except Exception:
            log.exception("scheduled run failed; the next run or a restart catches up")

    def set_channel(self, channel_pk: int, schedule: Schedule | None) -> None:
        """(Re)place the channel's cron job; None removes it (paused or unscheduled)."""
        job_id = post_job_id(channel_pk)
        if schedule is None:
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)
            return
        self.scheduler.add_job(
            self._fire,
            trigger=schedule.cron_trigger(),
            id=job_id,
            name=f"post in channel {channel_pk}",
            replace_existing=True,
            misfire_grace_time=self._grace_seconds,
            coalesce=True,
        )

    def set_reveal(self, post_id: int, when: datetime, now: datetime) -> None:
        """A date job at the reveal time; past reveals are left to run_due."""
        if when <= now:
            return
        self.scheduler.add_job(
            self._fire,
            trigger=DateTrigger(run_date=when),
            id=reveal_job_id(post_id),
            name=f"reveal post {post_id}",
            replace_existing=True,
            misfire_grace_time=self._grace_seconds,
            coalesce=True,
        )

    def set_retry(self, when: datetime) -> None:
        """One date job that wakes the core to retry failed sends and reveals. An earlier
        pending retry is kept (it retries everything that is due then); a later one is
        moved forward to `when`."""
        job = self.scheduler.get_job(RETRY_JOB_ID)
        if job is not None and isinstance(job.trigger, DateTrigger):
            pending: datetime = job.trigger.run_date
            if pending <= when:
                return
        if job is not None:  # replace_existing does not apply before the scheduler starts
            self.scheduler.remove_job(RETRY_JOB_ID)
        self.scheduler.add_job(
            self._fire,
            trigger=DateTrigger(run_date=when),
            id=RETRY_JOB_ID,
            name="retry failed sends",
            replace_existing=True,
            misfire_grace_time=self._grace_seconds,
            coalesce=True,
        )

    def jobs(self) -> list[Job]:
        jobs: list[Job] = self.scheduler.get_jobs()
        return jobs

    def start(self) -> None:
        if not self.scheduler.running:
            self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
