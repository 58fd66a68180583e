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


class RunningAdapter(Protocol):
    async def stop(self) -> None: ...


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
