"""The fake Slack answers the real slack_sdk clients the way Slack's reference says."""

from __future__ import annotations

import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
    sign,
)


def client(fake: FakeSlack, *, retries: int = 0) -> AsyncWebClient:
    web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    if retries:
        web.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=retries))
        web.retry_handlers.append(
            AsyncServerErrorRetryHandler(
                max_retry_count=retries, interval_calculator=FixedValueRetryIntervalCalculator(0.0)
            )
        )
    return web


async def test_auth_test_names_the_bot_and_team() -> None:
    async with FakeSlack() as fake:
        resp = await client(fake).auth_test()
        assert resp["user_id"] == BOT_USER_ID and resp["team_id"] == TEAM_ID
        assert fake.calls_to("auth.test")[0].token == BOT_TOKEN


async def test_a_wrong_token_is_refused() -> None:
    async with FakeSlack() as fake:
        web = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
        with pytest.raises(SlackApiError) as err:
            await web.auth_test()
        assert err.value.response["error"] == "invalid_auth"


async def test_posted_messages_come_back_in_history_with_metadata_only_when_asked() -> None:
    async with FakeSlack() as fake:
        web = client(fake)
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
        metadata = {"event_type": "qotd_post", "event_payload": {"post_key": "post:1"}}
        first = await web.chat_postMessage(
            channel="C1", text="hi", blocks=blocks, metadata=metadata
        )
        second = await web.chat_postMessage(channel="C1", text="later")
        assert float(second["ts"]) > float(first["ts"])
        assert fake.channel_posts("C1")[0]["blocks"] == blocks

        plain = await web.conversations_history(channel="C1", limit=10)
        assert [m["ts"] for m in plain["messages"]] == [second["ts"], first["ts"]]
        assert all("metadata" not in m for m in plain["messages"])

        rich = await web.conversations_history(channel="C1", limit=10, include_all_metadata=True)
        assert rich["messages"][1]["metadata"] == metadata
        assert rich["response_metadata"]["next_cursor"] == ""


async def test_thread_replies_reactions_update_and_ephemeral() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        web = client(fake)
        parent = await web.chat_postMessage(channel="C1", text="q")
        await web.chat_postMessage(channel="C1", text="reveal", thread_ts=parent["ts"])
        replies = await web.conversations_replies(channel="C1", ts=parent["ts"])
        assert [m["text"] for m in replies["messages"]] == ["q", "reveal"]
        assert len(fake.channel_posts("C1")) == 1

        await web.reactions_add(channel="C1", timestamp=parent["ts"], name="one")
        with pytest.raises(SlackApiError) as err:
            await web.reactions_add(channel="C1", timestamp=parent["ts"], name="one")
        assert err.value.response["error"] == "already_reacted"

        await web.chat_update(channel="C1", ts=parent["ts"], text="q (edited)")
        assert fake.find_message("C1", parent["ts"])["text"] == "q (edited)"  # type: ignore[index]

        await web.chat_postEphemeral(channel="C1", user="U1", text="psst")
        assert fake.ephemerals[0]["user"] == "U1" and fake.ephemerals[0]["text"] == "psst"


async def test_users_info_is_a_get_with_query_params() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U9", "boss", is_admin=True)
        resp = await client(fake).users_info(user="U9")
        assert resp["user"]["is_admin"] is True
        assert fake.calls_to("users.info")[0].params == {"user": "U9"}


async def test_429_with_retry_after_is_retried_by_the_client_and_recorded() -> None:
    async with FakeSlack() as fake:
        fake.fail("chat.postMessage", status=429, times=2)
        fake.fail("chat.postMessage", status=503, times=1)
        resp = await client(fake, retries=5).chat_postMessage(channel="C1", text="x")
        assert resp["ok"]
        statuses = [c.status for c in fake.calls_to("chat.postMessage", ok_only=False)]
        assert statuses == [429, 429, 503, 200]
        assert len(fake.channel_posts("C1")) == 1


async def test_without_retry_handlers_a_429_surfaces() -> None:
    async with FakeSlack() as fake:
        fake.fail("chat.postMessage", status=429, times=1)
        with pytest.raises(SlackApiError) as err:
            await client(fake).chat_postMessage(channel="C1", text="x")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "0"
        assert fake.messages == {}


async def test_response_url_posts_are_recorded() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as http:
        url = fake.response_url("abc")
        async with http.post(url, json={"response_type": "ephemeral", "text": "hi"}) as resp:
            assert resp.status == 200
        assert fake.responses == [{"key": "abc", "response_type": "ephemeral", "text": "hi"}]


async def test_socket_mode_hello_envelopes_and_acks() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as http:
        opened = await AsyncWebClient(base_url=fake.api_url).apps_connections_open(
            app_token=APP_TOKEN
        )
        assert opened["url"].startswith("ws://127.0.0.1:")
        async with http.ws_connect(opened["url"]) as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "hello"
            await fake.wait_connected()
            envelope = await fake.send_envelope(
                "events_api", {"type": "event_callback"}, retry_attempt=1
            )
            delivered = await ws.receive_json(timeout=5)
            assert delivered["envelope_id"] == envelope.envelope_id
            assert (
                delivered["retry_attempt"] == 1 and delivered["accepts_response_payload"] is False
            )
            assert fake.unacked() == [envelope.envelope_id]
            await ws.send_str(json.dumps({"envelope_id": envelope.envelope_id}))
            assert await fake.wait_ack(envelope) == {"envelope_id": envelope.envelope_id}
            await ws.send_str(json.dumps({"envelope_id": "nope"}))
            await fake.wait_for(lambda: fake.unexpected_acks)
        assert fake.unacked() == []


async def test_apps_connections_open_needs_the_app_token() -> None:
    async with FakeSlack() as fake:
        with pytest.raises(SlackApiError):
            await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=BOT_TOKEN)


def test_signatures_are_what_slack_sdk_verifies() -> None:
    body = "command=%2Fqotd&text=status"
    headers = sign("s3cret", body, timestamp=1_790_000_000)
    verifier = SignatureVerifier("s3cret", clock=_FixedClock(1_790_000_010))
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other", clock=_FixedClock(1_790_000_010)).is_valid_request(
        body, headers
    )


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


async def test_an_enforced_tier_answers_429_with_retry_after_past_its_limit() -> None:
    async with FakeSlack() as fake:
        now = [1000.0]
        fake.monotonic = lambda: now[0]
        fake.add_user("U1", "ana")
        fake.enforce_tier("users.info", 3)
        web = client(fake)
        for _ in range(3):
            await web.users_info(user="U1")
        with pytest.raises(SlackApiError) as err:
            await web.users_info(user="U1")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "60"
        assert fake.rate_limited["users.info"] == 1
        now[0] += 60.5  # the window slides: the first calls are out of it
        await web.users_info(user="U1")


async def test_injected_requests_are_signed_timed_and_matched_to_their_replies() -> None:
    from aiohttp import web as aioweb

    verifier = SignatureVerifier("fake-signing-secret", Clock())
    async with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        fake.add_user("U2", "ben")
        seen: list[bool] = []
        web = client(fake)

        async def handler(request: aioweb.Request) -> aioweb.Response:
            raw = (await request.read()).decode()
            seen.append(verifier.is_valid(body=raw, timestamp=request.headers[
                "X-Slack-Request-Timestamp"], signature=request.headers["X-Slack-Signature"]))
            form = dict(await request.post())
            if "payload" in form:  # a button: answer privately through the API
                payload = json.loads(str(form["payload"]))
                await web.chat_postEphemeral(channel=payload["channel"]["id"],
                                             user=payload["user"]["id"], text="ok")
            else:  # a command: answer through its response URL
                async with aiohttp.ClientSession() as http:
                    await http.post(str(form["response_url"]), json={"text": "hi"})
            return aioweb.Response(text="")

        app = aioweb.Application()
        app.router.add_post("/slack/events", handler)
        runner = aioweb.AppRunner(app)
        await runner.setup()
        site = aioweb.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            post = await web.chat_postMessage(channel="C0QOTD", text="question")
            stream = [
                fake.command_request("/qotd", "status", user="U1"),
                fake.press_request(user="U2", channel="C0QOTD", value="qotd:vote:1:A",
                                   message_ts=post["ts"]),
            ]
            done = await fake.inject(f"http://127.0.0.1:{port}/slack/events", stream, rate=50)
            assert await fake.wait_replies(done, within=5) == 0
        finally:
            await runner.cleanup()
        assert seen == [True, True]
        assert [d.status for d in done] == [200, 200]
        assert all(d.ack_latency is not None and d.ack_latency >= 0 for d in done)
        assert done[1].sent - done[0].sent >= 0.015  # 50/s: 20 ms apart, give or take
        assert [d.replies[0].via for d in done] == ["response_url", "chat.postEphemeral"]
        assert all((d.reply_latency or 0) > 0 for d in done)
        assert fake.requests_per_post() == {post["ts"]: 1}
        await web.reactions_add(channel="C0QOTD", timestamp=post["ts"], name="a")
        assert fake.requests_per_post() == {post["ts"]: 2}
        assert fake.post_requests[post["ts"]]["reactions.add"] == 1
