"""Out-of-schema gateway frames against the real discord.py client: none may stop it.

Dispatches that do not fit Discord's schema are dropped with one log line (no
traceback, no payload text) and the session goes on; frames that cannot be read at all
(not JSON, broken zlib) make the shard resume. After every case a valid reaction is
counted and a valid interaction is answered. Before the guard, 8 of the first 18 of
these stopped the client for good."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.discord.conftest import Stack, choice_question, eventually
from tests.discord.fake_discord import FakeDiscord

MARK = "PAYLOAD-TEXT-MUST-NOT-BE-LOGGED"
Case = Callable[[FakeDiscord, dict[str, Any]], dict[str, Any]]


def _reaction(fake: FakeDiscord, post: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = fake.reaction(fake.user("mallory"), int(post["id"]), "🇧")
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _slash(fake: FakeDiscord, **changes: Any) -> dict[str, Any]:
    data = fake.slash("qotd", fake.user("mallory"), subcommand="status")
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


_DROP = object()

# (name, event, builder of the d payload): each is dropped, the session stays up.
DISPATCH_CASES: list[tuple[str, str, Case]] = [
    ("non-numeric user id", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, user_id=MARK)),
    ("non-numeric message id", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, message_id="12x")),
    ("non-numeric guild id", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, guild_id=MARK)),
    ("channel id null", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, channel_id=None)),
    ("emoji missing", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, emoji=_DROP)),
    ("emoji null", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, emoji=None)),
    ("emoji id not numeric", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, emoji={"id": MARK, "name": "🇧"})),
    ("emoji name a number", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, emoji={"id": None, "name": 66})),
    ("emoji name a list", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, emoji={"id": None, "name": ["🇧"]})),
    ("member without user", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, member={"roles": [], "joined_at": None})),
    ("member a string", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, member=MARK)),
    ("member user id garbage", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, member={**f.member_payload(f.user("x")),
                                           "user": {"id": MARK, "username": "x"}})),
    ("user id past 64 bits", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, user_id=str(10**30))),
    ("user id negative", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, user_id="-5")),
    ("user id a float", "MESSAGE_REACTION_ADD", lambda f, p: _reaction(f, p, user_id=1.5)),
    ("user id Arabic-Indic digits", "MESSAGE_REACTION_ADD",
     lambda f, p: _reaction(f, p, user_id="١٢٣")),
    ("removal without user id", "MESSAGE_REACTION_REMOVE",
     lambda f, p: _reaction(f, p, user_id=_DROP, member=_DROP)),
    ("removal with emoji a string", "MESSAGE_REACTION_REMOVE",
     lambda f, p: _reaction(f, p, emoji=MARK, member=_DROP)),
    ("reaction d a list", "MESSAGE_REACTION_ADD", lambda f, p: [1, 2, 3]),  # type: ignore
    ("reaction d nested garbage", "MESSAGE_REACTION_ADD",
     lambda f, p: {"user_id": [[[{"a": [None, {}]}]]], "emoji": [[[]]], "member": {"user": [1]}}),
    ("interaction id garbage", "INTERACTION_CREATE", lambda f, p: _slash(f, id=MARK)),
    ("interaction without token", "INTERACTION_CREATE", lambda f, p: _slash(f, token=_DROP)),
    ("interaction permissions garbage", "INTERACTION_CREATE",
     lambda f, p: _slash(f, member={**f.member_payload(f.user("x")), "permissions": MARK})),
    ("interaction guild id garbage", "INTERACTION_CREATE", lambda f, p: _slash(f, guild_id=MARK)),
    ("interaction channel a string", "INTERACTION_CREATE", lambda f, p: _slash(f, channel=MARK)),
    ("component custom_id a number", "INTERACTION_CREATE",
     lambda f, p: {**f.button("qotd:x", p, f.user("x")), "data": {"custom_id": 7,
                                                                   "component_type": 2}}),
    ("component without data", "INTERACTION_CREATE",
     lambda f, p: {**f.button("qotd:x", p, f.user("x")), "data": None}),
    ("GUILD_CREATE id garbage", "GUILD_CREATE", lambda f, p: {"id": MARK, "name": "x"}),
    ("MESSAGE_CREATE author garbage", "MESSAGE_CREATE",
     lambda f, p: {"id": "1", "channel_id": str(f.channel_id), "author": MARK}),
    ("unknown event", "QOTD_NONSENSE", lambda f, p: {"x": MARK}),
]


@pytest.fixture
async def live(make_stack: Any, caplog: pytest.LogCaptureFixture) -> tuple[Stack, dict[str, Any]]:
    caplog.set_level(logging.INFO)
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    post = await stack.post_question()
    return stack, post


class Probe:
    """After each bad frame: a new member's valid reaction is counted, and a valid
    interaction is answered (on the same session, or a resumed one)."""

    def __init__(self, stack: Stack, post: dict[str, Any]) -> None:
        self.stack, self.post, self.n = stack, post, 0

    async def still_serving(self, case: str) -> None:
        fake = self.stack.fake
        self.n += 1
        before = self.stack.count("attempts")
        await fake.wait_for(lambda f: f._live(), within=10)
        await fake.dispatch("MESSAGE_REACTION_ADD",
                            fake.reaction(fake.user(f"member{self.n}"), int(self.post["id"]),
                                          "🇧"))
        await eventually(lambda: self.stack.count("attempts") > before, within=10,
                         what=f"a valid reaction counted after {case!r}")
        assert await self.stack.status_answered(), case


async def test_out_of_schema_dispatches_are_dropped_and_the_session_goes_on(
    live: tuple[Stack, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    stack, post = live
    fake, probe = stack.fake, Probe(stack, post)
    sessions = fake.connections
    for name, event, build in DISPATCH_CASES:
        caplog.clear()
        await fake.send_frame(fake.frame(event, build(fake, post)))
        await probe.still_serving(name)
        assert fake.connections == sessions, f"{name!r} made the client reconnect"
        ours = [r for r in caplog.records if r.name.startswith("adapters.discord")
                and r.levelno >= logging.WARNING]
        assert len(ours) <= 1, (name, [r.getMessage() for r in ours])
        assert all(r.exc_info is None for r in caplog.records), name
        assert MARK not in caplog.text, name
    assert stack.count("attempts") == len(DISPATCH_CASES)


async def test_a_dropped_dispatch_is_one_line_naming_the_event_and_safe_ids(
    live: tuple[Stack, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    stack, post = live
    fake = stack.fake
    caplog.clear()
    probe = Probe(stack, post)
    await fake.send_frame(fake.frame("MESSAGE_REACTION_ADD", _reaction(fake, post, user_id=MARK)))
    await probe.still_serving("non-numeric user id")
    [line] = [r for r in caplog.records if r.name == "adapters.discord.gateway_guard"]
    text = line.getMessage()
    assert "MESSAGE_REACTION_ADD" in text and "user_id is not a snowflake" in text
    assert f"channel={fake.channel_id}" in text and f"message={post['id']}" in text
    assert f"guild={fake.guild_id}" in text
    assert "user=" not in text and MARK not in text and line.exc_info is None
    # one that discord.py's own parser trips over: the exception type, no traceback
    caplog.clear()
    await fake.send_frame(fake.frame("MESSAGE_REACTION_REMOVE",
                                     _reaction(fake, post, emoji=_DROP, member=_DROP)))
    await probe.still_serving("emoji missing")
    [line] = [r for r in caplog.records if r.name == "adapters.discord.gateway_guard"]
    assert "MESSAGE_REACTION_REMOVE" in line.getMessage() and "(KeyError)" in line.getMessage()
    assert line.exc_info is None


# Frames the client cannot read at all: the shard resumes (or identifies again) and
# Discord replays what it missed.
FRAME_CASES: list[tuple[str, Callable[[FakeDiscord], Any]]] = [
    ("not JSON", lambda f: f.send_frame("{not json " + MARK)),
    ("JSON array", lambda f: f.send_frame([0, "MESSAGE_REACTION_ADD"])),
    ("JSON string", lambda f: f.send_frame('"' + MARK + '"')),
    ("JSON nested 5000 deep", lambda f: f.send_frame("[" * 5000 + "]" * 5000)),
    ("event name a list", lambda f: f.send_frame({"op": 0, "t": ["READY"], "s": None, "d": {}})),
    ("RESUMED with d null", lambda f: f.send_frame(f.frame("RESUMED", None))),
    ("HELLO without interval", lambda f: f.send_frame({"op": 10, "d": None})),
    ("binary garbage ending like a zlib flush",
     lambda f: f.send_bytes(MARK.encode() + b"\x00\x00\xff\xff")),
    ("not UTF-8", lambda f: f.send_bytes(b"x\x9c" + b"\xff" * 8 + b"\x00\x00\xff\xff")),
]


async def test_unreadable_frames_make_the_shard_resume(
    live: tuple[Stack, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    stack, post = live
    fake, probe = stack.fake, Probe(stack, post)
    for name, send in FRAME_CASES:
        caplog.clear()
        sessions = fake.connections
        await send(fake)
        await fake.wait_connected(sessions, within=10)
        await probe.still_serving(name)
        lines = [r.getMessage() for r in caplog.records
                 if r.name == "adapters.discord.gateway_guard"]
        assert lines and all("resuming" in t for t in lines), (name, lines)
        assert MARK not in caplog.text, name
        assert all(r.exc_info is None for r in caplog.records
                   if r.name.startswith("adapters")), name
    assert fake.resume_payloads and len(fake.identify_payloads) == 1  # resumed, every time


async def test_odd_frames_that_need_no_reconnect(
    live: tuple[Stack, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """Unknown opcodes, a string opcode, a sequence number that is no number or one past
    64 bits, a dispatch without `d` or with `d: null`: ignored, same session."""
    stack, post = live
    fake, probe = stack.fake, Probe(stack, post)
    sessions = fake.connections
    cases: list[tuple[str, Any]] = [
        ("unknown op", {"op": 99, "d": {"x": MARK}}),
        ("op a string", {"op": "0", "t": "MESSAGE_REACTION_ADD", "s": None, "d": {}}),
        ("seq a string", {"op": 0, "t": "QOTD_NONSENSE", "s": "abc", "d": {}}),
        ("seq past 64 bits", {"op": 0, "t": "QOTD_NONSENSE", "s": 10**40, "d": {}}),
        ("dispatch without d", {"op": 0, "t": "MESSAGE_REACTION_ADD", "s": None}),
        ("dispatch with d null", {"op": 0, "t": "INTERACTION_CREATE", "s": None, "d": None}),
        ("heartbeat ack with garbage", {"op": 11, "d": [MARK]}),
    ]
    for name, frame in cases:
        await fake.send_frame(frame)
        await probe.still_serving(name)
        assert fake.connections == sessions, name
    assert MARK not in caplog.text
    # the heartbeats kept an integer sequence number (none of the garbage ones)
    assert stack.discord is not None
    ws = stack.discord.client._AutoShardedClient__shards[0].ws  # type: ignore[attr-defined]
    assert isinstance(ws.sequence, int) and ws.sequence < 2**63


async def test_a_broken_zlib_stream_resumes_and_nothing_is_lost(
    make_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """With compression on (zlib-stream, as Discord sends it), garbage in the stream
    breaks every later frame of that connection: the shard resumes on a new one, and the
    reaction that arrived in the broken stream is replayed, not lost."""
    stack: Stack = make_stack([choice_question()])
    stack.fake.compress = True
    await stack.up()
    fake = stack.fake
    assert fake._live()[0].compressor is not None
    post = await stack.post_question()
    sessions = fake.connections
    await fake.send_bytes(b"\x00garbage in the stream")  # no flush marker: buffered
    await fake.dispatch("MESSAGE_REACTION_ADD",
                        fake.reaction(fake.user("zoe"), int(post["id"]), "🇧"))
    await fake.wait_connected(sessions, within=10)
    await eventually(lambda: stack.count("attempts") == 1, within=10,
                     what="the replayed reaction")
    await Probe(stack, post).still_serving("broken zlib stream")
    assert fake.resume_payloads


async def test_a_malformed_ready_identifies_again(
    make_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    post = await stack.post_question()
    sessions = fake.connections
    await fake.send_frame(fake.frame("READY", {"session_id": "s", "resume_gateway_url":
                                               fake.gateway_url, "user": {"id": MARK}}))
    await fake.wait_connected(sessions, within=10)
    await Probe(stack, post).still_serving("malformed READY")
    assert len(fake.identify_payloads) == 2
    assert any("identifying again" in r.getMessage() for r in caplog.records)
