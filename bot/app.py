"""The composition root: storage, rules, scheduler and the outbound router in one place.

Adapters (and the console, and tests) get a `Core` from `build_core()`, register their
Outbound on `core.router`, then call `start()`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import content
from bot.boundary import ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
from bot.clock import Clock, FakeClock, SystemClock
from bot.ports import OutboundRouter
from bot.scheduler import JobScheduler
from bot.service import answers, commands, posting
from bot.service.bank_sync import SyncReport, sync_bank
from bot.service.deps import Deps, schedule_of
from bot.settings import CoreSettings
from content.bank import load_bank
from content.dedup import group, load_overrides
from storage.uow import Database

log = logging.getLogger(__name__)

OVERRIDES_FILE = "overrides.yaml"


def bank_directory(settings: CoreSettings) -> Path:
    """`bank_dir` when set, else the bank shipped inside the package."""
    if settings.bank_dir:
        return Path(settings.bank_dir)
    return Path(content.__file__).resolve().parent / "bank"


class Core:
    """Satisfies bot.plugins.CoreHandle; see docs/architecture.md for the API."""

    def __init__(self, settings: CoreSettings, clock: Clock, use_scheduler: bool) -> None:
        self.settings = settings
        self.clock = clock
        self.router = OutboundRouter()
        self.db = Database(settings.database_url)
        self.deps = Deps(db=self.db, router=self.router, clock=clock, settings=settings)
        self.scheduler: JobScheduler | None = None
        if use_scheduler:
            self.scheduler = JobScheduler(self.run_due, self.deps.grace)
            self.deps.channel_changed = self._channel_changed
            self.deps.reveal_planned = self._reveal_planned
            self.deps.retry_planned = self._retry_planned

    async def sync_bank(self) -> SyncReport | None:
        directory = bank_directory(self.settings)
        bank = list(load_bank(directory))
        if not bank:
            log.warning("the bank in %s is empty; keeping the questions already stored", directory)
            return None
        groups = group(bank, load_overrides(directory / OVERRIDES_FILE))
        async with self.db.uow() as uow:
            report = await sync_bank(uow, bank, groups, now=self.clock.now())
        log.info("bank synced: %d questions, %d retired", report.upserted, report.retired)
        return report

    async def start(self) -> None:
        """Sync the bank, rebuild the jobs from the database, then catch up (grace)."""
        await self.sync_bank()
        if self.scheduler is not None:
            await self._rebuild_jobs()
            self.scheduler.start()
        await self.run_due()

    async def _rebuild_jobs(self) -> None:
        assert self.scheduler is not None
        now = self.clock.now()
        async with self.db.uow() as uow:
            channels = await uow.channels.scheduled()
            reveals = await uow.posts.pending_reveals()
        for channel in channels:
            self.scheduler.set_channel(channel.id, None if channel.paused else schedule_of(channel))
        for post in reveals:
            if post.reveal_at is not None:
                self.scheduler.set_reveal(post.id, post.reveal_at, now)

    async def _channel_changed(self, channel_pk: int) -> None:
        assert self.scheduler is not None
        async with self.db.uow() as uow:
            channel = await uow.channels.by_pk(channel_pk)
        active = channel is not None and channel.scheduled and not channel.paused
        self.scheduler.set_channel(
            channel_pk, schedule_of(channel) if active and channel is not None else None
        )

    async def _reveal_planned(self, post_id: int, when: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.set_reveal(post_id, when, self.clock.now())

    async def _retry_planned(self, when: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.set_retry(when)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        await self.db.dispose()

    async def run_due(self) -> None:
        await posting.run_due(self.deps)

    async def advance_to(self, when: datetime) -> None:
        """Move a FakeClock through every due moment up to `when`, running what is due
        at each, in order (a week plays in milliseconds, nothing sleeps)."""
        clock = self.clock
        if not isinstance(clock, FakeClock):
            raise TypeError("advance_to needs a FakeClock; the system clock moves by itself")
        if when < clock.now():
            raise ValueError("advance_to cannot move the clock backwards")
        await self.run_due()
        while True:
            moment = await posting.next_due(self.deps, clock.now())
            if moment is None or moment > when:
                break
            clock.set(moment)
            await self.run_due()
        clock.set(when)
        await self.run_due()

    async def handle_command(self, command: CommandInput) -> list[Reply]:
        return await commands.handle_command(self.deps, command)

    async def handle_reaction(self, reaction: ReactionInput) -> list[Reply]:
        return await answers.handle_reaction(self.deps, reaction)

    async def handle_button(self, button: ButtonInput) -> list[Reply]:
        return await answers.handle_button(self.deps, button)

    async def topic_names(self) -> list[str]:
        async with self.db.uow() as uow:
            return await uow.questions.topics()

    async def is_scheduled(self, channel: ChannelRef) -> bool:
        """Whether an admin has scheduled this channel (paused or not)."""
        async with self.db.uow() as uow:
            row = await uow.channels.get(channel.platform, channel.workspace_id,
                                         channel.channel_id)
            return row is not None and row.scheduled


async def build_core(
    settings: CoreSettings, *, clock: Clock | None = None, use_scheduler: bool = True
) -> Core:
    """Build (not start) the core. The database must be migrated (storage.migrate.upgrade)."""
    return Core(settings, clock or SystemClock(), use_scheduler)
