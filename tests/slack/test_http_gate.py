"""HTTP mode against junk: real HTTP requests to the adapter's own server.

Nothing is parsed before the signature over the raw bytes is checked, so forged or
garbled requests get 401, signed ones Bolt could not read 400, oversized ones 413 —
never a 500, never a traceback in the log, never a call to Slack or the core — and the
next real request is served as before. Socket Mode does not go through this gate.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.http_server import MAX_BODY_BYTES, readable
from tests.slack.fake_slack import SIGNING_SECRET, form_body, sign, slash_command
from tests.slack.harness import SlackDriver, bot_on_slack, say

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


async def send(
    slack: SlackDriver, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(
        slack.events_url, data=body, headers=headers
    ) as resp:
        return resp.status, await resp.text()


def signed(body: bytes, content_type: str = JSON, **extra: str) -> dict[str, str]:
    return {"Content-Type": content_type, **sign(SIGNING_SECRET, body), **extra}


def command_bytes(text: str = "status") -> bytes:
    return form_body(
        slash_command("/qotd", text, user_id="UADMIN", response_url="http://127.0.0.1:9/r")
    ).encode()


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert noisy == [], [r.getMessage() for r in noisy]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_junk_gets_4xx_never_500_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    now = int(time.time())
    good = command_bytes()
    ts, sig = sign(SIGNING_SECRET, good).values()
    cases: list[tuple[str, bytes, dict[str, str], int]] = [
        ("unsigned junk", b"{not json", {"Content-Type": JSON}, 401),
        ("signed junk JSON", b"{not json", signed(b"{not json"), 400),
        ("signed JSON array", b"[1, 2]", signed(b"[1, 2]"), 400),
        ("signed bad payload field", b"payload=%7Bnot", signed(b"payload=%7Bnot", FORM), 400),
        ("signed payload not an object", b"payload=%5B%5D", signed(b"payload=%5B%5D", FORM), 400),
        ("wrong content type", good, signed(good, "text/plain"), 400),
        ("no content type", good, sign(SIGNING_SECRET, good), 400),
        ("not UTF-8", b"\xff\xfe{}", signed(b"\xff\xfe{}"), 400),
        ("no headers", good, {"Content-Type": FORM}, 401),
        ("garbled timestamp", good, {**signed(good, FORM), "X-Slack-Request-Timestamp": "soon"}, 401),
        ("huge timestamp", good, {**signed(good, FORM), "X-Slack-Request-Timestamp": "9" * 5000}, 401),
        ("garbled signature", good, {**signed(good, FORM), "X-Slack-Signature": "v0=zz"}, 401),
        ("non-ASCII signature", good, {**signed(good, FORM), "X-Slack-Signature": "v0=" + "é" * 64}, 401),
        ("wrong signature", good, {**signed(good, FORM), "X-Slack-Signature": "v0=" + "0" * 64}, 401),
        ("signed for another body", good + b"&x=1", {"Content-Type": FORM, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}, 401),
        ("stale", good, {"Content-Type": FORM, **sign(SIGNING_SECRET, good, now - 310)}, 401),
        ("from the future", good, {"Content-Type": FORM, **sign(SIGNING_SECRET, good, now + 310)}, 401),
        ("oversize", b"x" * (MAX_BODY_BYTES + 1), signed(b"x" * (MAX_BODY_BYTES + 1), FORM), 413),
    ]  # fmt: skip
    async with bot_on_slack(tmp_path, "http") as (_, slack):
        at_start = list(slack.fake.calls)
        for name, body, headers, expected in cases:
            status, _ = await send(slack, body, headers)
            assert status == expected, name
        assert slack.fake.calls == at_start and slack.fake.responses == [], "Slack never called"
        assert_quiet(caplog)
        answer = await say(slack, "/qotd", "status", "U1")
        assert "Not set up here yet" in answer["text"], "the next real request is served"


async def test_a_signed_payload_with_odd_field_types_is_answered_not_crashed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack-signed but shaped wrong (fields Bolt reads with the wrong type): 2xx or 4xx."""
    caplog.set_level(logging.DEBUG)
    odd = [
        {"type": "event_callback", "event": "x", "team": 5, "enterprise": 7},
        {"type": "event_callback", "event": {"type": 5}, "authorizations": "nope"},
        {"type": "block_actions", "actions": [5], "user": 3, "channel": "C1"},
        {"type": "block_actions", "actions": "x", "team": {"id": []}},
        {"command": 5, "user_id": ["U1"], "text": {"a": 1}},
        {"type": "view_submission", "view": 3},
    ]
    async with bot_on_slack(tmp_path, "http") as (_, slack):
        for payload in odd:
            body = json.dumps(payload).encode()
            status, _ = await send(slack, body, signed(body))
            assert status < 500, payload
        assert_quiet(caplog)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.text(max_size=80), st.sampled_from(["{", "payload=", "payload={", "[]"])),
    content_type=st.sampled_from([JSON, FORM]),
)
def test_readable_decides_exactly_what_bolt_can_parse(text: str, content_type: str) -> None:
    """`readable` is the gate's promise: when it says yes, Bolt's parser does not raise
    and gives a dict."""
    from slack_bolt.request.internals import parse_body

    if readable(text, content_type):
        assert isinstance(parse_body(text, content_type), dict)


async def test_commands_and_presses_get_their_200_before_bolt_or_the_core_runs(
    tmp_path: Path,
) -> None:
    """The 200 of a slash command or a button press goes out once the request is
    verified, before Bolt's middleware (here its first auth.test, held) and so before
    any database work; the answer follows through response_url. Other requests keep
    Bolt's own answer (a url_verification challenge is echoed)."""
    async with bot_on_slack(tmp_path, "http") as (_, slack):
        gate = slack.fake.hold("auth.test")  # Bolt authorizes the first request with it
        key = await slack.command("/qotd", "status", user="U1")  # asserts the 200
        await slack.fake.wait_for(lambda: any(c.status == 0 for c in slack.fake.calls))
        assert [r for r in slack.fake.responses if r["key"] == key] == []
        press = await slack.press(user="U1", channel="C0QOTD", value="vote:1:A",
                                  message_ts="1790000000.000001", ephemeral=False)
        gate.set()
        [answer] = await slack.answers(key)
        assert "Not set up here yet" in answer["text"]
        [pressed] = await slack.answers(press)  # an unknown post: a private "nothing changed"
        assert pressed["response_type"] == "ephemeral" and pressed["replace_original"] is False
        body = json.dumps({"token": "t", "challenge": "c-9", "type": "url_verification"})
        status, text = await slack.post_signed(body, JSON)
        assert status == 200 and "c-9" in text
