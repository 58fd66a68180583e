"""What every handler needs, built once by the composition root (bot.app)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.boundary import Actor, ChannelRef
from bot.clock import Clock
from bot.ports import OutboundRouter
from bot.rules.schedule import Schedule, parse_time
from bot.service.bank_cache import BankCache
from bot.service.failures import Failures
from bot.service.known_names import KnownNames
from bot.service.question_cache import ParsedQuestions
from bot.settings import CoreSettings
from storage.models import ChannelRow
from storage.uow import Database

Wake = Callable[[datetime], Awaitable[None]]


async def _nothing(_: datetime) -> None:
    return None


class SeedRunner(Protocol):
    """Runs reactions mode's seeding step (bot.service.seeding.Seeder): inline, or as a
    task of its own under the timer. A Protocol here because the Seeder needs Deps."""

    async def seed(self, post_id: int, ref: ChannelRef, message_id: str,
                   keys: tuple[str, ...]) -> None: ...


@dataclass
class Deps:
    db: Database
    router: OutboundRouter
    clock: Clock
    settings: CoreSettings
    # the timer's hook: "there may be work at this moment" (a schedule change, a new
    # post's reveal, a retry), so this process wakes then instead of at the next poll
    wake: Wake = field(default=_nothing)
    rng: random.Random = field(default_factory=random.Random)
    failures: Failures = field(default_factory=Failures)
    # the pickable bank between syncs (bot.service.bank_cache)
    bank: BankCache = field(default_factory=BankCache)
    parsed: ParsedQuestions = field(default_factory=ParsedQuestions)
    # display names this process stored lately: an unchanged one needs no write
    names: KnownNames = field(default_factory=KnownNames)
    # the core's Seeder (bot.app sets it); None, a Deps built without a core, seeds inline
    seeder: SeedRunner | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.grace_hours)

    def reveal_delay(self, channel: ChannelRow) -> timedelta:
        return self.reveal_delay_of(channel.reveal_hours)

    def reveal_delay_of(self, reveal_hours: float | None) -> timedelta:
        """A channel's reveal delay from its `reveal_hours` column (None: the default)."""
        return timedelta(hours=reveal_hours or self.settings.reveal_hours)

    def seed_for(self, channel: ChannelRow) -> str:
        """Per-channel seed so two channels do not post the same sequence."""
        return f"{self.settings.seed}:{channel.platform}:{channel.workspace_id}:{channel.channel_id}"

    def is_admin(self, actor: Actor) -> bool:
        extra = {a.strip() for a in self.settings.admins.split(",") if a.strip()}
        return actor.is_admin or actor.user_id in extra


def schedule_of(channel: ChannelRow) -> Schedule:
    return Schedule(
        time=parse_time(channel.post_time),
        timezone=channel.timezone,
        days=tuple(channel.days.split(",")),
    )


def ref_of(channel: ChannelRow) -> ChannelRef:
    return ChannelRef(channel.platform, channel.workspace_id, channel.channel_id)
