"""The bot's own commands: `qotd run`, `qotd status`, `qotd db upgrade`, `qotd db sync`.

`qotd console` is added by the console plugin (adapters.console.plugin): the import
contract forbids `bot` from importing `adapters`, so this module reaches adapters only
through `bot.plugins.discover()`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.plugins import AdapterPlugin, discover

# Building the `qotd` parser imports this module on every start (`qotd --help` too), so
# the database, the core, pydantic settings, aiohttp and even `logging` are imported by
# the commands that use them, never here. tests/test_cli_speed.py keeps it that way.
if TYPE_CHECKING:
    import asyncio
    import logging

    from bot.app import Core
    from bot.clock import Clock
    from bot.settings import CoreSettings
    from bot.supervisor import Supervision
    from content.bank import BankError
    from content.dedup import OverridesError

NOISY = ("discord", "discord.http", "discord.gateway", "slack_bolt", "slack_sdk", "apscheduler",
         "aiosqlite", "sqlalchemy.engine", "alembic")


def _log() -> logging.Logger:
    """This module's logger, for the commands that log (`logging` is not imported for
    `qotd --help`)."""
    import logging

    return logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    """Once, at the entry point; libraries that chatter per request are turned down."""
    import logging

    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))


def settings_for(db: str | None) -> CoreSettings:
    """Settings from env/qotd.toml, with `--db` winning over both."""
    from bot.settings import load_core

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


def mask(text: str, url: str) -> str:
    """`text` with the database password (if it appears) replaced."""
    secret = _password(url)
    return text.replace(secret, "***") if secret else text


def guarded(url: str, work: Callable[[], int]) -> int:
    """Run a command; a database that cannot be reached or used is one clear line on
    stderr (with the password masked), not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return work()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): not the database's fault; bot.cli handles it
    except (OSError, SQLAlchemyError) as exc:
        message = mask(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, url)
        print(f"qotd: the database {redact(url)} failed: {message}. Check DATABASE_URL or "
              "--db, and that the server is running.", file=sys.stderr)
        return 1


async def prepare(settings: CoreSettings, **core_options: Any) -> Core:
    """Migrate, then build the core (not started): what run, console and sync share."""
    from bot.app import build_core
    from storage.migrate import upgrade

    await upgrade(settings.database_url)
    return await build_core(settings, **core_options)


# -- qotd db ---------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    import asyncio

    from storage.migrate import upgrade

    settings = settings_for(args.db)

    def work() -> int:
        asyncio.run(upgrade(settings.database_url))
        print(f"database {redact(settings.database_url)} is at the latest schema")
        return 0

    return guarded(settings.database_url, work)


def _db_sync(args: argparse.Namespace) -> int:
    import asyncio

    from content.bank import BankError
    from content.dedup import OverridesError

    settings = settings_for(args.db)

    async def sync() -> int:
        core = await prepare(settings, use_scheduler=False)
        try:
            # the all-time board totals the triggers keep, summed again from attempts in
            # one transaction: whatever happened to them, a sync leaves them exact
            async with core.db.uow() as uow:
                await uow.queries.rebuild_totals()
                await uow.commit()
            report = await core.sync_bank()
        except (BankError, OverridesError) as exc:
            for line in bank_problems(exc):
                print(line, file=sys.stderr)
            return 2
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


def bank_problems(exc: BankError | OverridesError) -> list[str]:
    """The lines `qotd bank validate` prints for the same problem."""
    from content.bank import BankError

    return list(exc.problems) if isinstance(exc, BankError) else [str(exc)]


async def serve(settings: CoreSettings, plugins: list[AdapterPlugin],
                install_signals: bool = True, clock: Clock | None = None, *,
                supervision: Supervision | None = None,
                stop: asyncio.Event | None = None, freeze_heap: bool = False) -> int:
    """`qotd run`: migrate, sync the bank, start the configured adapters (or the console),
    then the timer and the first posting pass, all on this one loop; then supervise.

    The exit status: 0 after a signal, `stop` being set, or an adapter ending normally
    (the console at end of input); 1 when an adapter fails fatally (one CRITICAL line
    naming it and the cause); 2 for a broken bank file. `clock` is for tests that drive
    time (Core.advance_to); the scheduler still runs on this loop next to the adapters.
    `freeze_heap`: once started, the heap is kept out of the collector's full passes
    (bot.heap); the process's own `qotd run` asks for it, tests that serve in-process
    do not (their heap is the test run's)."""
    import asyncio
    import signal

    from bot.supervisor import Supervision

    log = _log()
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
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        core = await prepare(settings, use_scheduler=True, clock=clock)
        return await _supervise(settings, core, chosen, supervision or Supervision(), stop,
                                freeze_heap)
    finally:
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def _supervise(settings: CoreSettings, core: Core, chosen: list[AdapterPlugin],
                     policy: Supervision, stop: asyncio.Event, freeze_heap: bool) -> int:
    from bot.health import HealthServer
    from bot.supervisor import Fatal, Supervised, until_done
    from content.bank import BankError
    from content.dedup import OverridesError

    log = _log()
    adapters = [Supervised(p, core, policy, lambda text: mask(text, settings.database_url))
                for p in chosen]
    health: HealthServer | None = None
    try:
        try:
            await core.sync_bank()  # before any adapter: events find the bank synced
        except (BankError, OverridesError) as exc:
            for line in bank_problems(exc):
                print(line, file=sys.stderr)
            return 2
        if settings.health_port is not None:
            health = HealthServer(settings.health_host, settings.health_port,
                                  lambda: {a.name: a.connected() for a in adapters})
            try:
                await health.start()
            except OSError as exc:
                health = None
                log.critical("the health check cannot listen on %s:%d: %s; exiting",
                             settings.health_host, settings.health_port, exc.strerror or exc)
                return 1
            log.info("health check on %s", health.url)
        for adapter in adapters:
            if stop.is_set():
                return 0
            try:
                await adapter.start()
            except Fatal as exc:
                log.critical("adapter %s failed: %s; exiting", exc.adapter, exc.cause)
                return 1
        await core.begin_posting()
        if freeze_heap:
            from bot.heap import freeze_startup_heap

            freeze_startup_heap()  # started: what is alive now lives as long as the process
        return await until_done(adapters, stop)
    finally:
        if health is not None:
            await health.stop()
        for adapter in reversed(adapters):
            await adapter.stop()
        await core.stop()


def _run(args: argparse.Namespace) -> int:
    import asyncio

    settings = settings_for(args.db)
    configure_logging(settings.log_level)
    return guarded(settings.database_url,
                   lambda: asyncio.run(serve(settings, discover(), freeze_heap=True)))


# -- qotd status -----------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    import asyncio

    from bot.health import probe
    from bot.settings import load_core

    settings = load_core()
    port = args.port if args.port is not None else settings.health_port
    host = args.host or settings.health_host
    if port is None:
        print("qotd status: no health port: set QOTD_HEALTH_PORT (for `qotd run` and here) "
              "or pass --port", file=sys.stderr)
        return 2
    result = asyncio.run(probe(host, port, within=args.timeout))
    print(result.line)
    return 0 if result.healthy else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="migrate, sync the bank and run every configured adapter",
        description="Migrate the database, sync the bank, then run every configured adapter "
        "(Discord, Slack) with the scheduler. With none configured, runs the local console "
        "channel on stdin/stdout and posts a question at once. An adapter that stops is "
        "restarted with backoff (1 s doubling to 60 s), or, when a restart cannot help (an "
        "invalid token), the process exits with status 1 after one CRITICAL line naming the "
        "adapter and the cause. Exit status 0: stopped by SIGTERM/SIGINT or end of input; "
        "1: an adapter or the database failed; 2: a bad setting or bank file. With "
        "QOTD_HEALTH_PORT set, GET /health answers 200 or 503 (see `qotd status`).",
    )
    run.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL or "
                     "qotd.toml, else ./qotd.db)")
    run.set_defaults(func=_run)

    status = sub.add_parser(
        "status", help="ask a running `qotd run` whether every adapter is connected",
        description="Ask the health endpoint of a running `qotd run` (QOTD_HEALTH_PORT, "
        "QOTD_HEALTH_HOST) and print one line. Exit status 0: every adapter is connected; "
        "1: degraded or not answering; 2: no port configured.",
    )
    status.add_argument("--health", action="store_true",
                        help="check the health endpoint (the default, and the only check)")
    status.add_argument("--port", type=int, metavar="N",
                        help="health port (default: QOTD_HEALTH_PORT)")
    status.add_argument("--host", metavar="HOST",
                        help="health host (default: QOTD_HEALTH_HOST, else 127.0.0.1)")
    status.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds to wait for the answer (default: 5)")
    status.set_defaults(func=_status)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply the migrations up to the latest schema")
    up.add_argument("--db", metavar="URL", help="database URL")
    up.set_defaults(func=_db_upgrade)
    sync = db_sub.add_parser("sync", help="load the bank files into the database "
                             "(migrates first)")
    sync.add_argument("--db", metavar="URL", help="database URL")
    sync.set_defaults(func=_db_sync)
