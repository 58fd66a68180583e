"""APScheduler jobs are rebuilt from the database at start (inspected, never waited on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.job import Job
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core, build_core
from bot.boundary import ChannelRef, OutMessage
from bot.clock import FakeClock
from bot.scheduler import RETRY_JOB_ID, JobScheduler
from bot.service.posting import RETRY_DELAY
from bot.settings import CoreSettings
from tests.conftest import CHANNEL, cmd, make_core


async def test_jobs_rebuilt_from_database(migrated_url: str, bank_dir: Path,
                                          clock: FakeClock) -> None:
    setup = await make_core(migrated_url, bank_dir, clock, ConsoleOutbound())
    await setup.start()
    berlin = ChannelRef("console", "ws1", "berlin")
    paused = ChannelRef("console", "ws1", "paused")
    await setup.handle_command(cmd("qotd", "schedule", time="09:00", days="mon-fri"))
    await setup.handle_command(cmd("qotd", "schedule", channel=berlin, time="08:15",
                                   timezone="Europe/Berlin", days="sat,sun"))
    await setup.handle_command(cmd("qotd", "schedule", channel=paused))
    await setup.handle_command(cmd("qotd", "pause", channel=paused))
    await setup.handle_command(cmd("qotd", "post"))  # sent at 07:00: reveal at 15:00
    await setup.stop()

    core = await build_core(
        CoreSettings(database_url=migrated_url, bank_dir=str(bank_dir), grace_hours=2),
        clock=clock,
        use_scheduler=True,
    )
    core.router.register("console", ConsoleOutbound())
    await core.start()
    try:
        assert core.scheduler is not None
        jobs = {job.id: job for job in core.scheduler.jobs()}
        async with core.db.uow() as uow:
            pks = {
                name: (await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)).id  # type: ignore[union-attr]
                for name, ref in (("main", CHANNEL), ("berlin", berlin), ("paused", paused))
            }
            post = await uow.posts.latest_sent(pks["main"])
            assert post is not None
        assert set(jobs) == {f"post:{pks['main']}", f"post:{pks['berlin']}", f"reveal:{post.id}"}
        main, weekend = jobs[f"post:{pks['main']}"], jobs[f"post:{pks['berlin']}"]
        assert isinstance(main.trigger, CronTrigger)
        assert str(main.trigger.timezone) == "UTC"
        assert "day_of_week='mon,tue,wed,thu,fri'" in str(main.trigger)
        assert "hour='9'" in str(main.trigger) and "minute='0'" in str(main.trigger)
        assert str(weekend.trigger.timezone) == "Europe/Berlin"
        assert "day_of_week='sat,sun'" in str(weekend.trigger)
        assert main.misfire_grace_time == 7200 and main.coalesce is True
        reveal = jobs[f"reveal:{post.id}"]
        assert isinstance(reveal.trigger, DateTrigger)
        assert reveal.trigger.run_date == datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
        assert reveal.next_run_time - clock.now() == timedelta(hours=8)

        await core.handle_command(cmd("qotd", "pause"))
        assert f"post:{pks['main']}" not in {j.id for j in core.scheduler.jobs()}
        await core.handle_command(cmd("qotd", "resume", channel=paused))
        assert f"post:{pks['paused']}" in {j.id for j in core.scheduler.jobs()}
    finally:
        await core.stop()


class FailsFirstPostAndReveal(ConsoleOutbound):
    """The first post and the first thread reply fail; every later attempt works."""

    def __init__(self) -> None:
        super().__init__()
        self.post_calls = 0
        self.reply_calls = 0

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        self.post_calls += 1
        if self.post_calls == 1:
            raise ConnectionError("platform unavailable")
        return await super().post(channel, message, idempotency_key=idempotency_key)

    async def reply_in_thread(self, channel: ChannelRef, parent_message_id: str,
                              message: OutMessage, *, idempotency_key: str,
                              resend: bool = False) -> str:
        self.reply_calls += 1
        if self.reply_calls == 1:
            raise ConnectionError("platform unavailable")
        return await super().reply_in_thread(channel, parent_message_id, message,
                                             idempotency_key=idempotency_key)


async def _fire(core: Core, job: Job) -> None:
    """What APScheduler does at a date job's run date: drop the job, then run it."""
    assert core.scheduler is not None
    core.scheduler.scheduler.remove_job(job.id)
    await job.func()


def _retry_job(core: Core) -> Job:
    assert core.scheduler is not None
    jobs = {job.id: job for job in core.scheduler.jobs()}
    assert RETRY_JOB_ID in jobs, "a failed send must leave a retry job"
    job = jobs[RETRY_JOB_ID]
    assert isinstance(job.trigger, DateTrigger)
    return job


async def test_failed_send_and_reveal_schedule_a_retry(migrated_url: str, bank_dir: Path,
                                                       clock: FakeClock) -> None:
    """With the real scheduler nothing else wakes the core before the next day's slot, by
    which time the day would be past grace: a failure must plan its own retry."""
    outbound = FailsFirstPostAndReveal()
    core = await build_core(
        CoreSettings(database_url=migrated_url, bank_dir=str(bank_dir)),
        clock=clock,
        use_scheduler=True,
    )
    core.router.register("console", outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        await core.run_due()  # what the cron job wakes: the send fails
        assert outbound.post_calls == 1 and outbound.posts() == []
        retry = _retry_job(core)
        assert retry.trigger.run_date == clock.now() + RETRY_DELAY
        assert retry.misfire_grace_time == 3 * 3600 and retry.coalesce is True

        # fired as APScheduler fires a date job at its run date: the retry sends once
        clock.set(retry.trigger.run_date)
        await _fire(core, retry)
        assert outbound.post_calls == 2 and len(outbound.posts()) == 1
        await retry.func()  # a second wake-up finds nothing left to send
        await core.run_due()
        assert outbound.post_calls == 2 and len(outbound.posts()) == 1

        # the reveal (8 h after the retried post) fails once: a retry job again
        reveal_at = datetime(2027, 3, 1, 17, 1, tzinfo=UTC)
        async with core.db.uow() as uow:
            channel = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                             CHANNEL.channel_id)
            assert channel is not None
            post = await uow.posts.latest_sent(channel.id)
            assert post is not None and post.reveal_at == reveal_at
        assert core.scheduler is not None
        assert f"reveal:{post.id}" in {job.id for job in core.scheduler.jobs()}
        clock.set(reveal_at)
        await core.run_due()
        assert outbound.reply_calls == 1 and outbound.threads() == []
        retry = _retry_job(core)
        assert retry.trigger.run_date == reveal_at + RETRY_DELAY
        clock.set(retry.trigger.run_date)
        await _fire(core, retry)
        assert outbound.reply_calls == 2 and len(outbound.threads()) == 1
    finally:
        await core.stop()


async def test_retry_job_keeps_the_earliest_time() -> None:
    async def wake() -> None:
        return None

    first = datetime(2027, 3, 1, 9, 1, tzinfo=UTC)
    for running in (False, True):  # before start() jobs are only pending
        jobs = JobScheduler(wake, timedelta(hours=3))
        if running:
            jobs.start()
        try:
            jobs.set_retry(first)
            jobs.set_retry(first + timedelta(minutes=5))  # later: the earlier wake-up stays
            [job] = jobs.jobs()
            assert job.id == RETRY_JOB_ID and job.trigger.run_date == first
            jobs.set_retry(first - timedelta(seconds=30))  # earlier: moved forward, one job
            [job] = jobs.jobs()
            assert job.trigger.run_date == first - timedelta(seconds=30)
        finally:
            jobs.shutdown()
