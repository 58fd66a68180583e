"""The console plugin: `qotd console`, and the fallback channel that `qotd run` starts when
no platform is configured (never `is_configured()` itself, so it never runs next to one).

`qotd console` always runs on a FakeClock that starts at the real current time (or
`--start`), with no APScheduler: `advance 1d` moves time and fires what is due, so a week
plays in a second. Without `--db` it uses a throwaway SQLite file. `qotd run` instead uses
the real clock, the real scheduler and the configured database.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.console.outbound import ConsoleOutbound
from adapters.console.session import HELP, Session, UnknownLine, run_script
from bot.cli_core import guarded, prepare, settings_for
from bot.clock import FakeClock
from bot.plugins import CoreHandle
from bot.settings import CoreSettings

DEFAULT_USER = "admin"


def parse_start(text: str) -> datetime:
    """`--start 2027-01-04T08:00Z` (ISO 8601; a missing zone means UTC)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--start must be ISO 8601, e.g. 2027-01-04T08:00Z (got {text!r})"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return DEFAULT_USER
    return name if name.isalnum() and name[:1].isalpha() and len(name) <= 32 else DEFAULT_USER


class _Lines:
    """stdin lines as an async stream; a daemon thread reads so Ctrl-C never waits on it."""

    def __init__(self, stream: Any) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            for line in stream:
                loop.call_soon_threadsafe(self._queue.put_nowait, line)
            loop.call_soon_threadsafe(self._queue.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()

    async def next(self) -> str | None:
        return await self._queue.get()


async def interact(session: Session, *, stdin: Any = None, out: Any = None) -> None:
    """The REPL: print scheduled posts as they happen, run each line until end of input."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    tty = stdin.isatty()
    lines = _Lines(stdin)

    async def ticker() -> None:
        while True:
            await asyncio.sleep(1)
            for block in session.flush():
                print(block, file=out, flush=True)

    background = asyncio.ensure_future(ticker())
    try:
        while True:
            if tty:
                print(f"{session.user}> ", end="", file=out, flush=True)
            line = await lines.next()
            if line is None:
                break
            if not tty and line.strip():
                print(f"> {line.rstrip()}", file=out)
            try:
                blocks = await session.run_line(line)
            except UnknownLine as exc:
                blocks = [f'unknown command "{exc}"; try help']
            for block in blocks:
                print(block, file=out, flush=True)
    finally:
        background.cancel()
        for block in session.flush():
            print(block, file=out, flush=True)


async def first_question(session: Session) -> list[str]:
    """On a channel never scheduled: schedule it with the defaults and post one question
    now, so a newcomer sees the bot work before reading any docs."""
    if await session.core.is_scheduled(session.channel):
        return session.flush()
    blocks = await session.run_line("/qotd schedule")
    blocks += await session.run_line("/qotd post")
    return blocks


class _RunningConsole:
    """The console as `qotd run` starts it: `finished()` plays the REPL until EOF."""

    def __init__(self, core: CoreHandle, session: Session) -> None:
        self._core = core
        self._session = session

    async def finished(self) -> None:
        for block in await first_question(self._session):
            print(block, flush=True)
        print("Type `help` for commands; Ctrl-D ends.", flush=True)
        await interact(self._session)

    async def stop(self) -> None:
        self._core.router.unregister("console")


class ConsolePlugin:
    name = "console"

    def is_configured(self) -> bool:
        return False

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        parser = subparsers.add_parser(
            "console", help="a local channel in the terminal (scripts, demos, tries)",
            description="A local channel (console/local/general) on a fake clock that starts "
            "now (or at --start) and moves only with `advance`. The --as user is an admin.",
            epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--as", dest="user", default=_default_user(), metavar="NAME",
                            help="who you are (an admin unless --no-admin)")
        parser.add_argument("--admin", action=argparse.BooleanOptionalAction, default=True,
                            help="make the --as user a channel admin (default: yes)")
        parser.add_argument("--script", metavar="FILE", help="run lines from FILE (- for "
                            "stdin), echoing each; exit 2 at the first unknown line")
        parser.add_argument("--db", metavar="URL", help="database URL (default: a temporary "
                            "SQLite file, removed at exit)")
        parser.add_argument("--bank", metavar="DIR", help="bank directory (default: "
                            "QOTD_BANK_DIR or the shipped bank), e.g. examples/bank")
        parser.add_argument("--start", type=parse_start, metavar="ISO",
                            help="the clock's start, e.g. 2027-01-04T08:00Z (default: now)")
        parser.set_defaults(func=console_command)

    async def start(self, core: CoreHandle) -> _RunningConsole:
        outbound = ConsoleOutbound()
        core.router.register("console", outbound)
        user = _default_user()
        session = Session(core, outbound, user=user, admins={user.lower()})
        return _RunningConsole(core, session)


def console_command(args: argparse.Namespace) -> int:
    try:
        user = args.user
        script: list[str] | None = None
        if args.script == "-":
            script = sys.stdin.read().splitlines()
        elif args.script:
            try:
                script = Path(args.script).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                print(f"{args.script}: cannot read the script ({exc.strerror})", file=sys.stderr)
                return 2
        if args.bank and not Path(args.bank).is_dir():
            print(f"--bank {args.bank}: no such directory", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="qotd-console-") as tmp:
            db = args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'console.db'}"
            return guarded(db, lambda: asyncio.run(_console(args, user, db, script)))
    except UnknownLine as exc:
        print(f"qotd console: {exc}", file=sys.stderr)
        return 2


async def _console(
    args: argparse.Namespace, user: str, db: str, script: list[str] | None
) -> int:
    settings: CoreSettings = settings_for(db)
    if args.bank:
        settings = settings.model_copy(update={"bank_dir": args.bank})
    clock = FakeClock(args.start or datetime.now(UTC))
    core = await prepare(settings, clock=clock, use_scheduler=False)
    outbound = ConsoleOutbound()
    core.router.register("console", outbound)
    admins = {user.lower()} if args.admin else set()
    session = Session(core, outbound, user=user, clock=clock, admins=admins)
    try:
        await core.start()
        if script is not None:
            name = "<stdin>" if args.script == "-" else args.script
            return await run_script(session, script, name, sys.stdout, sys.stderr)
        print("qotd console: a fake clock starting " + session.now_text().removeprefix("now: ")
              + "; `advance 1d` moves it. Type `help`; Ctrl-D ends.")
        await interact(session)
        return 0
    finally:
        await core.stop()


plugin = ConsolePlugin()
