"""How the core finds adapters without importing them: `qotd.adapters` entry points.

Each adapter package exposes a `plugin` object satisfying AdapterPlugin. The command line
lists them for `qotd run` (start every configured one) and lets them add subcommands
(`qotd discord sync`). Keeping this indirection is what lets the import contract forbid
`bot` -> `adapters` while the composition root still starts them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, Protocol

# Every `qotd` start (`qotd --help` too) imports this module to list the plugins: the
# boundary types (dataclasses, inspect) are for annotations only, and importlib.metadata
# (email, zipfile, csv: with its scan of every distribution, some 30 ms of what was a
# 165 ms `qotd --help`) is imported only when the quick scan below cannot answer.
# tests/test_cli_speed.py keeps it that way.
if TYPE_CHECKING:
    from bot.boundary import ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
    from bot.ports import OutboundRouter

GROUP = "qotd.adapters"


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
    """Every `qotd.adapters` entry point, loaded, by name: what importlib.metadata's
    `entry_points(group=GROUP)` finds, without importing it on the usual installs."""
    found = entry_point_values(GROUP)
    return [load(value) for _, value in sorted(found, key=lambda e: e[0])]


def entry_point_values(group: str) -> list[tuple[str, str]]:
    """(name, value) of each entry point in `group`, in importlib.metadata's order."""
    quick = _scan(group)
    if quick is not None:
        return quick
    from importlib.metadata import entry_points

    return [(ep.name, ep.value) for ep in entry_points(group=group)]


def load(value: str) -> Any:
    """`module:attr.attr [extras]`, imported, as EntryPoint.load() does."""
    module_name, _, attrs = value.partition("[")[0].partition(":")
    from importlib import import_module

    found: Any = import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        found = getattr(found, attr)
    return found


def _scan(group: str) -> list[tuple[str, str]] | None:
    """importlib.metadata's search for `distributions()` made cheap: the `*.dist-info` and
    `*.egg-info` folders in each sys.path folder, the first of each normalized name
    winning, each one's entry_points.txt read for `group`. None (ask importlib.metadata)
    whenever its rules could answer differently: another finder that lists
    distributions, a zip or .egg on sys.path, a metadata folder it names by its metadata
    rather than its folder name, a file it would fail on. tests/test_cli_speed.py
    compares the two on made-up sys.paths."""
    from importlib.machinery import PathFinder

    if PathFinder not in sys.meta_path:
        return None
    for finder in sys.meta_path:
        if finder is not PathFinder and getattr(finder, "find_distributions", None):
            return None
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for root in sys.path:
        if not isinstance(root, str) or os.path.basename(root).lower().endswith(".egg"):
            return None
        try:
            children = os.listdir(root or ".")
        except OSError:
            if os.path.exists(root):  # a zip, which importlib.metadata reads inside
                return None
            continue
        for child in children:
            if not child.lower().endswith((".dist-info", ".egg-info")):
                continue
            if not child.endswith((".dist-info", ".egg-info")):
                return None  # `x.DIST-INFO`: importlib.metadata reads its name inside
            name = _normalize(child.rpartition(".")[0].partition("-")[0])
            if not name:
                return None  # `-1.0.dist-info`: named by its metadata too
            if name in seen:
                continue
            seen.add(name)
            try:
                with open(os.path.join(root or ".", child, "entry_points.txt"),
                          encoding="utf-8") as file:
                    text = file.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError,
                    PermissionError):
                continue
            except (OSError, ValueError):
                return None
            entries = _section(text, group)
            if entries is None:
                return None
            found += entries
    return found


def _section(text: str, group: str) -> list[tuple[str, str]] | None:
    """The `[group]` pairs of an entry_points.txt, read as importlib.metadata's
    Sectioned reads it (None for a line it would fail on)."""
    pairs: list[tuple[str, str]] = []
    section: str | None = None
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section is None:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            return None
        if section == group:
            pairs.append((name.strip(), value.strip()))
    return pairs


def _normalize(name: str) -> str:
    """importlib.metadata's Prepared.normalize (PEP 503, dashes as underscores) without
    importing `re`: each run of `-`, `_` and `.` becomes one `_`."""
    out: list[str] = []
    in_run = False
    for char in name.lower():
        if char in "-_.":
            if not in_run:
                out.append("_")
            in_run = True
        else:
            out.append(char)
            in_run = False
    return "".join(out)
