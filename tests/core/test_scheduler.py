"""The timer: one APScheduler job per process, armed from the database's due rows
(inspected and fired by hand, never waited on)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.job import Job

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core, build_core
from bot.boundary import ChannelRef, OutMessage
from bot.clock import FakeClock
from bot.scheduler import WAKE_JOB_ID, WakeTimer
from bot.settings import CoreSettings
from tests.conftest import CHANNEL, cmd


def _wake_job(core: Core) -> Job:
    assert core.scheduler is not None
    jobs = core.scheduler.jobs()
    assert [job.id for job in jobs] == [WAKE_JOB_ID], "one job per process, no per-channel jobs"
    return jobs[0]


def _due_in(job: Job) -> timedelta:
    """How long (real time) until the job fires."""
    assert job.next_run_time is not None
    return job.next_run_time - datetime.now(UTC)


def _close(actual: timedelta, expected: timedelta) -> bool:
    return abs(actual - expected) < timedelta(seconds=5)


async def _scheduled_core(url: str, bank: Path, clock: FakeClock, outbound: ConsoleOutbound,
                          poll: float = 3600) -> Core:
    core = await build_core(
        CoreSettings(database_url=url, bank_dir=str(bank), poll_seconds=poll),
        clock=clock, use_scheduler=True,
    )
    core.router.register("console", outbound)
    await core.start()
    return core


async def test_one_job_armed_at_the_earliest_slot(migrated_url: str, bank_dir: Path,
                                                  clock: FakeClock) -> None:
    core = await _scheduled_core(migrated_url, bank_dir, clock, ConsoleOutbound())
    try:
        job = _wake_job(core)
        assert job.misfire_grace_time is None  # a late wake still runs: the engine decides
        assert _close(_due_in(job), timedelta(hours=1))  # nothing planned: the poll
        berlin = ChannelRef("console", "ws1", "berlin")
        await core.handle_command(cmd("qotd", "schedule", time="07:40", days="daily"))
        assert _close(_due_in(_wake_job(core)), timedelta(minutes=40))
        await core.handle_command(cmd("qotd", "schedule", channel=berlin, time="08:15",
                                      timezone="Europe/Berlin", days="daily"))
        # 08:15 in Berlin is 07:15 UTC: earlier, so the one job moves forward
        assert _close(_due_in(_wake_job(core)), timedelta(minutes=15))
        await core.handle_command(cmd("qotd", "pause", channel=berlin))
        await core.stop()
        core = await _scheduled_core(migrated_url, bank_dir, clock, ConsoleOutbound())
        # rebuilt from the database at start: the paused channel no longer counts
        assert _close(_due_in(_wake_job(core)), timedelta(minutes=40))
    finally:
        await core.stop()


async def test_poll_bounds_the_wait(migrated_url: str, bank_dir: Path,
                                    clock: FakeClock) -> None:
    """A replica must look at least every poll: another may have planned work."""
    core = await _scheduled_core(migrated_url, bank_dir, clock, ConsoleOutbound(), poll=30)
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        assert _close(_due_in(_wake_job(core)), timedelta(seconds=30))
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
    """What APScheduler does at a date job's run date."""
    await job.func()


async def test_failed_send_and_reveal_wake_the_timer_soon(migrated_url: str, bank_dir: Path,
                                                          clock: FakeClock) -> None:
    """With nothing else due before the next day's slot, a failure must bring the timer
    forward to its own backoff, or the day would be lost."""
    outbound = FailsFirstPostAndReveal()
    core = await _scheduled_core(migrated_url, bank_dir, clock, outbound)
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        await _fire(core, _wake_job(core))  # the send fails
        assert outbound.post_calls == 1 and outbound.posts() == []
        async with core.db.uow() as uow:
            channel = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                             CHANNEL.channel_id)
            assert channel is not None
            [pending] = [p for p in await uow.posts.sent([channel.id])] or [None]
        assert pending is None
        job = _wake_job(core)
        assert timedelta(seconds=1) < _due_in(job) <= timedelta(seconds=6)  # the backoff

        clock.advance(timedelta(seconds=6))
        await _fire(core, job)  # the retry sends once
        assert outbound.post_calls == 2 and len(outbound.posts()) == 1
        await _fire(core, _wake_job(core))  # a second wake-up finds nothing left to send
        assert outbound.post_calls == 2 and len(outbound.posts()) == 1

        # next due: the reveal, 8 h after the retried post
        assert _close(_due_in(_wake_job(core)), timedelta(hours=1))  # capped by the poll
        clock.advance(timedelta(hours=8))
        await _fire(core, _wake_job(core))
        assert outbound.reply_calls == 1 and outbound.threads() == []
        job = _wake_job(core)
        assert timedelta(seconds=1) < _due_in(job) <= timedelta(seconds=6)
        clock.advance(timedelta(seconds=6))
        await _fire(core, job)
        assert outbound.reply_calls == 2 and len(outbound.threads()) == 1
    finally:
        await core.stop()


async def test_poke_only_brings_the_wake_forward() -> None:
    clock = FakeClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    seen: list[datetime] = []
    timer: WakeTimer

    async def run() -> datetime | None:
        seen.append(clock.now())
        timer.poke(clock.now() + timedelta(seconds=5))  # a retry planned during the pass
        return clock.now() + timedelta(minutes=20)

    timer = WakeTimer(run, clock, timedelta(minutes=30))
    timer.start(clock.now() + timedelta(minutes=10))
    try:
        def due() -> timedelta:
            job = timer.job()
            assert job is not None
            return _due_in(job)

        assert _close(due(), timedelta(minutes=10))
        timer.poke(clock.now() + timedelta(minutes=15))  # later: kept at 10
        assert _close(due(), timedelta(minutes=10))
        timer.poke(clock.now() + timedelta(minutes=2))  # earlier: moved
        assert _close(due(), timedelta(minutes=2))
        job = timer.job()
        assert job is not None
        await job.func()
        assert seen == [clock.now()]
        assert _close(due(), timedelta(seconds=5))  # the poke made during the pass wins
        assert len(timer.jobs()) == 1
    finally:
        timer.shutdown()


async def test_a_failing_pass_is_retried_not_fatal() -> None:
    clock = FakeClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    calls = 0

    async def run() -> datetime | None:
        nonlocal calls
        calls += 1
        raise OSError("database is locked")

    timer = WakeTimer(run, clock, timedelta(seconds=30))
    timer.start(clock.now())
    try:
        for _ in range(3):
            job = timer.job()
            assert job is not None
            await job.func()
            assert job.next_run_time is not None
        job = timer.job()
        assert job is not None and _due_in(job) <= timedelta(seconds=30)
        assert calls == 3
    finally:
        timer.shutdown()


async def test_a_schedule_change_wakes_other_replicas_at_once(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """PostgreSQL: replica A schedules a post in 20 minutes; replica B, polling only
    hourly, re-arms for it as soon as A commits (LISTEN/NOTIFY), not at its next poll."""
    if not migrated_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite has one process")
    a = await _scheduled_core(migrated_url, bank_dir, clock, ConsoleOutbound())
    b = await _scheduled_core(migrated_url, bank_dir, FakeClock(clock.now()), ConsoleOutbound())
    try:
        assert b.listener is not None
        await asyncio.wait_for(b.listener.connected.wait(), 10)
        assert _close(_due_in(_wake_job(b)), timedelta(hours=1))
        await a.handle_command(cmd("qotd", "schedule", time="07:20", days="daily"))
        for _ in range(100):  # the notification crosses the server: wait for it, bounded
            if _due_in(_wake_job(b)) < timedelta(minutes=30):
                break
            await asyncio.sleep(0.05)
        assert _close(_due_in(_wake_job(b)), timedelta(minutes=20))
    finally:
        await a.stop()
        await b.stop()


async def test_a_wake_due_at_once_runs_under_the_real_scheduler() -> None:
    """A pass that finds work due again at once (a retry planned sooner than the pass
    took) re-arms the one job for now while APScheduler still counts the current run:
    the job must fire again, not be skipped and dropped (no wake ever again)."""
    clock = FakeClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    runs: list[int] = []
    again = asyncio.Event()

    async def run() -> datetime | None:
        runs.append(len(runs))
        if len(runs) >= 3:
            again.set()
            return None
        return clock.now()  # due again at once

    timer = WakeTimer(run, clock, timedelta(minutes=30))
    timer.start(clock.now())
    try:
        await asyncio.wait_for(again.wait(), 5)  # bounded wait for the real scheduler
        assert runs == [0, 1, 2]
        assert timer.job() is not None  # still armed, at the poll
    finally:
        timer.shutdown()
