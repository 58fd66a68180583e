"""Drive a running Slack adapter the way Slack does, in either connection mode.

`SlackDriver` sends slash commands, events and button presses through the fake's Socket
Mode websocket or as signed HTTP requests to the adapter's own server, so the same test
body runs against both modes.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import aiohttp

from adapters.slack.runtime import RunningSlack, start_slack
from adapters.slack.settings import SlackSettings
from adapters.slack.users import UserDirectory
from bot.app import Core, build_core
from bot.clock import FakeClock
from bot.plugins import CoreHandle
from bot.settings import CoreSettings
from storage.migrate import upgrade
from tests.conftest import START, sample_questions, write_bank
from tests.slack.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    block_actions,
    event_callback,
    form_body,
    interactive_body,
    sign,
    slash_command,
)

Mode = Literal["socket", "http"]
CHANNEL = "C0QOTD"


class FakeTime:
    """Monotonic time and sleep that only move when told (pacing without waiting)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def settings_for(fake: FakeSlack, mode: Mode, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "app_token": APP_TOKEN if mode == "socket" else None,
        "signing_secret": SIGNING_SECRET if mode == "http" else None,
        "api_url": fake.api_url,
        "host": "127.0.0.1",
        "port": 0,
        "post_interval_seconds": 0,
        "retry_backoff_seconds": 0,
    }
    values.update(overrides)
    return SlackSettings(**values)


class SlackDriver:
    def __init__(
        self, fake: FakeSlack, running: RunningSlack, mode: Mode, http: aiohttp.ClientSession
    ) -> None:
        self.fake = fake
        self.running = running
        self.mode = mode
        self._http = http

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.running.http_port}/slack/events"

    async def post_signed(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        all_headers = {
            "Content-Type": content_type,
            **sign(SIGNING_SECRET, body, timestamp),
            **(headers or {}),
        }
        async with self._http.post(
            self.events_url, data=body.encode(), headers=all_headers
        ) as resp:
            return resp.status, await resp.text()

    async def command(
        self, command: str, text: str, *, user: str, channel: str = "C0QOTD", team: str = TEAM_ID
    ) -> str:
        """Send a slash command; returns the response_url key its answers will carry."""
        url = self.fake.response_url()
        payload = slash_command(
            command, text, user_id=user, response_url=url, channel_id=channel, team_id=team,
            user_name=self.fake.handle(user),
        )
        if self.mode == "socket":
            envelope = await self.fake.send_envelope("slash_commands", payload)
            await self.fake.wait_ack(envelope)
        else:
            status, _ = await self.post_signed(
                form_body(payload), "application/x-www-form-urlencoded"
            )
            assert status == 200
        return url.rsplit("/", 1)[1]

    async def event(self, event: dict[str, Any], *, event_id: str, retry: int = 0) -> None:
        body = event_callback(event, event_id=event_id)
        if self.mode == "socket":
            envelope = await self.fake.send_envelope("events_api", body, retry_attempt=retry)
            await self.fake.wait_ack(envelope)
        else:
            headers = (
                {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
                if retry
                else {}
            )
            status, _ = await self.post_signed(
                json.dumps(body), "application/json", headers=headers
            )
            assert status == 200

    async def press(
        self,
        *,
        user: str,
        channel: str,
        value: str,
        message_ts: str,
        action_id: str = "qotd_button:0",
        ephemeral: bool = True,
    ) -> str:
        """Press a button; `ephemeral=False`: one on a message the channel sees (a
        post's vote buttons). Returns the response_url key its answers carry."""
        url = self.fake.action_response_url(message_ts)  # replace_original replaces it
        payload = block_actions(
            user_id=user,
            channel=channel,
            action_id=action_id,
            value=value,
            response_url=url,
            message_ts=message_ts,
            ephemeral=ephemeral,
            user_name=self.fake.handle(user),
        )
        if self.mode == "socket":
            envelope = await self.fake.send_envelope("interactive", payload)
            await self.fake.wait_ack(envelope)
        else:
            status, _ = await self.post_signed(
                interactive_body(payload), "application/x-www-form-urlencoded"
            )
            assert status == 200
        return url.rsplit("/", 1)[1]

    async def answers(self, key: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait for `count` messages posted to one response_url."""
        return list(
            await self.fake.wait_for(
                lambda: (
                    hits
                    if len(hits := [r for r in self.fake.responses if r["key"] == key]) >= count
                    else None
                ),
                # the answer follows the core's work (a unit of work, SQLite's write lock):
                # on a loaded machine that can take seconds; waiting longer costs nothing
                within=15.0,
            )
        )


@asynccontextmanager
async def slack_running(
    fake: FakeSlack,
    core: CoreHandle,
    mode: Mode,
    *,
    database_url: str | None = None,
    now: Callable[[], float] = time.time,
    directory: UserDirectory | None = None,
    **overrides: Any,
) -> AsyncIterator[SlackDriver]:
    running = await start_slack(
        core, settings_for(fake, mode, **overrides), database_url=database_url, now=now,
        directory=directory,
    )
    try:
        if mode == "socket":
            await fake.wait_connected()
        async with aiohttp.ClientSession() as http:
            yield SlackDriver(fake, running, mode, http)
    finally:
        await running.stop()


@asynccontextmanager
async def real_core(tmp_path: Path, *, kind: str | None = None) -> AsyncIterator[Core]:
    """The real core on a migrated SQLite file with a small bank, on a FakeClock and
    without the scheduler (time moves with `advance_to`). Built, not started."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"
    await upgrade(url)
    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, [q for q in sample_questions() if kind is None or q.kind == kind])
    core = await build_core(
        CoreSettings(database_url=url, bank_dir=str(bank)),
        clock=FakeClock(START),
        use_scheduler=False,
    )
    try:
        yield core
    finally:
        await core.stop()


@asynccontextmanager
async def bot_on_slack(
    tmp_path: Path,
    mode: Mode,
    *,
    kind: str | None = None,
    clock: Callable[[], float] = time.time,
    directory: Callable[[FakeSlack], UserDirectory] | None = None,
    **slack_overrides: Any,
) -> AsyncIterator[tuple[Core, SlackDriver]]:
    """The real core served to the fake Slack through the adapter, started the way
    `qotd run` starts it (adapter first, so the catch-up at start can post). `clock` is
    the wall clock the fake expires tokens by and the adapter renews them by; `directory`
    builds the admin lookups' UserDirectory for the fake (e.g. on FakeTime)."""
    async with real_core(tmp_path, kind=kind) as core, FakeSlack(clock=clock) as fake:
        fake.add_user("UADMIN", "ada", is_admin=True)
        for user_id, name in (("U1", "ana"), ("U2", "ben"), ("U3", "cy")):
            fake.add_user(user_id, name)
        url = core.settings.database_url
        async with slack_running(
            fake, core, mode, database_url=url, now=clock,
            directory=directory(fake) if directory is not None else None,
            **slack_overrides
        ) as slack:
            await core.start()
            yield core, slack


async def say(
    slack: SlackDriver, command: str, text: str, user: str, channel: str = CHANNEL
) -> dict[str, Any]:
    """Run a slash command and return its one answer."""
    [answer] = await slack.answers(await slack.command(command, text, user=user, channel=channel))
    return answer


def directory_for(fake: FakeSlack, t: FakeTime | None, **options: Any) -> UserDirectory:
    """A UserDirectory as `start_slack` builds it (its own no-429-retry lookup client),
    on FakeTime (pacing waits and Retry-After pauses pass without waiting; each sleep
    moves the time, so concurrent callers see it one after another) or, with None, on
    real time."""
    from adapters.slack.client import build_lookup_client

    timing: dict[str, Any] = {} if t is None else {"monotonic": t.monotonic, "sleep": t.sleep}
    return UserDirectory(
        lookup_client=build_lookup_client(settings_for(fake, "http"), token=BOT_TOKEN),
        **timing, **options,
    )
