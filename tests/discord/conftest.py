"""Fixtures: a running fake Discord per test, and the real core + real discord.py client
wired to it (no mocks of our own code)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl

from adapters.discord.client import RunningDiscord, start
from adapters.discord.plugin import plugin
from adapters.discord.settings import DiscordSettings
from bot.app import Core, build_core
from bot.clock import FakeClock
from bot.settings import CoreSettings
from content.bank import bank_path, write_bank_file
from content.model import Question, SourceRef
from storage.migrate import upgrade
from tests.discord.fake_discord import EVERYONE_PERMISSIONS, MANAGE_GUILD, FakeDiscord

MONDAY_8AM = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
ADMIN_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_GUILD


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def choice_question() -> Question:
    return Question.make(
        prompt="Which tool records ML **experiments** with params and metrics?",
        source=SourceRef(file="e2e.md", line=1),
        kind="choice",
        choices=("cron", "MLflow Tracking", "rsync"),
        correct="B",
        difficulty="easy",
        topic="experiment tracking",
    )


def open_question() -> Question:
    return Question.make(
        prompt="What is **training/serving skew** and how do you catch it?",
        source=SourceRef(file="e2e.md", line=10),
        answer="Features computed differently online and offline.\n\n"
        "```python\nassert offline(x) == online(x)\n```",
        difficulty="medium",
        topic="monitoring",
    )


def keep_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """point_at() sets discord.py's class-level REST and gateway URLs: restore them after
    the test, so no later test talks to a fake that is gone."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
        yarl.URL(str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)),
    )


@pytest.fixture
def restore_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_discord_endpoints(monkeypatch)


def plugin_env(fake: FakeDiscord) -> dict[str, str]:
    """The environment an operator sets for `qotd run`, pointed at the fake."""
    return {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_GUILD_READY_TIMEOUT": "0.05",
    }


class Stack:
    """The real core on a temporary SQLite file and the real client on the fake."""

    def __init__(self, fake: FakeDiscord, tmp: Path, questions: Sequence[Question]) -> None:
        self.fake = fake
        self.tmp = tmp
        self.clock = FakeClock(MONDAY_8AM)
        self.database_url = f"sqlite+aiosqlite:///{tmp / 'qotd.db'}"
        self.bank = tmp / "bank"
        self.bank.mkdir()
        write_bank_file(bank_path(self.bank, "e2e.md"), "e2e.md", "markdown", list(questions))
        self.core: Core | None = None
        self.discord: RunningDiscord | None = None

    def settings(self, **overrides: Any) -> DiscordSettings:
        values: dict[str, Any] = {
            "token": self.fake.token,
            "api_base": self.fake.api_base,
            "gateway_url": self.fake.gateway_url,
            "guild_ready_timeout": 0.05,
            "ready_timeout": 10,
            "retry_backoff": 0.01,
            **overrides,
        }
        return DiscordSettings(**values)

    async def up(self, *, use_plugin: bool = False, **overrides: Any) -> None:
        """Start core and client; `use_plugin` goes through the entry-point plugin, which
        reads its settings from the environment like `qotd run` does."""
        await upgrade(self.database_url)
        self.core = await build_core(
            CoreSettings(database_url=self.database_url, bank_dir=str(self.bank)),
            clock=self.clock,
            use_scheduler=False,
        )
        await self.core.start()
        if use_plugin:
            running = await plugin.start(self.core)
            assert isinstance(running, RunningDiscord)
            self.discord = running
        else:
            self.discord = await start(self.core, self.settings(**overrides))
        await self.fake.wait_identified()

    async def down(self) -> None:
        if self.discord is not None:
            await self.discord.stop()
            self.discord = None
        if self.core is not None:
            await self.core.stop()
            self.core = None

    async def interact(self, payload: dict[str, Any], *, replies: int = 1) -> list[dict[str, Any]]:
        """Dispatch an interaction and wait until the bot has answered it."""
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await self.fake.wait_for(
            lambda f: len(f.interaction_replies(payload)) >= replies, within=5
        )
        return self.fake.interaction_replies(payload)

    async def advance_to(self, when: datetime) -> None:
        assert self.core is not None
        await self.core.advance_to(when)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the SQLite database, read with its own
        connection: what the core wrote, whatever path it took."""
        with sqlite3.connect(self.tmp / "qotd.db") as db:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                    for t in tables}

    def count(self, table: str) -> int:
        with sqlite3.connect(self.tmp / "qotd.db") as db:
            return int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    async def post_question(self, admin_name: str = "ada") -> dict[str, Any]:
        """Schedule the channel daily at 09:00 UTC and move the clock to the post."""
        payload = self.fake.slash(
            "qotd", self.fake.user(admin_name), subcommand="schedule",
            permissions=ADMIN_PERMISSIONS,
            options={"time": "09:00", "timezone": "UTC", "days": "daily"},
        )
        await self.interact(payload)
        await self.advance_to(datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC))
        [post] = self.fake.message_in(self.fake.channel_id)
        return post

    async def status_answered(self, *, within: float = 10) -> bool:
        """A valid /qotd status is answered (the probe that the client still serves)."""
        payload = self.fake.slash("qotd", self.fake.user("probe"), subcommand="status")
        await self.fake.wait_for(lambda f: f._live(), within=within)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await self.fake.wait_for(lambda f: f.interaction_replies(payload), within=within)
        return True


async def eventually(check: Callable[[], Any], *, within: float = 5.0, what: str = "") -> Any:
    """Poll a cheap condition (a database count) until it holds; never a fixed sleep."""
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or check}")
        await asyncio.sleep(0.02)
    return result


@pytest.fixture
async def make_stack(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    keep_discord_endpoints(monkeypatch)
    stacks: list[Stack] = []

    def make(questions: Sequence[Question]) -> Stack:
        stack = Stack(fake, tmp_path, questions)
        stacks.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            await stack.down()
