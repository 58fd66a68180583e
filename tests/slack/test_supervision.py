"""RunningSlack as `qotd run` supervises it: `finished()` and `connected()`.

The real Socket Mode client against the fake Slack: a dropped websocket is re-established
by the client itself (nothing to report); an app token Slack now refuses ends the adapter
as fatal at once (the client alone would retry forever); a connection that cannot be
re-established within the grace period ends it as transient, and a restart (stop, start
again) connects once Slack is well. A bot token Slack refuses for good is fatal too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.slack.runtime import RunningSlack, SlackConfigError, start_slack
from bot.plugins import AdapterFailed, RunningAdapter
from tests.conftest import START
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.slack.harness import CHANNEL, bot_on_slack, real_core, say, settings_for

SCHEDULE = "schedule time:09:00 timezone:UTC days:daily"


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for local state the fake cannot announce (the client's own flags)."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 (the client has no event for it)
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def watching(running: RunningSlack) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(running.finished())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, AdapterFailed):
            await task


async def failure(task: asyncio.Task[None], within: float = 10.0) -> AdapterFailed:
    with pytest.raises(AdapterFailed) as err:
        await asyncio.wait_for(task, within)
    return err.value


async def test_a_dropped_socket_is_re_established_and_nothing_is_reported(
    tmp_path: Path,
) -> None:
    async with bot_on_slack(tmp_path, "socket") as (_, slack):
        running: RunningAdapter = slack.running
        assert running.connected()
        async with watching(slack.running) as finished:
            await slack.fake.drop_connections()
            await slack.fake.wait_for(lambda: slack.fake.connects == 2)
            await until(running.connected)
            assert "Not set up here yet" in (await say(slack, "/qotd", "status", "U1"))["text"]
            assert not finished.done()
        await slack.running.stop()
        assert not running.connected()


async def test_an_app_token_revoked_while_running_is_fatal_at_once(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "socket") as (_, slack):
        async with watching(slack.running) as finished:
            slack.fake.revoke_app_token("token_revoked")
            await slack.fake.drop_connections()
            failed = await failure(finished)
        assert failed.fatal and failed.adapter == "slack"
        assert "SLACK_APP_TOKEN" in failed.cause and "token_revoked" in failed.cause
        assert "xapp-…" in failed.cause and APP_TOKEN not in failed.cause
        assert not slack.running.connected()


async def test_a_connection_that_cannot_be_re_established_is_transient_and_restartable(
    tmp_path: Path,
) -> None:
    async with real_core(tmp_path) as core, FakeSlack() as fake:
        fake.add_user("U1", "ana")
        settings = settings_for(fake, "socket", reconnect_grace_seconds=0.5, max_retries=0)
        running = await start_slack(core, settings)
        try:
            async with watching(running) as finished:
                fake.fail("apps.connections.open", status=503, times=10_000)
                await fake.drop_connections()
                failed = await failure(finished)
            assert not failed.fatal
            assert "not re-established within 0.5 s" in failed.cause
            assert "fatal_error" in failed.cause, "the last error Slack gave is named"
        finally:
            await running.stop()
        # What `qotd run` does next: stop (done), then start again once Slack is well.
        fake.clear_failures()
        again = await start_slack(core, settings)
        try:
            await fake.wait_for(lambda: fake.connections == 1)
            assert again.connected()
        finally:
            await again.stop()


async def test_a_bot_token_revoked_while_running_is_fatal(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "socket", kind="open") as (core, slack):
        await say(slack, "/qotd", SCHEDULE, "UADMIN")
        async with watching(slack.running) as finished:
            slack.fake.revoke_bot_token(BOT_TOKEN)
            await core.advance_to(START.replace(hour=9, minute=5))  # the post is refused
            failed = await failure(finished)
        assert failed.fatal and "SLACK_BOT_TOKEN (token_revoked" in failed.cause
        assert "reinstall" in failed.cause and BOT_TOKEN not in failed.cause
        assert slack.fake.channel_posts(CHANNEL) == []


async def test_http_mode_is_connected_while_listening_and_transient_when_not(
    tmp_path: Path,
) -> None:
    async with bot_on_slack(tmp_path, "http", reconnect_grace_seconds=0.2) as (_, slack):
        assert slack.running.connected()
        async with watching(slack.running) as finished:
            await asyncio.sleep(0.3)  # a few watchdog rounds while all is well
            assert not finished.done()
            assert slack.running.http is not None
            await slack.running.http.stop()  # the listener dies under the adapter
            failed = await failure(finished)
        assert not failed.fatal and "stopped listening" in failed.cause
        assert not slack.running.connected()


@pytest.mark.parametrize(
    ("method", "status", "fatal"),
    [("auth.test", 200, True), ("auth.test", 503, False), ("apps.connections.open", 503, False)],
)
async def test_start_failures_say_whether_a_restart_can_help(
    tmp_path: Path, method: str, status: int, fatal: bool
) -> None:
    async with real_core(tmp_path) as core, FakeSlack() as fake:
        if status == 200:
            fake.revoke_bot_token(BOT_TOKEN)
        else:
            fake.fail(method, status=status, times=100)
        with pytest.raises(AdapterFailed) as err:
            await start_slack(core, settings_for(fake, "socket", max_retries=0))
        assert err.value.fatal is fatal
        assert isinstance(err.value, SlackConfigError) is fatal
        assert BOT_TOKEN not in err.value.cause and APP_TOKEN not in err.value.cause
        assert core.router.platforms() == []
