"""RunningDiscord as `qotd run` supervises it: `finished()` reports why the client
stopped (fatal for what a restart cannot fix), `connected()` is the health check, and a
4000 close is just a resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.plugins import AdapterFailed, RunningAdapter
from tests.discord.conftest import Stack, choice_question


async def _failure(stack: Stack, within: float = 15) -> AdapterFailed:
    assert stack.discord is not None
    with pytest.raises(AdapterFailed) as info:
        await asyncio.wait_for(stack.discord.finished(), within)
    return info.value


async def test_a_4000_close_resumes_and_the_bot_keeps_serving(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    assert stack.discord is not None
    running: RunningAdapter = stack.discord  # the contract (mypy checks this line)
    assert running.connected()
    watcher = asyncio.create_task(running.finished())
    sessions = fake.connections
    await fake.close_gateways(4000, "unknown error")
    await fake.wait_connected(sessions)
    assert await stack.status_answered()
    assert len(fake.resume_payloads) == 1 and len(fake.identify_payloads) == 1
    assert running.connected() and not watcher.done()
    watcher.cancel()


async def test_a_4004_close_is_fatal_and_says_what_to_do(make_stack: Any) -> None:
    """The token was reset while the bot ran: Discord invalidates the session and
    refuses the next IDENTIFY with 4004."""
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    old = fake.token
    fake.token = "the-new-token-after-a-reset"
    await fake.close_gateways(4000)
    failure = await _failure(stack)
    assert failure.fatal and failure.adapter == "discord"
    assert failure.cause.startswith("Discord closed the gateway with 4004 (authentication failed)")
    assert "DISCORD_TOKEN" in failure.cause and "Reset Token" in failure.cause
    assert old not in str(failure) and fake.token not in str(failure)
    assert 4004 in fake.closes
    assert stack.discord is not None and not stack.discord.connected()


@pytest.mark.parametrize(("code", "meaning", "advice"), [
    (4004, "authentication failed", "DISCORD_TOKEN"),
    (4010, "invalid shard", "DISCORD_SHARD_IDS"),
    (4011, "sharding required", "DISCORD_SHARD_COUNT"),
    (4012, "invalid API version", "upgrade qotd"),
    (4013, "invalid intents", "upgrade qotd"),
    (4014, "disallowed intents", "Privileged Gateway Intents"),
])
async def test_fatal_close_codes(make_stack: Any, code: int, meaning: str, advice: str) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    await stack.fake.close_gateways(code)
    failure = await _failure(stack)
    assert failure.fatal
    assert f"Discord closed the gateway with {code} ({meaning})" in failure.cause
    assert advice in failure.cause and "\n" not in failure.cause


async def test_a_client_that_stops_by_itself_is_a_transient_failure(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    assert stack.discord is not None
    await stack.discord.client.close()  # not through stop(): nobody asked for it
    failure = await _failure(stack)
    assert not failure.fatal and "stopped by itself" in failure.cause


async def test_after_stop_finished_never_returns(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    assert stack.discord is not None
    running = stack.discord
    watcher = asyncio.create_task(running.finished())
    await running.stop()
    done, _ = await asyncio.wait({watcher}, timeout=0.3)
    assert not done  # stopped from outside: no failure to report
    watcher.cancel()
    stack.discord = None


async def test_connected_follows_the_gateway(make_stack: Any) -> None:
    """The health check: False while the gateway is unreachable (the client retries on
    its own), True again once it has resumed."""
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    assert stack.discord is not None
    running = stack.discord
    assert running.connected()
    fake.refuse_gateway = True
    sessions = fake.connections
    await fake.close_gateways(4000)
    await fake.wait_for(lambda f: not running.connected(), within=5)
    fake.refuse_gateway = False
    await fake.wait_connected(sessions, within=20)
    await fake.wait_for(lambda f: running.connected(), within=5)
    assert await stack.status_answered()


async def test_a_start_that_discord_refuses_otherwise_is_transient(make_stack: Any) -> None:
    """Not the token: a restart may well work (here the gateway lookup is refused)."""
    stack: Stack = make_stack([choice_question()])
    stack.fake.fail("GET", r"/gateway/bot", 403)
    with pytest.raises(AdapterFailed) as info:
        await stack.up()
    assert not info.value.fatal
    assert "GatewayNotFound" in info.value.cause and stack.fake.token not in info.value.cause
