"""`python -m tests.runtime.qotd_with ARGS...`: the real `qotd` command line (`run`, with
logging, signals and exit status as in production) plus one scripted platform, `probe`,
next to the discovered plugins. The probe is driven through stdin, one line per event:

    transient CAUSE   its finished() raises AdapterFailed(fatal=False)
    fatal CAUSE       its finished() raises AdapterFailed(fatal=True)
    crash TEXT        its finished() raises RuntimeError (an exception escaping a client)
    (end of input)    its finished() returns (a normal end)

so a test can make a real `qotd run` process restart or die, and read what it printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot import cli, cli_core
from bot.plugins import AdapterFailed, AdapterPlugin, CoreHandle, discover


class RunningProbe:
    async def finished(self) -> None:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        kind, _, cause = line.strip().partition(" ")
        print(f"probe read {kind}", file=sys.stderr, flush=True)
        if kind == "crash":
            raise RuntimeError(cause)
        raise AdapterFailed("probe", cause, fatal=kind == "fatal")

    def connected(self) -> bool:
        return True

    async def stop(self) -> None:
        return None


class ProbePlugin:
    name = "probe"

    def is_configured(self) -> bool:
        return True

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        return None

    async def start(self, core: CoreHandle) -> RunningProbe:
        print("probe started", file=sys.stderr, flush=True)
        return RunningProbe()


def plugins() -> list[AdapterPlugin]:
    return [*discover(), ProbePlugin()]


if __name__ == "__main__":
    cli_core.discover = plugins  # type: ignore[attr-defined]
    sys.exit(cli.main(sys.argv[1:]))
