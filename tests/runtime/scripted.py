"""A scripted adapter plugin for the supervision tests: each start plays the next `Life`
(start fails, runs until stopped, fails after a while, ends normally), and every start,
stop and failure is recorded. Time is a `FakeTime` whose sleep only moves a number, so a
backoff of a minute takes no time."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.console.outbound import ConsoleOutbound
from bot.plugins import AdapterFailed, CoreHandle
from bot.supervisor import Supervision

NEVER = "never"
RETURN = "return"


@dataclass
class FakeTime:
    """`monotonic` and `sleep` for Supervision: sleeping moves the time and returns.
    A test that wants to look inside a backoff sets `hold` and releases it."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)
    hold: asyncio.Event | None = None
    sleeping: asyncio.Event = field(default_factory=asyncio.Event)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.sleeping.set()
        if self.hold is not None:
            await self.hold.wait()
        self.sleeping.clear()
        self.now += seconds
        await asyncio.sleep(0)

    def policy(self, **overrides: Any) -> Supervision:
        return Supervision(sleep=self.sleep, monotonic=self.monotonic, **overrides)


@dataclass
class Life:
    """One start of the scripted adapter.

    `start_error`: plugin.start raises it. Otherwise `finished()` waits `up_for` seconds
    of FakeTime (moving it), then: raises `error`, or returns (RETURN), or waits until
    the adapter is stopped (NEVER)."""

    error: BaseException | str = NEVER
    up_for: float = 0.0
    start_error: BaseException | None = None


class ScriptedAdapter:
    def __init__(self, plugin: ScriptedPlugin, life: Life) -> None:
        self.plugin = plugin
        self.life = life
        self.stopped = asyncio.Event()
        self.up = True

    async def finished(self) -> None:
        await asyncio.sleep(0)
        self.plugin.time.now += self.life.up_for
        if isinstance(self.life.error, BaseException):
            self.up = False
            raise self.life.error
        if self.life.error == RETURN:
            return
        await self.stopped.wait()
        await asyncio.Event().wait()  # an adapter stopped from outside never returns

    def connected(self) -> bool:
        return self.up and self.plugin.up

    async def stop(self) -> None:
        self.plugin.events.append("stop")
        self.stopped.set()


@dataclass
class ScriptedPlugin:
    name: str
    lives: list[Life]
    time: FakeTime
    events: list[str] = field(default_factory=list)
    up: bool = True  # what connected() answers while running (the health tests flip it)
    outbound: ConsoleOutbound = field(default_factory=ConsoleOutbound)
    on_start: Callable[[CoreHandle], Awaitable[None]] | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def is_configured(self) -> bool:
        return True

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        return None

    async def start(self, core: CoreHandle) -> ScriptedAdapter:
        life = self.lives.pop(0) if self.lives else Life()
        self.events.append("start")
        if life.start_error is not None:
            raise life.start_error
        core.router.register(self.name, self.outbound)
        if self.on_start is not None:
            await self.on_start(core)
        self.started.set()
        return ScriptedAdapter(self, life)


def transient(name: str, cause: str) -> AdapterFailed:
    return AdapterFailed(name, cause, fatal=False)


def fatal(name: str, cause: str) -> AdapterFailed:
    return AdapterFailed(name, cause, fatal=True)
