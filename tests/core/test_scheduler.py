"""APScheduler jobs are rebuilt from the database at start (inspected, never waited on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from adapters.console.outbound import ConsoleOutbound
from bot.app import build_core
from bot.boundary import ChannelRef
from bot.clock import FakeClock
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
