"""One `qotd run` process serving Discord and Slack together, on one event loop with
the scheduler: `serve()` with the real entry-point plugins, configured from the
environment the way an operator configures them, against the fake Discord and the fake
Slack at once.

The clock is a FakeClock so the scheduled day arrives without waiting; the APScheduler
jobs are still real and live on the same loop as both clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.discord.emoji import emoji_for as discord_emoji
from adapters.slack.emoji import emoji_for as slack_emoji
from adapters.slack.runtime import RunningSlack
from bot.app import Core
from bot.cli_core import serve
from bot.clock import FakeClock
from bot.plugins import AdapterPlugin, CoreHandle, RunningAdapter, discover
from bot.scheduler import WAKE_JOB_ID
from bot.settings import CoreSettings
from tests.conftest import write_bank
from tests.discord.conftest import choice_question, keep_discord_endpoints, plugin_env
from tests.discord.fake_discord import EPHEMERAL, EVERYONE_PERMISSIONS, MANAGE_GUILD, FakeDiscord
from tests.runtime.conftest import free_port
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.slack.harness import CHANNEL, SlackDriver, say

MONDAY_8AM = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


@dataclass
class Recording:
    """Wraps an entry-point plugin to keep what `serve` hands it and gets back: the core
    (to move the FakeClock) and the running adapter (to wait on its work)."""

    inner: AdapterPlugin
    name: str = field(init=False)
    cores: list[CoreHandle] = field(default_factory=list)
    running: list[RunningAdapter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def is_configured(self) -> bool:
        return self.inner.is_configured()

    def add_cli(self, subparsers: Any) -> None:
        self.inner.add_cli(subparsers)

    async def start(self, core: CoreHandle) -> RunningAdapter:
        self.cores.append(core)
        running = await self.inner.start(core)
        self.running.append(running)
        return running


@pytest.fixture
async def fakes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[tuple[FakeDiscord, FakeSlack]]:
    keep_discord_endpoints(monkeypatch)
    fake_discord = FakeDiscord()
    await fake_discord.start()
    try:
        async with FakeSlack() as fake_slack:
            monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
            for key, value in {
                **plugin_env(fake_discord),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": fake_slack.api_url,
                "SLACK_POST_INTERVAL_SECONDS": "0",
                "SLACK_RETRY_BACKOFF_SECONDS": "0",
            }.items():
                monkeypatch.setenv(key, value)
            for name in ("SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
                monkeypatch.delenv(name, raising=False)
            yield fake_discord, fake_slack
    finally:
        await fake_discord.stop()


def discord_text(reply: dict[str, Any]) -> str:
    embed = (reply.get("embeds") or [{}])[0]
    parts = [reply.get("content") or "", embed.get("title", ""), embed.get("description", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def healthy(port: int, within: float = 10) -> dict[str, bool]:
    """The adapters of GET /health once it answers 200 (a client may still be finishing
    its handshake when the fake says it is connected)."""
    body: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        for _ in range(int(within / 0.05)):
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                body = await response.json()
                if response.status == 200:
                    assert body["status"] == "ok"
                    return dict(body["adapters"])
            await asyncio.sleep(0.05)
    raise AssertionError(f"GET /health stayed degraded: {body}")


async def interact(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda f: len(f.interaction_replies(payload)) >= 1, within=5)
    return fake.interaction_replies(payload)[0]


async def test_one_process_serves_discord_and_slack_with_the_scheduler(
    fakes: tuple[FakeDiscord, FakeSlack], tmp_path: Path
) -> None:
    fake_discord, fake_slack = fakes
    fake_slack.add_user("UADMIN", "ada", is_admin=True)
    for user_id, name in (("U1", "ana"), ("U2", "ben"), ("U3", "cy")):
        fake_slack.add_user(user_id, name)
    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, [choice_question()])
    health_port = free_port()
    settings = CoreSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", bank_dir=str(bank),
        health_port=health_port,
    )
    plugins: list[AdapterPlugin] = [Recording(p) for p in discover()]
    by_name = {p.name: p for p in plugins}
    assert set(by_name) == {"console", "discord", "slack"}
    assert [p.name for p in plugins if p.is_configured()] == ["discord", "slack"]

    stop = asyncio.Event()
    run = asyncio.create_task(
        serve(settings, plugins, install_signals=False, clock=FakeClock(MONDAY_8AM), stop=stop)
    )
    try:
        await fake_discord.wait_identified(within=20)
        await fake_slack.wait_connected(within=20)
        # One health check for the process: both adapters connected.
        assert await healthy(health_port) == {"discord": True, "slack": True}
        discord_rec, slack_rec = by_name["discord"], by_name["slack"]
        assert isinstance(discord_rec, Recording) and isinstance(slack_rec, Recording)
        assert not by_name["console"].cores  # type: ignore[attr-defined]
        [core] = discord_rec.cores
        assert slack_rec.cores == [core]  # one core, shared
        assert isinstance(core, Core) and core.scheduler is not None
        assert sorted(core.router.platforms()) == ["discord", "slack"]
        [slack_running] = slack_rec.running
        assert isinstance(slack_running, RunningSlack)

        # Both platforms schedule their channel through the same process.
        ada = fake_discord.user("ada")
        scheduled = await interact(fake_discord, fake_discord.slash(
            "qotd", ada, subcommand="schedule", permissions=EVERYONE_PERMISSIONS | MANAGE_GUILD,
            options={"time": "09:00", "timezone": "UTC", "days": "daily"},
        ))
        assert "Scheduled" in discord_text(scheduled)
        async with aiohttp.ClientSession() as http:
            slack = SlackDriver(fake_slack, slack_running, "socket", http)
            answer = await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily",
                               "UADMIN")
            assert "Next post" in answer["text"]

            # The real timer runs on this loop: one job for the whole process, both
            # channels are rows with their next slot.
            assert core.scheduler.scheduler.running
            assert [j.id for j in core.scheduler.jobs()] == [WAKE_JOB_ID]
            async with core.db.uow() as uow:
                due = await uow.channels.due(datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
                                             ["discord", "slack"], 10)
            assert len(due) == 2

            # The scheduled day arrives: one post on each platform, with its answer buttons
            # (the default mode) and no seeded reactions: one request each.
            await core.advance_to(datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC))
            [d_post] = fake_discord.message_in(fake_discord.channel_id)
            assert d_post["embeds"][0]["title"] == "Question #1"
            d_labels = [button["label"] for row in d_post["components"]
                        for button in row["components"]]
            assert d_labels == ["A", "B", "C"]
            assert not fake_discord.reactions.get(int(d_post["id"]))
            [s_post] = fake_slack.channel_posts(CHANNEL)
            s_labels = [element["text"]["text"] for block in s_post["blocks"]
                        if block["type"] == "actions" for element in block["elements"]]
            assert s_labels == ["A", "B", "C"]
            assert not s_post.get("reactions")

            # A reaction a member adds by themselves still counts as their vote. Names come
            # from the payloads of commands (Slack sends none with a reaction).
            await say(slack, "/qotd", "status", "U1")

            # Votes on both platforms reach the one core.
            alice = fake_discord.user("alice")
            await fake_discord.dispatch("MESSAGE_REACTION_ADD", fake_discord.reaction(
                alice, int(d_post["id"]), discord_emoji("B")))
            await slack.event({
                "type": "reaction_added", "user": "U1", "reaction": slack_emoji("B"),
                "item_user": "U0QOTDBOT",
                "item": {"type": "message", "channel": CHANNEL, "ts": s_post["ts"]},
                "event_ts": "1798189230.000100",
            }, event_id="EvBoth1")
            assert slack_running.reactions is not None
            await asyncio.wait_for(slack_running.reactions.idle(), 5)
            board = await say(slack, "/leaderboard", "week channel", "U1")
            assert "ana: 1 pts, streak 1 ← you" in board["text"]

            d_board = ""
            for _ in range(50):  # the Discord vote is handled in its own task
                reply = await interact(fake_discord, fake_discord.slash(
                    "leaderboard", alice, options={"period": "week", "scope": "channel"}))
                d_board = discord_text(reply)
                if "Alice: 1 pts" in d_board:
                    break
            assert "Alice: 1 pts" in d_board
            # Each platform's board is its own workspace's: no Slack user on Discord's.
            assert "ana" not in d_board

            peek = await interact(fake_discord, fake_discord.slash("answer", alice))
            assert int(peek.get("flags") or 0) & EPHEMERAL
            assert len(fake_discord.message_in(fake_discord.channel_id)) == 1
            assert len(fake_slack.channel_posts(CHANNEL)) == 1
    finally:
        stop.set()  # what SIGTERM does
        code = await asyncio.wait_for(run, 30)
    assert code == 0
    # Stopping the run closes both connections.
    await fake_slack.wait_for(lambda: fake_slack.connections == 0)
    assert by_name["discord"].running[0].client.is_closed()  # type: ignore[attr-defined]
