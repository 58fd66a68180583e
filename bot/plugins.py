"""How the core finds adapters without importing them: `qotd.adapters` entry points.

Each adapter package exposes a `plugin` object satisfying AdapterPlugin. The command line
lists them for `qotd run` (start every configured one) and lets them add subcommands
(`qotd discord sync`). Keeping this indirection is what lets the import contract forbid
`bot` -> `adapters` while the composition root still starts them.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Protocol

from bot.boundary import ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
from bot.ports import OutboundRouter


class CoreHandle(Protocol):
    """What an adapter may call on the core: the three inputs, plus read-only lookups
    for autocomplete. Adapters register their Outbound on `router` when they start."""

    router: OutboundRouter

    async def handle_command(self, command: CommandInput) -> list[Reply]: ...

    async def handle_reaction(self, reaction: ReactionInput) -> list[Reply]: ...

    async def handle_button(self, button: ButtonInput) -> list[Reply]: ...

    async def topic_names(self) -> list[str]: ...

    async def is_scheduled(self, channel: ChannelRef) -> bool: ...


class AdapterFailed(Exception):
    """An adapter stopped by itself. `qotd run` restarts a transient failure with backoff
    and ends the process (exit status 1, one log line naming adapter and cause) on a fatal
    one: restarting cannot fix an invalid token or a missing permission.

    `cause` is for an operator: what happened and what to do, never a secret."""

    def __init__(self, adapter: str, cause: str, *, fatal: bool) -> None:
        super().__init__(f"{adapter}: {cause}")
        self.adapter = adapter
        self.cause = cause
        self.fatal = fatal


class RunningAdapter(Protocol):
    """A started adapter, as `qotd run` supervises it.

    `finished()` waits until the adapter ends by itself: it returns for a normal end (the
    console at end of input) and raises AdapterFailed when the adapter died (any other
    exception is treated as a transient AdapterFailed). An adapter that can only be
    stopped from outside never returns from it. `connected()` is what the health check
    reports: True while the adapter can receive events and send."""

    async def stop(self) -> None: ...

    async def finished(self) -> None: ...

    def connected(self) -> bool: ...


class AdapterPlugin(Protocol):
    name: str

    def is_configured(self) -> bool:
        """True when the credentials this adapter needs are set (env or qotd.toml)."""
        ...

    def add_cli(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add platform-specific subcommands (or none)."""
        ...

    async def start(self, core: CoreHandle) -> RunningAdapter:
        """Connect, register an Outbound on core.router, and return a handle to stop it."""
        ...


def discover() -> list[AdapterPlugin]:
    plugins: list[AdapterPlugin] = []
    for ep in sorted(entry_points(group="qotd.adapters"), key=lambda e: e.name):
        plugins.append(ep.load())
    return plugins
