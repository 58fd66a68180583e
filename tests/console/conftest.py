"""A console Session on a real core and a temporary SQLite database, on the built-in
bank unless a test names another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from adapters.console.outbound import ConsoleOutbound
from adapters.console.session import Session
from bot.app import Core
from bot.cli_core import prepare
from bot.clock import FakeClock
from bot.settings import CoreSettings
from tests.dbstate import Snapshot
from tests.dbstate import snapshot as core_snapshot

ROOT = Path(__file__).resolve().parents[2]
DEMO_BANK = ROOT / "examples" / "bank"
MONDAY_EARLY = datetime(2027, 1, 4, 7, tzinfo=UTC)  # before the default 09:00 UTC post



@asynccontextmanager
async def console_session(db: Path, *, bank: Path | None = None,
                          start: datetime = MONDAY_EARLY,
                          user: str = "alice") -> AsyncIterator[Session]:
    """`bank=None` is the bank shipped in the package (what a newcomer gets)."""
    clock = FakeClock(start)
    settings = CoreSettings(database_url=f"sqlite+aiosqlite:///{db}",
                            bank_dir=str(bank) if bank else "")
    core: Core = await prepare(settings, clock=clock, use_scheduler=False)
    outbound = ConsoleOutbound()
    core.router.register("console", outbound)
    await core.start()
    try:
        yield Session(core, outbound, user=user, clock=clock, admins={user})
    finally:
        await core.stop()


async def snapshot(session: Session) -> Snapshot:
    """Every row of every table: a refused line must leave them all as they were."""
    core = session.core
    assert isinstance(core, Core)
    return await core_snapshot(core)
