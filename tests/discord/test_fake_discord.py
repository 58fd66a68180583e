"""The fake Discord's own behaviour, checked with a plain HTTP client and the real
discord.py client, so that end-to-end failures point at the adapter, not the fake."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

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


async def _hello(ws: aiohttp.ClientWebSocketResponse, context: Any = None) -> dict[str, Any]:
    msg = await ws.receive(timeout=5)
    if msg.type is aiohttp.WSMsgType.BINARY:
        assert context is not None and msg.data.endswith(b"\x00\x00\xff\xff")
        return json.loads(context.decompress(msg.data))
    return json.loads(msg.data)


async def _identify(fake: FakeDiscord, ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str(json.dumps({"op": 2, "d": {"token": fake.token, "intents": 0,
                                                 "properties": {}}}))


async def test_zlib_stream_resume_replay_raw_frames_and_close_codes(fake: FakeDiscord) -> None:
    """What the adapter's gateway tests rely on, seen from a bare websocket client."""
    fake.compress = True
    url = f"{fake.gateway_url}?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as ws:
            context = zlib.decompressobj()
            assert (await _hello(ws, context))["op"] == 10
            await _identify(fake, ws)
            ready = await _hello(ws, context)
            assert ready["t"] == "READY"
            session, seq = ready["d"]["session_id"], ready["s"]
            await _hello(ws, context)  # GUILD_CREATE
            await fake.send_frame("{not json")
            assert context.decompress((await ws.receive(timeout=5)).data) == b"{not json"
            await fake.send_bytes(b"raw")
            assert (await ws.receive(timeout=5)).data == b"raw"  # never compressed
            await fake.close_gateways(4000)
            closed = await ws.receive(timeout=5)
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4000
        await fake.wait_for(lambda f: not f._gateways)
        fake._backlog[session].append((seq + 100, json.dumps({"op": 0, "t": "MISSED",
                                                                "s": seq + 100, "d": {}})))
        fake.compress = False
        async with http.ws_connect(fake.gateway_url) as ws:
            await _hello(ws)
            await ws.send_str(json.dumps({"op": 6, "d": {"token": fake.token,
                                                         "session_id": session, "seq": seq}}))
            events = [json.loads((await ws.receive(timeout=5)).data)["t"] for _ in range(3)]
            assert events == ["GUILD_CREATE", "MISSED", "RESUMED"]  # missed ones, then RESUMED
            assert fake.resumes == 1 and fake.connections == 2


async def test_command_routes_are_per_application_and_scope(fake: FakeDiscord) -> None:
    app = fake.application_id
    base = f"{fake.api_base}/applications"
    body = [{"name": "ping", "description": "p", "type": 1, "dm_permission": False,
             "name_localizations": {"de": "ping"},
             "options": [{"type": 3, "name": "x", "description": "x", "required": False}]}]
    async with aiohttp.ClientSession(headers=_auth(fake)) as http:
        async with http.put(f"{base}/{app}/guilds/{fake.guild_id}/commands", json=body) as r:
            assert r.status == 200
        async with http.get(f"{base}/{app}/commands") as r:
            assert await r.json() == []  # the guild's commands are not global
        async with http.get(f"{base}/{app}/guilds/{fake.guild_id}/commands") as r:
            [listed] = await r.json()
        assert "name_localizations" not in listed and "required" not in listed["options"][0]
        async with http.get(f"{base}/{app}/guilds/{fake.guild_id}/commands",
                            params={"with_localizations": "true"}) as r:
            assert (await r.json())[0]["name_localizations"] == {"de": "ping"}
        async with http.put(f"{base}/{app}/commands", json=body) as r:
            [stored] = await r.json()
        assert stored["contexts"] == [0] and stored["integration_types"] == [0]
        async with http.get(f"{base}/{fake.new_id()}/commands") as r:
            assert r.status == 404 and (await r.json())["code"] == 10002
        async with http.get(f"{fake.api_base}/users/@me/guilds") as r:
            assert [g["id"] for g in await r.json()] == [str(fake.guild_id)]


async def test_injected_interactions_are_timed_and_posts_counted(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench API: `inject` an interaction, read its ack and reply latency; count the
    requests spent on each channel message. A bare discord.py client answers."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        yarl.URL(fake.gateway_url))
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    ready = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="counted")
        else:
            await interaction.response.send_message("fixed", ephemeral=True)

    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        channel = client.get_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("post")
        await sent.add_reaction("🇦")
        ana = fake.user("ana")
        slash = await fake.inject(fake.slash("qotd", ana, subcommand="stats"))
        press = await fake.inject(fake.button("vote:1:A", fake.messages[sent.id], ana))
        await fake.wait_acked([slash, press])
        await fake.wait_for(lambda f: press in f.replied_at)
        for iid in (slash, press):
            ack, reply = fake.ack_latency(iid), fake.reply_latency(iid)
            assert ack is not None and reply is not None and 0 <= ack <= reply < 5
        assert fake.callbacks[press]["type"] == 5  # deferred first, the reply came later
        assert fake.reply_latency(press) >= fake.ack_latency(press)  # type: ignore[operator]
        assert fake.requests_for_message(sent.id) == 2  # the create and one reaction
        assert fake.post_request_counts() == {sent.id: 2}
        fake.record_requests = False
        before = len(fake.requests)
        await sent.add_reaction("🇧")
        assert fake.requests_for_message(sent.id) == 3 and len(fake.requests) == before
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)
