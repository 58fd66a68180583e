"""What every handler needs, built once by the composition root (bot.app)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.boundary import Actor, ChannelRef
from bot.clock import Clock
from bot.ports import OutboundRouter
from bot.rules.schedule import Schedule, parse_time
from bot.settings import CoreSettings
from storage.models import ChannelRow
from storage.uow import Database

ChannelChanged = Callable[[int], Awaitable[None]]
RevealPlanned = Callable[[int, datetime], Awaitable[None]]
RetryPlanned = Callable[[datetime], Awaitable[None]]


async def _nothing_channel(_: int) -> None:
    return None


async def _nothing_reveal(_: int, __: datetime) -> None:
    return None


async def _nothing_retry(_: datetime) -> None:
    return None


@dataclass
class Deps:
    db: Database
    router: OutboundRouter
    clock: Clock
    settings: CoreSettings
    # hooks the scheduler sets so a schedule change or a new post updates its jobs, and
    # a failed send or reveal wakes the core again soon (not only at the next cron slot)
    channel_changed: ChannelChanged = field(default=_nothing_channel)
    reveal_planned: RevealPlanned = field(default=_nothing_reveal)
    retry_planned: RetryPlanned = field(default=_nothing_retry)

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.grace_hours)

    def reveal_delay(self, channel: ChannelRow) -> timedelta:
        return timedelta(hours=channel.reveal_hours or self.settings.reveal_hours)

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
