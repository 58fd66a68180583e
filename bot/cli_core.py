"""The bot's own commands: `qotd run`, `qotd db upgrade`, `qotd db sync`.

`qotd console` is added by the console plugin (adapters.console.plugin): the import
contract forbids `bot` from importing `adapters`, so this module reaches adapters only
through `bot.plugins.discover()`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.exc import SQLAlchemyError

from bot.app import Core, build_core
from bot.clock import Clock
from bot.plugins import AdapterPlugin, RunningAdapter, discover
from bot.settings import CoreSettings, load_core
from storage.migrate import upgrade

log = logging.getLogger(__name__)

NOISY = ("discord", "discord.http", "discord.gateway", "slack_bolt", "slack_sdk", "apscheduler",
         "aiosqlite", "sqlalchemy.engine", "alembic")


@runtime_checkable
class Finishing(RunningAdapter, Protocol):
    """A running adapter that can end by itself (the console at end of input)."""

    async def finished(self) -> None: ...


def configure_logging(level: str) -> None:
    """Once, at the entry point; libraries that chatter per request are turned down."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))


def settings_for(db: str | None) -> CoreSettings:
    """Settings from env/qotd.toml, with `--db` winning over both."""
    return load_core(database_url=db) if db else load_core()


def redact(url: str) -> str:
    """A database URL fit for a log line: the password is replaced."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _password(url: str) -> str:
    _, sep, rest = url.partition("://")
    creds = rest.rpartition("@")[0] if sep else ""
    return creds.partition(":")[2]


def guarded(url: str, work: Callable[[], int]) -> int:
    """Run a command; a database that cannot be reached or used is one clear line on
    stderr (with the password masked), not a traceback."""
    try:
        return work()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): not the database's fault; bot.cli handles it
    except (OSError, SQLAlchemyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        secret = _password(url)
        if secret:
            message = message.replace(secret, "***")
        print(f"qotd: the database {redact(url)} failed: {message}. Check DATABASE_URL or "
              "--db, and that the server is running.", file=sys.stderr)
        return 1


async def prepare(settings: CoreSettings, **core_options: Any) -> Core:
    """Migrate, then build the core (not started): what run, console and sync share."""
    await upgrade(settings.database_url)
    return await build_core(settings, **core_options)


# -- qotd db ---------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_for(args.db)

    def work() -> int:
        asyncio.run(upgrade(settings.database_url))
        print(f"database {redact(settings.database_url)} is at the latest schema")
        return 0

    return guarded(settings.database_url, work)


def _db_sync(args: argparse.Namespace) -> int:
    settings = settings_for(args.db)

    async def sync() -> int:
        core = await prepare(settings, use_scheduler=False)
        try:
            report = await core.sync_bank()
        finally:
            await core.stop()
        if report is None:
            print("the bank is empty: nothing was changed", file=sys.stderr)
            return 1
        print(f"bank synced: {report.upserted} questions, {report.retired} retired")
        return 0

    return guarded(settings.database_url, lambda: asyncio.run(sync()))


# -- qotd run --------------------------------------------------------------------------


def _plugin(plugins: list[AdapterPlugin], name: str) -> AdapterPlugin | None:
    return next((p for p in plugins if p.name == name), None)


async def serve(settings: CoreSettings, plugins: list[AdapterPlugin],
                install_signals: bool = True, clock: Clock | None = None) -> int:
    """Start the configured adapters (or the console) with the core on this one loop, and
    stop everything when a signal arrives or the console's input ends.

    `clock` is for tests that drive time (Core.advance_to); the scheduler still runs on
    this loop next to the adapters, as in production."""
    chosen = [p for p in plugins if p.is_configured()]
    if not chosen:
        console = _plugin(plugins, "console")
        if console is None:
            print("no adapter is configured and the console plugin is missing", file=sys.stderr)
            return 1
        log.info("no platform is configured: running the local console channel")
        chosen = [console]
    log.info("database %s; adapters: %s", redact(settings.database_url),
             ", ".join(p.name for p in chosen))
    core = await prepare(settings, use_scheduler=True, clock=clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    running: list[RunningAdapter] = []
    try:
        for plugin in chosen:
            running.append(await plugin.start(core))
        await core.start()
        waits: list[Callable[[], Awaitable[None]]] = [
            r.finished for r in running if isinstance(r, Finishing)
        ]
        tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        tasks += [asyncio.ensure_future(w()) for w in waits]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for adapter in reversed(running):
            try:
                await adapter.stop()
            except Exception:
                log.exception("an adapter failed to stop cleanly")
        await core.stop()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = settings_for(args.db)
    configure_logging(settings.log_level)
    return guarded(settings.database_url, lambda: asyncio.run(serve(settings, discover())))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="migrate, sync the bank and run every configured adapter",
        description="Migrate the database, sync the bank, then run every configured adapter "
        "(Discord, Slack) with the scheduler. With none configured, runs the local console "
        "channel on stdin/stdout and posts a question at once.",
    )
    run.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL or "
                     "qotd.toml, else ./qotd.db)")
    run.set_defaults(func=_run)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply the migrations up to the latest schema")
    up.add_argument("--db", metavar="URL", help="database URL")
    up.set_defaults(func=_db_upgrade)
    sync = db_sub.add_parser("sync", help="load the bank files into the database "
                             "(migrates first)")
    sync.add_argument("--db", metavar="URL", help="database URL")
    sync.set_defaults(func=_db_sync)
