"""The fake Discord's own behaviour, checked with a plain HTTP client and the real
discord.py client, so that end-to-end failures point at the adapter, not the fake."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
import yarl

from tests.discord.fake_discord import FakeDiscord


def _auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.token}"}


async def test_rest_records_requests_and_sends_rate_limit_headers(fake: FakeDiscord) -> None:
    url = f"{fake.api_base}/users/@me"
    async with aiohttp.ClientSession() as http, http.get(url, headers=_auth(fake)) as resp:
        assert resp.status == 200
        assert (await resp.json())["id"] == str(fake.bot.id)
        assert resp.headers["X-RateLimit-Limit"] == "5"
        assert "X-RateLimit-Bucket" in resp.headers
        assert float(resp.headers["X-RateLimit-Reset-After"]) > 0
    assert [(r.method, r.path, r.status) for r in fake.requests] == [("GET", "/users/@me", 200)]


async def test_rest_refuses_a_wrong_token(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{fake.api_base}/users/@me",
                        headers={"Authorization": "Bot nope"}) as resp:
        assert resp.status == 401


async def test_injected_429_carries_retry_after_and_via(fake: FakeDiscord) -> None:
    fake.fail("POST", r"/channels/\d+/messages", 429, times=1)
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"content": "hi"}, headers=_auth(fake)) as resp:
            assert resp.status == 429
            assert resp.headers["Via"]
            assert (await resp.json())["retry_after"] == fake.retry_after
        async with http.post(url, json={"content": "hi"}, headers=_auth(fake)) as resp:
            assert resp.status == 200
    assert len(fake.message_in(fake.channel_id)) == 1


async def test_nonce_with_enforce_nonce_returns_the_first_message(fake: FakeDiscord) -> None:
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    body = {"content": "hi", "nonce": "abc", "enforce_nonce": True}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body, headers=_auth(fake)) as resp:
            first = await resp.json()
        async with http.post(url, json=body, headers=_auth(fake)) as resp:
            second = await resp.json()
        async with http.post(url, json={**body, "enforce_nonce": False},
                             headers=_auth(fake)) as resp:
            third = await resp.json()
    assert first["id"] == second["id"]
    assert third["id"] != first["id"]


async def test_after_effect_failure_creates_then_fails(fake: FakeDiscord) -> None:
    fake.fail("POST", r"/channels/\d+/messages", 500, after_effect=True)
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    async with aiohttp.ClientSession() as http, http.post(
        url, json={"content": "x"}, headers=_auth(fake)
    ) as resp:
        assert resp.status == 500
    assert len(fake.message_in(fake.channel_id)) == 1


async def test_thread_from_message_shares_its_id_and_is_created_once(fake: FakeDiscord) -> None:
    base = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    async with aiohttp.ClientSession() as http:
        async with http.post(base, json={"content": "q"}, headers=_auth(fake)) as resp:
            mid = (await resp.json())["id"]
        async with http.post(f"{base}/{mid}/threads", json={"name": "Answer"},
                             headers=_auth(fake)) as resp:
            assert resp.status == 201
            assert (await resp.json())["id"] == mid
        async with http.post(f"{base}/{mid}/threads", json={"name": "Answer"},
                             headers=_auth(fake)) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 160004


async def test_real_client_logs_in_identifies_and_gets_ready(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        yarl.URL(fake.gateway_url))
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    ready = asyncio.Event()
    seen: list[discord.RawReactionActionEvent] = []
    got = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        seen.append(payload)
        got.set()

    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        assert client.user is not None and client.user.id == fake.bot.id
        guild = client.get_guild(fake.guild_id)
        assert guild is not None and guild.get_channel(fake.channel_id) is not None
        assert fake.identify_payloads[0]["intents"] == discord.Intents.default().value
        user = fake.user("ana")
        await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(user, 12345, "🇦"))
        await asyncio.wait_for(got.wait(), 5)
        assert seen[0].user_id == user.id and str(seen[0].emoji) == "🇦"
        assert seen[0].member is not None and seen[0].member.id == user.id
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


async def test_heartbeats_are_acked_and_a_reconnect_resumes_the_session(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        yarl.URL(fake.gateway_url))
    fake.heartbeat_interval_ms = 50
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    ready = asyncio.Event()
    resumed = asyncio.Event()
    reactions: list[int] = []
    reacted = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        reactions.append(payload.user_id)
        reacted.set()

    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        await fake.wait_for(lambda f: f.heartbeats >= 3, within=5)
        assert client.latency < 1  # ACKs arrive, so the client measures a latency

        await fake.request_reconnect()
        await asyncio.wait_for(resumed.wait(), 5)
        [resume] = fake.resume_payloads
        assert resume["session_id"].startswith("session-") and resume["token"] == fake.token
        assert len(fake.identify_payloads) == 1  # resumed, not re-identified

        user = fake.user("ana")
        await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(user, 1, "🇦"))
        await asyncio.wait_for(reacted.wait(), 5)
        assert reactions == [user.id]
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)
