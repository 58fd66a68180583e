"""The console plugin: `qotd console`, and the fallback channel that `qotd run` starts when
no platform is configured (never `is_configured()` itself, so it never runs next to one).

`qotd console` always runs on a FakeClock that starts at the real current time (or
`--start`), with no APScheduler: `advance 1d` moves time and fires what is due, so a week
plays in a second. Without `--db` it uses a throwaway SQLite file. `qotd run` instead uses
the real clock, the real scheduler and the configured database.
"""

from __future__ import annotations

import argparse
import getpass
import itertools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.plugins import AdapterFailed, CoreHandle

# `qotd --help` builds this plugin's parser on every start: the REPL (prompt_toolkit), the
# core, the database, the console's line language (bot.boundary, dataclasses), `logging`
# and `datetime` are imported by the methods that use them, never here.
if TYPE_CHECKING:
    from datetime import datetime

    from adapters.console.repl import interact
    from adapters.console.session import Session

__all__ = ["ConsolePlugin", "first_question", "interact", "plugin"]


def __getattr__(name: str) -> Any:
    """`interact` (the REPL, re-exported here) is imported when first asked for."""
    if name == "interact":
        from adapters.console.repl import interact

        return interact
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

DEFAULT_USER = "admin"


def parse_start(text: str) -> datetime:
    """`--start 2027-01-04T08:00Z` (ISO 8601; a missing zone means UTC)."""
    from datetime import UTC, datetime

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


_STARTS = itertools.count()


def id_prefix() -> str:
    """A prefix for this start's message ids (see ConsoleOutbound): the start time in
    milliseconds, base 36, and the starts of this process, so ids stay short and never
    repeat across starts."""
    n, digits = time.time_ns() // 1_000_000, ""
    while n:
        n, d = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + digits
    return f"{digits}.{next(_STARTS)}-"


async def first_question(session: Session) -> list[str]:
    """On a channel never scheduled: schedule it with the defaults and post one question
    now, so a newcomer sees the bot work before reading any docs. The status comes
    last: the schedule's own reply names the next post as it was before this one."""
    if await session.core.is_scheduled(session.channel):
        return session.flush()
    scheduled = await session.run_line("/qotd schedule")
    if session.refused:
        return scheduled
    blocks = await session.run_line("/qotd post")
    blocks += await session.run_line("/qotd status")
    return [FIRST_RUN, *blocks]


FIRST_RUN = ("This console channel had no schedule: it has the default one now "
             "(/qotd schedule changes it). A first question, and the status:")


class _RunningConsole:
    """The console as `qotd run` starts it: `finished()` plays the REPL until the end
    of input (it returns: a clean stop). Input or output that fails is fatal (restarting
    cannot bring a terminal back); any other failure of the loop is transient, and the
    restarted console reads on from the same input."""

    def __init__(self, core: CoreHandle, session: Session) -> None:
        self._core = core
        self._session = session
        self._up = True

    def connected(self) -> bool:
        return self._up

    async def finished(self) -> None:
        from adapters.console.repl import TerminalGone, interact

        try:
            for block in await first_question(self._session):
                print(block, flush=True)
            print("Type `help` for commands; Ctrl-D ends.", flush=True)
            await interact(self._session)
        except (TerminalGone, OSError) as exc:
            raise AdapterFailed(
                "console", f"the terminal's input or output failed ({describe(exc)}); "
                "run qotd again where it can read and print", fatal=True,
            ) from exc
        except Exception as exc:
            import logging

            logging.getLogger(__name__).error("the console's loop failed", exc_info=True)
            raise AdapterFailed("console", f"the console's loop failed ({describe(exc)})",
                                fatal=False) from exc
        finally:
            self._up = False

    async def stop(self) -> None:
        """Idempotent; leaves a newer start's outbound registered (a restart)."""
        self._up = False
        try:
            ours = self._core.router.for_channel(self._session.channel) is \
                self._session.outbound
        except LookupError:  # NoAdapter: already unregistered
            return
        if ours:
            self._core.router.unregister("console")


def describe(exc: BaseException) -> str:
    from adapters.console.repl import TerminalGone

    if isinstance(exc, TerminalGone):  # already says what failed
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# `qotd console --help` ends with the lines the console reads (adapters.console.session's
# HELP): the parser holds this placeholder, which _ConsoleHelp swaps for the text when the
# help is printed, so that building the parser (every `qotd` start) imports none of it.
_LINES = "<the console's lines: adapters.console.session.HELP>"


class _ConsoleHelp(argparse.RawDescriptionHelpFormatter):
    def add_text(self, text: str | None) -> None:
        if text == _LINES:
            from adapters.console.session import HELP

            text = HELP
        super().add_text(text)


class ConsolePlugin:
    name = "console"

    def is_configured(self) -> bool:
        return False

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        parser = subparsers.add_parser(
            "console", help="a local channel in the terminal (scripts, demos, tries)",
            description="A local channel (console/local/general) on a fake clock that starts "
            "now (or at --start) and moves only with `advance`. The --as user is an admin.",
            epilog=_LINES, formatter_class=_ConsoleHelp,
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
        from adapters.console.outbound import ConsoleOutbound
        from adapters.console.session import Session

        outbound = ConsoleOutbound(prefix=id_prefix(),  # the database outlives this start
                                   files_dir=files_dir())
        core.router.register("console", outbound)
        user = _default_user()
        session = Session(core, outbound, user=user, admins={user.lower()},
                          terminal=_at_terminal())
        return _RunningConsole(core, session)


def files_dir() -> Path | None:
    """`QOTD_CONSOLE_FILES=DIR`: where the console writes attachments (a /mastery chart)
    so they can be opened; unset, the console shows their alt text only."""
    import os

    from adapters.console.files import ENV

    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser() if value else None


def _at_terminal() -> bool:
    from adapters.console.repl import is_tty

    return is_tty(sys.stdin) and is_tty(sys.stdout)


def console_command(args: argparse.Namespace) -> int:
    import asyncio
    import tempfile

    from adapters.console.session import UnknownLine
    from bot.cli_core import guarded

    try:
        user = args.user
        script: list[str] | None = None
        if args.script:
            try:
                script = _read_script(args.script)
            except OSError as exc:
                print(f"{args.script}: cannot read the script ({exc.strerror})", file=sys.stderr)
                return 2
            except UnicodeDecodeError as exc:
                print(f"{args.script}: cannot read the script (not UTF-8 text: byte "
                      f"{exc.start})", file=sys.stderr)
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


def _read_script(name: str) -> list[str]:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8").splitlines()
    return Path(name).read_text(encoding="utf-8").splitlines()


async def _console(
    args: argparse.Namespace, user: str, db: str, script: list[str] | None
) -> int:
    from datetime import UTC, datetime

    from adapters.console.outbound import ConsoleOutbound
    from adapters.console.repl import TerminalGone, interact
    from adapters.console.session import Session, run_script
    from bot.cli_core import prepare, settings_for
    from bot.clock import FakeClock
    from bot.settings import CoreSettings

    settings: CoreSettings = settings_for(db)
    if args.bank:
        settings = settings.model_copy(update={"bank_dir": args.bank})
    clock = FakeClock(args.start or datetime.now(UTC))
    core = await prepare(settings, clock=clock, use_scheduler=False)
    outbound = ConsoleOutbound(prefix=id_prefix() if args.db else "", files_dir=files_dir())
    core.router.register("console", outbound)
    admins = {user.lower()} if args.admin else set()
    # Markdown drawn for a terminal (rich) only when a person reads it there; a script
    # and piped output keep the Markdown source, byte for byte
    session = Session(core, outbound, user=user, clock=clock, admins=admins,
                      terminal=script is None and _at_terminal())
    try:
        await core.start()
        if script is not None:
            name = "<stdin>" if args.script == "-" else args.script
            return await run_script(session, script, name, sys.stdout, sys.stderr)
        print("qotd console: a fake clock starting " + session.now_text().removeprefix("now: ")
              + "; `advance 1d` moves it. Type `help`; Ctrl-D ends.")
        try:
            await interact(session)
        except (TerminalGone, OSError) as exc:
            print(f"qotd console: the terminal's input or output failed ({describe(exc)})",
                  file=sys.stderr)
            return 1
        return 0
    finally:
        await core.stop()


plugin = ConsolePlugin()
