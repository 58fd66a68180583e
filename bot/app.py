"""The composition root: storage, rules, scheduler and the outbound router in one place.

Adapters (and the console, and tests) get a `Core` from `build_core()`, register their
Outbound on `core.router`, then call `start()`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import content
from bot.boundary import Actor, ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
from bot.clock import Clock, FakeClock, OffsetClock, SystemClock
from bot.ports import OutboundRouter
from bot.rules.review import is_review_action
from bot.scheduler import WakeTimer
from bot.service import answers, commands, engine, intake, review, seeding
from bot.service.bank_sync import SyncReport, sync_bank
from bot.service.deps import Deps
from bot.service.errors import error_code
from bot.settings import CoreSettings
from content.bank import load_bank
from content.dedup import group, load_overrides
from storage.notify import WakeListener
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
        # a pass runs up to send_concurrency steps at once, each holding one connection
        # at a time (plus a lease renewal); commands and events need their own
        self.db = Database(settings.database_url, pool_size=settings.send_concurrency + 4,
                           max_overflow=settings.send_concurrency + 4)
        self.deps = Deps(db=self.db, router=self.router, clock=clock, settings=settings)
        self.scheduler: WakeTimer | None = None
        self.listener: WakeListener | None = None
        if use_scheduler:
            self.scheduler = WakeTimer(self._pass, clock,
                                       timedelta(seconds=settings.poll_seconds))
            self.deps.wake = self._wake
            if self.db.dialect == "postgresql":
                self.listener = WakeListener(settings.database_url, self.scheduler.poke)
        # reactions mode's seeds: their own tasks under the timer (`qotd run`: a seed
        # never holds a send slot), inline without it (tests, the console)
        self.seeder = seeding.Seeder(self.deps, background=use_scheduler)
        self.deps.seeder = self.seeder

    async def sync_bank(self) -> SyncReport | None:
        directory = bank_directory(self.settings)
        bank = list(load_bank(directory))
        if not bank:
            log.warning("the bank in %s is empty; keeping the questions already stored", directory)
            return None
        groups = group(bank, load_overrides(directory / OVERRIDES_FILE))
        async with self.db.uow() as uow:
            await uow.lock_for("bank-sync")  # replicas starting at once sync one at a time
            report = await sync_bank(uow, bank, groups, now=self.clock.now())
        # other replicas' syncs show as a new `synced_at`; this one may reuse the time (a
        # fake clock that did not move), so its own parses go at once
        self.deps.parsed.clear()
        log.info("bank synced: %d questions, %d retired", report.upserted, report.retired)
        return report

    async def start(self) -> None:
        """Sync the bank, then begin posting. `qotd run` calls the two halves itself, with
        the adapters started in between (they must find the bank synced, and the first
        pass needs their Outbound registered)."""
        await self.sync_bank()
        await self.begin_posting()

    async def begin_posting(self) -> None:
        """One engine pass (the catch-up within grace) and the timer. Nothing per
        channel: the due work is found by the pass's indexed queries."""
        # the bank cache, read once here (after the bank sync) rather than by the first
        # `/qotd post` or pass; commands that only sync (`qotd db sync`) never need it.
        # It fills itself on first use, so a database blip here only defers the read.
        try:
            await self.deps.bank.warm(self.db)
        except Exception as exc:
            log.warning("could not read the bank ahead (%s); the first use reads it",
                        error_code(exc))
        if self.scheduler is None:
            await self.run_due()
            await self.seeder.reseed(self.router.platforms())
            return
        self.scheduler.start(None)
        if self.listener is not None:
            self.listener.start()
        try:
            first = await self._pass()
        except Exception as exc:  # the timer retries; a database blip must not stop start-up
            log.error("the first posting pass failed (%s); the timer retries",
                      error_code(exc))
            first = self.clock.now()
        self.scheduler.arm(first)
        # reactions mode: seeds a stopped process did not add, off the start-up path
        # (the adapters pace them by their rate limits)
        await self.seeder.reseed(self.router.platforms())

    async def _pass(self) -> datetime | None:
        # from the pass's start: work that fell due while it ran (a retry planned sooner
        # than the pass took) is due now, not at the next poll
        started = self.clock.now()
        await engine.run_due(self.deps)
        return await engine.next_due(self.deps, started)

    async def _wake(self, when: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.poke(when)

    async def stop(self) -> None:
        await self.seeder.stop()  # unfinished seeds stay marked: the next start adds them
        self.deps.seeder = None
        if self.listener is not None:
            await self.listener.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        await self.db.dispose()

    async def run_due(self) -> None:
        await engine.run_due(self.deps)

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
            moment = await engine.next_due(self.deps, clock.now())
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
        if is_review_action(button.action):
            return await review.handle_button(self.deps, button)
        return await answers.handle_button(self.deps, button)

    async def learn_name(self, ref: ChannelRef, user_id: str, display_name: str) -> None:
        """A display name an adapter learned outside an input (Slack's users.info for
        someone who only reacts): cleaned as every input's name is (intake), stored the
        way commands store theirs, and not at all when this process stored it lately
        (KnownNames). A name that is empty once cleaned, or a malformed id, is ignored."""
        if not intake.ids_ok(ref, user_id):
            return
        name = intake.actor(Actor(user_id, display_name, False)).display_name
        if not name:
            return
        now = self.clock.now()
        key = (ref.platform, ref.workspace_id, user_id)
        if self.deps.names.is_stored(key, name, now):
            return
        async with self.db.uow() as uow:
            await uow.users.remember_name(ref.platform, ref.workspace_id, user_id, name, now)
            await uow.commit()
        self.deps.names.stored(key, name, now)

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
    if clock is None:
        offset = timedelta(seconds=settings.clock_offset_seconds)
        clock = OffsetClock(offset) if offset else SystemClock()
    return Core(settings, clock, use_scheduler)
