"""Shared fixtures: a migrated database on SQLite and PostgreSQL, and a Core on it.

The PostgreSQL leg runs when QOTD_TEST_DATABASE_URL names a server (CI sets it); each
test gets its own schema so tests stay independent and the schema is dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core, build_core
from bot.boundary import Actor, ChannelRef, CommandInput
from bot.clock import FakeClock
from bot.settings import CoreSettings
from content.bank import write_bank_file
from content.model import Note, Question, SourceRef
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import PostRow
from storage.uow import UnitOfWork

PG_ENV = "QOTD_TEST_DATABASE_URL"
PG_HINT = f"set {PG_ENV}=postgresql+asyncpg://… to run the PostgreSQL leg"


def pg_base() -> str:
    """The test PostgreSQL server's URL; skips with the reason without one, and fails
    under CI=true, where the PostgreSQL leg is required."""
    base = os.environ.get(PG_ENV, "")
    if not base:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the PostgreSQL leg is required in CI: {PG_HINT}")
        pytest.skip(PG_HINT)
    return base


async def new_schema(base: str, prefix: str = "t") -> str:
    """A fresh private schema on the server; its URL (our `?schema=` option)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema={schema}"


async def drop_schema(base: str, url: str) -> None:
    schema = url.rsplit("schema=", 1)[1]
    admin = make_engine(base)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (not migrated) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"
        return
    base = pg_base()
    url = await new_schema(base)
    try:
        yield url
    finally:
        await drop_schema(base, url)


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await upgrade(database_url)
    return database_url


SRC = "tests/bank-source.md"


def q(prompt: str, topic: str, difficulty: str = "medium", *, line: int, **kw: object) -> Question:
    return Question.make(
        prompt=prompt, source=SourceRef(file=SRC, line=line), topic=topic,
        difficulty=difficulty,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def sample_questions() -> list[Question]:
    """A small bank: three topics, both kinds, one near-duplicate pair."""
    return [
        q("What does a feature store give you that a data warehouse does not?", "Features",
          "medium", line=1, answer="Point-in-time correct features for training and low-latency "
          "serving from one definition.", notes=(Note(label="Tip", text="Mention skew."),)),
        q("Which metric detects data drift on a categorical feature?", "Monitoring", "easy",
          line=5, kind="choice", choices=("RMSE", "Population stability index", "F1"),
          correct="B", explanation="PSI compares binned distributions."),
        q("What is training-serving skew?", "Monitoring", "medium", line=9,
          answer="A difference between features at training time and at serving time."),
        q("How would you roll out a new model version safely?", "Deployment", "hard", line=13,
          answer="Shadow, then canary with automatic rollback on metric regressions."),
        q("Which deployment strategy sends a copy of live traffic to the new model?",
          "Deployment", "medium", line=17, kind="choice",
          choices=("Blue/green", "Shadow", "Recreate", "Rolling"), correct="B"),
        q("What is a model registry for?", "Features", "easy", line=21,
          answer="Versioning models with metadata and stage transitions."),
    ]


def write_bank(directory: Path, questions: list[Question]) -> None:
    write_bank_file(directory / "sample.yaml", SRC, "markdown", questions)


START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bank"
    directory.mkdir()
    write_bank(directory, sample_questions())
    return directory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def console() -> ConsoleOutbound:
    return ConsoleOutbound()


async def make_core(
    url: str, bank: Path, clock: FakeClock, outbound: ConsoleOutbound, **settings: object
) -> Core:
    core = await build_core(
        CoreSettings(database_url=url, bank_dir=str(bank), **settings),  # type: ignore[arg-type]
        clock=clock,
        use_scheduler=False,
    )
    core.router.register("console", outbound)
    return core


@pytest.fixture
async def core(
    migrated_url: str, bank_dir: Path, clock: FakeClock, console: ConsoleOutbound
) -> AsyncIterator[Core]:
    core = await make_core(migrated_url, bank_dir, clock, console)
    await core.start()
    try:
        yield core
    finally:
        await core.stop()


CHANNEL = ChannelRef("console", "ws1", "c1")
ADMIN = Actor("u-admin", "Ada Admin", is_admin=True)
ALICE = Actor("u-alice", "Alice")
BOB = Actor("u-bob", "Bob")


def cmd(
    name: str, sub: str | None = None, actor: Actor = ADMIN, channel: ChannelRef = CHANNEL,
    **options: str,
) -> CommandInput:
    return CommandInput(name=name, actor=actor, channel=channel, subcommand=sub, options=options)


async def post_days(core: Core, channel: ChannelRef = CHANNEL) -> list[tuple[str, str]]:
    """Each claimed local day of a channel with its post's status, oldest first."""
    async with core.db.uow() as uow:
        row = await uow.channels.get(channel.platform, channel.workspace_id, channel.channel_id)
        assert row is not None
        days = await uow.posts.days_from(row.id, date(2000, 1, 1))
    return [(str(d), s) for d, s in sorted(days.items())]


async def post_on(uow: UnitOfWork, day: date, channel: ChannelRef = CHANNEL) -> PostRow:
    """The post claimed for a channel's local `day` (tests read it, or edit it to stage
    a crash)."""
    row = await uow.channels.get(channel.platform, channel.workspace_id, channel.channel_id)
    assert row is not None
    post = await uow.posts.on_day(row.id, day)
    assert post is not None
    return post


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skips as one line per reason (`-ra` would list the 50-odd PostgreSQL skips one by
    one and push the failures off the screen)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("skipped", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.line(f"{count} skipped: {reason}")
