"""A local, wire-level fake of Discord that the real discord.py client talks to.

Why a server and not mocks: the adapter's value is in what it puts on the wire (embeds,
nonces, allowed_mentions, interaction callbacks, thread routes) and in how it survives
what Discord does to it (429 with `retry_after`, 5xx, gateway dispatches for uncached
messages). Only a real client against a real socket exercises that.

REST lives under `/api/v10`; the gateway is a websocket at `/gateway` speaking plain JSON
text frames (discord.py asks for zlib/zstd in the URL query but parses text frames as
JSON), or, with `compress = True` and `compress=zlib-stream` asked for, zlib-stream
binary frames as Discord sends them (one zlib context per connection, each message
ending in a Z_SYNC_FLUSH). RESUME replays the dispatches the session missed, then sends
RESUMED, as Discord does. Tests can also send any raw frame (`send_frame`,
`send_bytes`) and close every connection with a given code (`close_gateways`).
Every REST request is recorded; tests wait on recordings with `wait_for` instead of
sleeping. Payload shapes follow Discord's API reference (v10).

Load injection and timing (for benches; small on purpose):

- `await fake.inject(interaction)`: send one INTERACTION_CREATE (build it with `slash(...)`
  or `button(...)`) and record its send time; returns the interaction id.
- `fake.ack_latency(iid)`: seconds from the injection to the interaction callback's arrival
  (`POST /interactions/{id}/{token}/callback`, any type), or None while unanswered;
  `fake.reply_latency(iid)`: to the first visible reply (a type 4 callback, or the first
  `@original` edit / follow-up after a type 5 one), or None.
- `fake.injected_at`, `fake.acked_at`, `fake.replied_at`: interaction id ->
  `time.monotonic()` (the same clock in the bench's process).
- `await fake.wait_acked(iids, within=...)`: until every one of them is acknowledged.
- `fake.requests_for_message(message_id)`: the REST requests the bot spent on one message
  (its create, edits, reactions, thread start): a post in buttons mode is 1.
- `fake.post_request_counts()`: message id -> that count, for every message the bot created
  in a channel (interaction replies excluded).
- `fake.record_requests = False` stops keeping `requests` (a long bench run); the per-message
  counts and the timings are kept regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import mimetypes
import re
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_RECONNECT = 7
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

EPHEMERAL = 1 << 6
LOADING = 1 << 7  # a deferred response's message, until it is edited
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 6) | (1 << 16)  # view, send, react, history

_TIMESTAMP = "2027-01-04T09:00:00.000000+00:00"
# a REST path that acts on one channel message (edit, delete, reaction, thread start)
_MESSAGE_PATH = re.compile(r"/channels/\d+/messages/(\d+)(?:/|$)")


@dataclass
class Recorded:
    """One REST request as the fake received it."""

    method: str
    path: str  # without the /api/v10 prefix, percent-decoded
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    status: int = 0
    # the message the request created or acted on (create, edit, reaction, thread), if any
    message_id: int | None = None
    # the file parts of a multipart/form-data request (`files[n]`), as uploaded
    files: list[UploadedFile] = field(default_factory=list)


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request (an attachment being uploaded)."""

    field: str
    filename: str
    content_type: str
    data: bytes


_RECORDED: web.RequestKey[Recorded] = web.RequestKey("recorded", Recorded)


def parse_multipart(content_type: str, raw: bytes) -> tuple[Any, list[UploadedFile]]:
    """Discord's upload form (https://discord.com/developers/docs/reference#uploading-files):
    a `payload_json` part with the JSON body and one `files[n]` part per file."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    body: Any = None
    files: list[UploadedFile] = []
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "payload_json":
            body = json.loads(data)
        elif name.startswith("files["):
            files.append(UploadedFile(name, part.get_filename() or "",
                                      part.get_content_type(), data))
    return body, files


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    after_effect: bool  # apply the request, then answer with the failure (a "timeout")


@dataclass
class Hold:
    """One request held open by the fake (see `FakeDiscord.hold`).

    `stage="before"`: the request waits before Discord carries it out; if the client went
    away meanwhile (killed), it is never carried out (status 499 in the recording).
    `stage="after"`: Discord carries it out (the message is stored) and only the answer
    waits: "stored but never answered" once the client is gone.
    """

    method: str
    pattern: re.Pattern[str]
    stage: str
    remaining: int
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[Recorded] = field(default_factory=list)

    def release(self) -> None:
        self.gate.set()

    async def wait_reached(self, within: float = 10.0) -> Recorded:
        await asyncio.wait_for(self.reached.wait(), within)
        return self.held[0]


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class _Gateway:
    ws: web.WebSocketResponse
    shard: tuple[int, int]
    session_id: str
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    compressor: Any = None  # a zlib compressobj when the connection is zlib-stream


class FakeDiscord:
    """The fake server. Start with `await fake.start()`, point the client at `api_base`
    and `gateway_url`, and drive it with `dispatch(...)` and the payload builders."""

    def __init__(self) -> None:
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self.application_id = self.new_id()
        self.bot = FakeUser(self.application_id, "qotd-bot", bot=True)
        self.guild_id = self.new_id()
        self.channel_id = self.new_id()
        self.token = "fake-token-for-tests"  # not a secret: the fake accepts only this
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}  # message id -> message object
        self.channels: dict[int, dict[str, Any]] = {}  # text channels and threads
        self.reactions: dict[int, list[str]] = {}  # message id -> emoji the bot added
        self.deleted: list[dict[str, Any]] = []  # messages the bot deleted
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> defs
        self.callbacks: dict[int, dict[str, Any]] = {}  # interaction id -> callback body
        self.retry_after = 0.05
        # What interactions report as the bot's permissions in the channel.
        self.app_permissions = EVERYONE_PERMISSIONS | (1 << 14) | (1 << 35) | (1 << 38)
        self.heartbeat_interval_ms = 45_000
        self._nonces: dict[tuple[int, str], tuple[float, int]] = {}
        self._failures: list[_Failure] = []
        self._holds: list[Hold] = []
        self._gateways: list[_Gateway] = []
        self._sessions: list[_Gateway] = []  # every identified session, for RESUME
        self._backlog: dict[str, list[tuple[int, str]]] = {}  # session -> sent dispatches
        self.compress = False  # zlib-stream binary frames when the client asks for them
        self.resumes = 0  # successful RESUMEs
        self.closes: list[int] = []  # close codes sent by close_gateways
        self.refuse_gateway = False  # answer new gateway connections with 503
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_payloads: list[dict[str, Any]] = []
        self.heartbeats = 0
        self._token_channel: dict[str, int] = {}  # interaction token -> its channel
        self.interaction_messages: dict[str, list[int]] = {}  # token -> message ids
        # a component interaction's token -> the message its button is on (what a type 7
        # callback or a PATCH of @original after a type 6 one updates)
        self._token_message: dict[str, int] = {}
        # an interaction's token -> its response message (a type 4 reply, or the loading
        # message a type 5 deferral creates): what @original is unless deferred as type 6
        self._original: dict[str, int] = {}
        self.files: dict[int, bytes] = {}  # attachment id -> the uploaded bytes
        self.dm_channels: dict[int, int] = {}  # recipient id -> DM channel id
        self.updates: list[dict[str, Any]] = []  # messages as each update left them
        # load injection and timing (see the module docstring)
        self.injected_at: dict[int, float] = {}  # interaction id -> when it was dispatched
        self.acked_at: dict[int, float] = {}  # interaction id -> when its callback arrived
        self.replied_at: dict[int, float] = {}  # interaction id -> its first visible reply
        self.record_requests = True
        self._message_requests: dict[int, int] = {}  # message id -> requests spent on it
        self._interaction_types: dict[int, int] = {}  # interaction id -> its type
        self.add_text_channel(self.channel_id, "qotd")

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for hold in self._holds:
            hold.release()
        for gw in list(self._gateways):
            await gw.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    def new_id(self) -> int:
        return next(self._ids)

    # -- test hooks ----------------------------------------------------------------------

    def fail(
        self, method: str, path_regex: str, status: int, times: int = 1, *, after_effect: bool = False
    ) -> None:
        """Answer the next `times` matching requests with `status` (429, 5xx, or a 4xx
        refusal of the body).

        With `after_effect` the request is carried out first and the failure is the
        answer, as when Discord created the message but the response was lost.
        """
        self._failures.append(
            _Failure(method.upper(), re.compile(path_regex), status, times, after_effect)
        )

    def hold(self, method: str, path_regex: str, *, times: int = 1,
             stage: str = "before") -> Hold:
        """Hold the next `times` matching requests open until `release()` (a stalled
        Discord, without a clock: the test decides when it answers, or kills the client
        meanwhile). `stage` is "before" (not carried out yet) or "after" (carried out,
        the answer withheld). E.g. a message create: `hold("POST", r"/channels/\\d+/messages")`;
        the bot's reactions: `hold("PUT", r"/channels/\\d+/messages/\\d+/reactions/.+")`."""
        if stage not in ("before", "after"):
            raise ValueError(f"stage must be 'before' or 'after', not {stage!r}")
        hold = Hold(method.upper(), re.compile(path_regex), stage, times)
        self._holds.append(hold)
        return hold

    def _take_hold(self, rec: Recorded) -> Hold | None:
        for hold in self._holds:
            if hold.remaining > 0 and hold.method == rec.method and hold.pattern.fullmatch(
                rec.path
            ):
                hold.remaining -= 1
                return hold
        return None

    async def _wait_hold(self, hold: Hold, rec: Recorded) -> None:
        hold.held.append(rec)
        hold.reached.set()
        await self._notify()
        await hold.gate.wait()

    def add_text_channel(self, channel_id: int, name: str) -> dict[str, Any]:
        channel = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }
        self.channels[channel_id] = channel
        return channel

    def find(self, method: str, path_regex: str) -> list[Recorded]:
        """Recorded requests (answered 2xx) whose method and path match."""
        rx = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if r.method == method.upper() and rx.fullmatch(r.path) and 200 <= r.status < 300
        ]

    async def wait_for(
        self, predicate: Callable[[FakeDiscord], Any], *, within: float = 5.0
    ) -> Any:
        """Wait until `predicate(self)` is truthy (re-checked after every request)."""

        async def _wait() -> Any:
            async with self._changed:
                while True:
                    result = predicate(self)
                    if result:
                        return result
                    await self._changed.wait()

        return await asyncio.wait_for(_wait(), within)

    async def wait_for_request(self, method: str, path_regex: str, *, count: int = 1,
                               within: float = 5.0) -> list[Recorded]:
        found: list[Recorded] = await self.wait_for(
            lambda f: (hits := f.find(method, path_regex)) and len(hits) >= count and hits,
            within=within,
        )
        return found

    async def wait_identified(self, count: int = 1, *, within: float = 5.0) -> None:
        await self.wait_for(
            lambda f: sum(1 for g in f._gateways if g.identified.is_set()) >= count,
            within=within,
        )

    async def inject(self, interaction: dict[str, Any]) -> int:
        """Dispatch one INTERACTION_CREATE and remember when (see `ack_latency`)."""
        iid = int(interaction["id"])
        self.injected_at[iid] = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", interaction)
        return iid

    def ack_latency(self, iid: int) -> float | None:
        """Seconds from `inject` to the interaction's callback, None while unanswered."""
        acked, sent = self.acked_at.get(iid), self.injected_at.get(iid)
        return None if acked is None or sent is None else acked - sent

    def reply_latency(self, iid: int) -> float | None:
        """Seconds from `inject` to the first visible reply, None before it."""
        replied, sent = self.replied_at.get(iid), self.injected_at.get(iid)
        return None if replied is None or sent is None else replied - sent

    async def wait_acked(self, iids: Any, *, within: float = 10.0) -> None:
        wanted = list(iids)
        await self.wait_for(lambda f: all(i in f.acked_at for i in wanted), within=within)

    def requests_for_message(self, message_id: int) -> int:
        """REST requests the bot spent on one message (create, edits, reactions, thread)."""
        return self._message_requests.get(int(message_id), 0)

    def post_request_counts(self) -> dict[int, int]:
        """Message id -> requests spent on it, for the channel messages the bot created."""
        return {mid: self._message_requests.get(mid, 0) for mid, m in self.messages.items()
                if m["type"] == 0}

    def _count_for_message(self, rec: Recorded) -> None:
        if rec.message_id is None:
            match = _MESSAGE_PATH.match(rec.path)
            if match is None:
                return
            rec.message_id = int(match.group(1))
        self._message_requests[rec.message_id] = \
            self._message_requests.get(rec.message_id, 0) + 1

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- gateway -------------------------------------------------------------------------

    def _live(self) -> list[_Gateway]:
        return [g for g in self._gateways if g.identified.is_set() and not g.ws.closed]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH to every identified gateway session (the shard of the guild)."""
        targets = self._live()
        if not targets:
            raise RuntimeError("no identified gateway session to dispatch to")
        for gw in targets:
            shard_id, count = gw.shard
            guild_id = data.get("guild_id") if isinstance(data, dict) else None
            if _shard_of(guild_id, count) not in (None, shard_id):
                continue
            await self._send(gw, {"op": OP_DISPATCH, "t": event, "s": next(self._seq), "d": data})

    def frame(self, event: str, data: Any) -> dict[str, Any]:
        """A DISPATCH frame with the next sequence number, for tests to break as they
        like (drop "d", set it to None, ...) before `send_frame`."""
        return {"op": OP_DISPATCH, "t": event, "s": next(self._seq), "d": data}

    async def send_frame(self, frame: dict[str, Any] | list[Any] | str) -> None:
        """Send one frame as is (JSON-encoded unless it is a str: a str goes out verbatim,
        JSON or not) to every identified session, compressed if the session is."""
        targets = self._live()
        if not targets:
            raise RuntimeError("no identified gateway session to send to")
        for gw in targets:
            await self._send(gw, frame)

    async def send_bytes(self, data: bytes) -> None:
        """A raw binary frame, never compressed: garbage for the client's decompressor."""
        for gw in self._live():
            with contextlib.suppress(ConnectionError):
                await gw.ws.send_bytes(data)

    async def close_gateways(self, code: int, reason: str = "") -> None:
        """Close every connection with `code` (4000 unknown error: the client should
        resume; 4004 authentication failed and 4010-4014: the client must stop)."""
        self.closes.append(code)
        for gw in list(self._gateways):
            gw.identified.clear()
            await gw.ws.close(code=code, message=reason.encode())

    @property
    def connections(self) -> int:
        """Sessions established so far: identifies accepted plus resumes."""
        return len(self._sessions) + self.resumes

    async def wait_connected(self, more_than: int, *, within: float = 10.0) -> None:
        """Until a session beyond the first `more_than` is up (identified or resumed)."""
        await self.wait_for(lambda f: f.connections > more_than and f._live(), within=within)

    async def _send(self, gw: _Gateway, frame: Any) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        if isinstance(frame, dict) and isinstance(frame.get("s"), int):
            backlog = self._backlog.setdefault(gw.session_id, [])
            backlog.append((frame["s"], text))
            del backlog[:-1000]
        try:
            if gw.compressor is not None:
                data = gw.compressor.compress(text.encode()) + gw.compressor.flush(
                    zlib.Z_SYNC_FLUSH)
                await gw.ws.send_bytes(data)
            else:
                await gw.ws.send_str(text)
        except ConnectionError:  # a client that died since; Discord drops it too
            pass

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_gateway:  # Discord's gateway unreachable for a while
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        gw = _Gateway(ws=ws, shard=(0, 1), session_id=f"session-{self.new_id()}")
        if self.compress and request.query.get("compress") == "zlib-stream":
            gw.compressor = zlib.compressobj()
        self._gateways.append(gw)
        await self._send(gw, {"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == OP_HEARTBEAT:
                    self.heartbeats += 1
                    await self._send(gw, {"op": OP_HEARTBEAT_ACK})
                    await self._notify()
                elif op == OP_IDENTIFY:
                    await self._identify(gw, frame["d"])
                elif op == OP_RESUME:
                    await self._resume(gw, frame["d"])
        finally:
            if gw in self._gateways:
                self._gateways.remove(gw)
        return ws

    async def _resume(self, gw: _Gateway, data: dict[str, Any]) -> None:
        """Replay what the session missed after `seq`, then RESUMED; an unknown session
        or a token that is no longer valid gets INVALID_SESSION (not resumable)."""
        self.resume_payloads.append(data)
        previous = next((g for g in self._sessions if g.session_id == data.get("session_id")),
                        None)
        if previous is None or data.get("token") != self.token:
            await self._send(gw, {"op": 9, "d": False})  # INVALID_SESSION
            return
        gw.shard, gw.session_id = previous.shard, previous.session_id
        seq = data.get("seq") if isinstance(data.get("seq"), int) else 0
        for sent, text in list(self._backlog.get(gw.session_id, [])):
            if sent > seq:
                await self._send(gw, text)
        gw.identified.set()
        self.resumes += 1
        await self._send(gw, {"op": OP_DISPATCH, "t": "RESUMED", "s": next(self._seq), "d": {}})
        await self._notify()

    async def _identify(self, gw: _Gateway, data: dict[str, Any]) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token:
            self.closes.append(4004)
            await gw.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard") or [0, 1]
        gw.shard = (int(shard[0]), int(shard[1]))
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": gw.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": list(gw.shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
        }
        await self._send(gw, {"op": OP_DISPATCH, "t": "READY", "s": next(self._seq), "d": ready})
        if (self.guild_id >> 22) % gw.shard[1] == gw.shard[0]:
            await self._send(gw, {"op": OP_DISPATCH, "t": "GUILD_CREATE", "s": next(self._seq),
                                  "d": self.guild_payload()})
        gw.identified.set()
        self._sessions.append(gw)
        await self._notify()

    async def request_reconnect(self) -> None:
        """Ask every connected client to reconnect (op 7), as Discord does before it moves
        a session; the client should RESUME on `resume_gateway_url`."""
        for gw in list(self._gateways):
            gw.identified.clear()
            await self._send(gw, {"op": OP_RECONNECT, "d": None})

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id),
            "name": "MLOps study group",
            "icon": None,
            "owner_id": str(self.new_id()),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": str(self.guild_id),
                    "name": "@everyone",
                    "permissions": str(EVERYONE_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [c for c in self.channels.values() if c["type"] == 0],
            "threads": [],
            "members": [self.member_payload(self.bot)],
            "voice_states": [],
            "presences": [],
            "member_count": 4,
            "large": False,
            "unavailable": False,
            "joined_at": _TIMESTAMP,
        }

    # -- payload builders for tests ------------------------------------------------------

    def member_payload(self, user: FakeUser, permissions: int | None = None) -> dict[str, Any]:
        member: dict[str, Any] = {
            "user": user.payload(),
            "roles": [],
            "joined_at": _TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def user(self, name: str) -> FakeUser:
        return FakeUser(self.new_id(), name)

    def _interaction(
        self, type_: int, data: dict[str, Any], user: FakeUser, permissions: int,
        channel_id: int | None = None, *, in_dm: bool = False,
    ) -> dict[str, Any]:
        interaction_id = self.new_id()
        cid = channel_id or self.channel_id
        self._token_channel[f"itoken-{interaction_id}"] = cid
        self._interaction_types[interaction_id] = type_
        channel = self.channels.get(cid, {"id": str(cid), "type": 0})
        if in_dm:
            # A DM with the bot: no guild, `user` instead of `member`.
            dm = {"id": str(cid), "type": 1, "last_message_id": None,
                  "recipients": [user.payload()]}
            return {
                "id": str(interaction_id), "application_id": str(self.application_id),
                "type": type_, "data": data, "channel_id": str(cid), "channel": dm,
                "user": user.payload(), "token": f"itoken-{interaction_id}", "version": 1,
                "app_permissions": "0", "locale": "en-US", "entitlements": [],
                "attachment_size_limit": 10 * 1024 * 1024,
                "authorizing_integration_owners": {"1": str(user.id)}, "context": 1,
            }
        return {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "guild_id": str(self.guild_id),
            "channel_id": str(cid),
            "channel": channel,
            "member": self.member_payload(user, permissions),
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "app_permissions": str(self.app_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
        }

    def slash(
        self,
        name: str,
        user: FakeUser,
        *,
        subcommand: str | None = None,
        options: dict[str, str | int] | None = None,
        user_option: tuple[str, FakeUser] | None = None,
        permissions: int = EVERYONE_PERMISSIONS,
        focused: str | None = None,
        channel_id: int | None = None,
        in_dm: bool = False,
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND (type 2) interaction, or AUTOCOMPLETE (type 4) when
        `focused` names the option being typed."""
        opts: list[dict[str, Any]] = []
        for key, value in (options or {}).items():
            opt: dict[str, Any] = {"name": key, "type": 4 if isinstance(value, int) else 3,
                                   "value": value}
            if key == focused:
                opt["focused"] = True
            opts.append(opt)
        resolved: dict[str, Any] = {}
        if user_option is not None:
            key, target = user_option
            opts.append({"name": key, "type": 6, "value": str(target.id)})
            member = self.member_payload(target)
            member.pop("user")
            resolved = {"users": {str(target.id): target.payload()},
                        "members": {str(target.id): member}}
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": str(self.command_id(name)), "name": name, "type": 1,
                                "options": opts}
        if not in_dm:
            data["guild_id"] = str(self.guild_id)
        if resolved:
            data["resolved"] = resolved
        return self._interaction(4 if focused else 2, data, user, permissions, channel_id,
                                 in_dm=in_dm)

    def command_id(self, name: str) -> int:
        for defs in self.commands.values():
            for d in defs:
                if d["name"] == name:
                    return int(d["id"])
        return 0

    def button(
        self, custom_id: str, message: dict[str, Any], user: FakeUser,
        permissions: int = EVERYONE_PERMISSIONS,
    ) -> dict[str, Any]:
        """A MESSAGE_COMPONENT (type 3) interaction for a button on `message`."""
        data = {"custom_id": custom_id, "component_type": 2}
        interaction = self._interaction(3, data, user, permissions,
                                        channel_id=int(message["channel_id"]))
        interaction["message"] = message
        self._token_message[interaction["token"]] = int(message["id"])
        return interaction

    def reaction(self, event_user: FakeUser, message_id: int, emoji: str, *, added: bool = True,
                 channel_id: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user_id": str(event_user.id),
            "channel_id": str(channel_id or self.channel_id),
            "message_id": str(message_id),
            "guild_id": str(self.guild_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if added:
            data["member"] = self.member_payload(event_user)
            data["message_author_id"] = str(self.bot.id)
        return data

    def message_in(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages the bot created in a channel or thread (not interaction replies)."""
        return [
            m for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and m["type"] == 0
        ]

    def replies_to(self, interaction: dict[str, Any]) -> list[dict[str, Any]]:
        """The message objects created for an interaction (response, follow-ups)."""
        ids = self.interaction_messages.get(interaction["token"], [])
        return [self.messages[i] for i in ids]

    def _interaction_message(self, token: str, body: dict[str, Any],
                             files: list[UploadedFile] | None = None) -> dict[str, Any]:
        channel_id = self._token_channel.get(token, self.channel_id)
        message = self._message(channel_id, body, interaction=True, files=files)
        self.interaction_messages.setdefault(token, []).append(int(message["id"]))
        return message

    def attachment_bytes(self, message: dict[str, Any]) -> list[tuple[dict[str, Any], bytes]]:
        """The message's attachment objects, each with the bytes that were uploaded."""
        return [(a, self.files[int(a["id"])]) for a in message.get("attachments") or []]

    def dm_channel_of(self, user: FakeUser) -> int | None:
        return self.dm_channels.get(user.id)

    def _attachments(self, body: dict[str, Any], files: list[UploadedFile],
                     kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Attachment objects for a create or edit: the `attachments` of the body name
        each upload by its index (`id` n <-> `files[n]`) with filename and description;
        an id of an existing attachment keeps it (an edit without it removes it)."""
        by_field = {f.field: f for f in files}
        old = {str(a["id"]): a for a in kept}
        out: list[dict[str, Any]] = []
        for spec in body.get("attachments") or []:
            ident = str(spec.get("id"))
            if ident in old:
                out.append(old[ident])
                continue
            upload = by_field.get(f"files[{ident}]")
            if upload is None:
                continue
            attachment_id = self.new_id()
            self.files[attachment_id] = upload.data
            filename = spec.get("filename") or upload.filename
            out.append({
                "id": str(attachment_id), "filename": filename, "size": len(upload.data),
                "url": f"https://cdn.fake.discord/attachments/{attachment_id}/{filename}",
                "proxy_url": f"https://media.fake.discord/attachments/{attachment_id}/{filename}",
                # Discord works the type out from the name (discord.py uploads every
                # file as application/octet-stream)
                "content_type": mimetypes.guess_type(filename)[0] or upload.content_type,
                **({"description": spec["description"]} if spec.get("description") else {}),
            })
        return out

    def _update(self, message: dict[str, Any], body: dict[str, Any],
                files: list[UploadedFile]) -> None:
        """An edit as Discord applies it: the fields sent replace the message's."""
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        if "attachments" in body:
            message["attachments"] = self._attachments(body, files, message["attachments"])
        message["edited_timestamp"] = _TIMESTAMP
        self.updates.append(json.loads(json.dumps(message)))

    # -- REST ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            passthrough: web.StreamResponse = await handler(request)
            return passthrough
        body: Any = None
        files: list[UploadedFile] = []
        raw = await request.read()
        if raw and request.content_type == "multipart/form-data":
            body, files = parse_multipart(request.headers["Content-Type"], raw)
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        path = urllib.parse.unquote(request.path[len(API_PREFIX):])
        rec = Recorded(request.method, path, dict(request.query), dict(request.headers), body,
                       files=files)
        request[_RECORDED] = rec
        if self.record_requests:
            self.requests.append(rec)
        self._note_interaction_timing(rec)
        try:
            hold = self._take_hold(rec)
            if hold is not None and hold.stage == "before":
                await self._wait_hold(hold, rec)
                if request.transport is None or request.transport.is_closing():
                    rec.status = 499  # the client went away: never carried out
                    return web.Response(status=499)
            failure = self._take_failure(rec)
            if failure is not None and not failure.after_effect:
                response = self._failure_response(failure)
            else:
                if request.headers.get("Authorization") != f"Bot {self.token}" and not (
                    path.startswith("/interactions/") or path.startswith("/webhooks/")
                ):
                    response = _json({"message": "401: Unauthorized", "code": 0}, status=401)
                else:
                    response = await handler(request)
                if failure is not None:
                    response = self._failure_response(failure)
            self._rate_limit_headers(response, path)
            rec.status = response.status
            if 200 <= rec.status < 300:
                self._count_for_message(rec)
            if hold is not None and hold.stage == "after":
                await self._wait_hold(hold, rec)  # carried out; the answer is withheld
            return response
        finally:
            await self._notify()

    def _note_interaction_timing(self, rec: Recorded) -> None:
        """When an interaction's callback, and its first visible reply, arrived."""
        now = time.monotonic()
        if rec.method == "POST" and rec.path.startswith("/interactions/"):
            parts = rec.path.split("/")
            if len(parts) > 2 and parts[2].isdigit():
                iid = int(parts[2])
                self.acked_at.setdefault(iid, now)
                if isinstance(rec.json, dict) and rec.json.get("type") in (4, 7):
                    self.replied_at.setdefault(iid, now)
        elif rec.method in ("POST", "PATCH") and rec.path.startswith("/webhooks/"):
            parts = rec.path.split("/")
            token = parts[3] if len(parts) > 3 else ""
            if token.startswith("itoken-") and token[7:].isdigit():
                self.replied_at.setdefault(int(token[7:]), now)

    def _take_failure(self, rec: Recorded) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and failure.method == rec.method and failure.pattern.fullmatch(
                rec.path
            ):
                failure.remaining -= 1
                return failure
        return None

    def _failure_response(self, failure: _Failure) -> web.Response:
        if failure.status == 429:
            response = _json(
                {"message": "You are being rate limited.", "retry_after": self.retry_after,
                 "global": False},
                status=429,
            )
            response.headers["Via"] = "1.1 google"
            response.headers["Retry-After"] = str(self.retry_after)
            response.headers["X-RateLimit-Scope"] = "user"
            return response
        if failure.status >= 500:
            return _json({"message": f"{failure.status}: Server error", "code": 0},
                         status=failure.status)
        # A 4xx stands for Discord refusing what was sent (Invalid Form Body).
        return _json({"message": "Invalid Form Body", "code": 50035, "errors": {}},
                     status=failure.status)

    def _rate_limit_headers(self, response: web.StreamResponse, path: str) -> None:
        bucket = re.sub(r"\d{6,}", "id", path)
        response.headers["X-RateLimit-Limit"] = "5"
        response.headers["X-RateLimit-Remaining"] = "0" if response.status == 429 else "4"
        response.headers["X-RateLimit-Reset"] = f"{time.time() + self.retry_after:.3f}"
        response.headers["X-RateLimit-Reset-After"] = f"{self.retry_after:.3f}"
        response.headers["X-RateLimit-Bucket"] = f"bucket-{abs(hash(bucket)) % 10**8}"

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = urllib.parse.unquote(request.path[len(API_PREFIX):])
        body = request[_RECORDED].json
        for route_method, pattern, handler in self._routes():
            if route_method != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                response: web.StreamResponse = await handler(request, body, *match.groups())
                return response
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/applications/@me", self._get_application),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/gateway/bot", self._get_gateway_bot),
            ("GET", r"/gateway", self._get_gateway),
            ("PUT", r"/applications/(\d+)/commands", self._put_commands),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_guild_commands),
            ("GET", r"/applications/(\d+)/commands", self._get_commands),
            ("GET", r"/applications/(\d+)/guilds/(\d+)/commands", self._get_guild_commands),
            ("GET", r"/users/@me/guilds", self._get_my_guilds),
            ("POST", r"/channels/(\d+)/messages", self._create_message),
            ("GET", r"/channels/(\d+)/messages", self._get_messages),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._delete_message),
            ("PUT", r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", self._add_reaction),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._start_thread),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._edit_original),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._delete_original),
            ("POST", r"/users/@me/channels", self._create_dm),
        ]

    async def _get_me(self, request: web.Request, body: Any) -> web.Response:
        return _json(self.bot.payload())

    async def _get_application(self, request: web.Request, body: Any) -> web.Response:
        owner = FakeUser(self.new_id(), "owner")
        return _json({
            "id": str(self.application_id),
            "name": "qotd",
            "icon": None,
            "description": "Question of the day",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": self.bot.payload(),
            "owner": owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "interactions_endpoint_url": None,
        })

    async def _get_gateway_bot(self, request: web.Request, body: Any) -> web.Response:
        return _json({
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1},
        })

    async def _get_gateway(self, request: web.Request, body: Any) -> web.Response:
        return _json({"url": self.gateway_url})

    def _store_commands(self, key: str, defs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store what a bulk overwrite sent the way Discord keeps it: with ids, a version,
        and its defaults filled in (type 1, nsfw false, every context and the guild
        install for a global command), `required: false` left out of options."""
        stored = []
        for d in defs:
            full = {**d, "id": str(self.new_id()), "application_id": str(self.application_id),
                    "version": str(self.new_id()), "default_member_permissions":
                    d.get("default_member_permissions"), "type": d.get("type", 1),
                    "nsfw": bool(d.get("nsfw")), "options": _listed_options(d.get("options"))}
            if key != "global":
                full["guild_id"] = key
                full["contexts"] = None
                full.pop("dm_permission", None)
            else:
                if full.get("contexts") is None:
                    full["contexts"] = [0] if d.get("dm_permission") is False else [0, 1, 2]
                full["dm_permission"] = 1 in full["contexts"]
            full["integration_types"] = d.get("integration_types") or [0]
            stored.append(full)
        self.commands[key] = stored
        return stored

    def _unknown_application(self, app: str) -> web.Response | None:
        if int(app) != self.application_id:
            return _json({"message": "Unknown Application", "code": 10002}, status=404)
        return None

    async def _put_commands(self, request: web.Request, body: Any, app: str) -> web.Response:
        """PUT /applications/{application.id}/commands: bulk overwrite, returns the
        application command objects."""
        return self._unknown_application(app) or _json(self._store_commands("global", body or []))

    async def _put_guild_commands(
        self, request: web.Request, body: Any, app: str, guild: str
    ) -> web.Response:
        return self._unknown_application(app) or _json(self._store_commands(guild, body or []))

    async def _get_commands(self, request: web.Request, body: Any, app: str) -> web.Response:
        """GET /applications/{application.id}/commands: the application command objects
        (id, application_id, version, type, name, description, options,
        default_member_permissions, dm_permission, contexts, integration_types, nsfw).
        Without `with_localizations=true` Discord sends no localisation maps."""
        return self._unknown_application(app) or _json(
            self._as_listed(self.commands.get("global", []), request))

    async def _get_guild_commands(self, request: web.Request, body: Any, app: str, guild: str
                                  ) -> web.Response:
        """GET /applications/{application.id}/guilds/{guild.id}/commands."""
        return self._unknown_application(app) or _json(
            self._as_listed(self.commands.get(guild, []), request))

    @staticmethod
    def _as_listed(stored: list[dict[str, Any]], request: web.Request) -> list[dict[str, Any]]:
        if request.query.get("with_localizations") in ("true", "True", "1"):
            return stored
        drop = ("name_localizations", "description_localizations")
        return [{k: v for k, v in c.items() if k not in drop} for c in stored]

    async def _get_my_guilds(self, request: web.Request, body: Any) -> web.Response:
        """GET /users/@me/guilds: partial guilds after `after`, at most `limit` (200)."""
        after = int(request.query.get("after", "0"))
        guilds = sorted({self.guild_id, *(int(k) for k in self.commands if k != "global")})
        return _json([
            {"id": str(g), "name": f"guild {g}", "icon": None, "banner": None, "owner": False,
             "permissions": str(EVERYONE_PERMISSIONS), "features": []}
            for g in guilds if g > after
        ][: int(request.query.get("limit", "200"))])

    def _message(self, channel_id: int, body: dict[str, Any], *,
                 flags: int = 0, interaction: bool = False,
                 files: list[UploadedFile] | None = None) -> dict[str, Any]:
        message_id = self.new_id()
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.bot.payload(),
            "content": body.get("content") or "",
            "timestamp": _TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(body, files or [], []),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 20 if interaction else 0,
            "flags": flags | int(body.get("flags") or 0),
        }
        if channel_id in self.channels and self.channels[channel_id]["type"] != 1 \
                and not interaction:
            message["guild_id"] = str(self.guild_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        self.messages[message_id] = message
        return message

    async def _create_message(self, request: web.Request, body: Any, cid: str) -> web.Response:
        channel_id = int(cid)
        if channel_id not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        body = body or {}
        files = request[_RECORDED].files
        if not (body.get("content") or body.get("embeds") or body.get("components") or files):
            return _json({"message": "Cannot send an empty message", "code": 50006}, status=400)
        if (problem := components_problem(body.get("components"))) is not None:
            return _invalid_form(problem)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and time.monotonic() - seen[0] < 300:
                request[_RECORDED].message_id = seen[1]
                return _json(self.messages[seen[1]])
        message = self._message(channel_id, body, files=files)
        request[_RECORDED].message_id = int(message["id"])
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel_id, str(nonce))] = (time.monotonic(), int(message["id"]))
        return _json(message)

    async def _get_messages(self, request: web.Request, body: Any, cid: str) -> web.Response:
        """Channel history, newest first, `limit` 1-100 (default 50); no nonces, as
        Discord does not return them on fetched messages."""
        if int(cid) not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 100:
            return _json({"message": "Invalid Form Body", "code": 50035}, status=400)
        found = [
            {k: v for k, v in m.items() if k != "nonce"}
            for m in sorted(self.messages.values(), key=lambda m: int(m["id"]), reverse=True)
            if m["channel_id"] == cid
        ]
        return _json(found[:limit])

    async def _get_message(self, request: web.Request, body: Any, cid: str, mid: str
                           ) -> web.Response:
        message = self.messages.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(message)

    async def _edit_message(self, request: web.Request, body: Any, cid: str, mid: str
                            ) -> web.Response:
        message = self.messages.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if (problem := components_problem((body or {}).get("components"))) is not None:
            return _invalid_form(problem)
        self._update(message, body or {}, request[_RECORDED].files)
        return _json(message)

    async def _delete_message(self, request: web.Request, body: Any, cid: str, mid: str
                              ) -> web.Response:
        """DELETE /channels/{channel.id}/messages/{message.id}: 204 No Content."""
        message = self.messages.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        del self.messages[int(mid)]
        self.deleted.append(message)
        return web.Response(status=204)

    async def _add_reaction(self, request: web.Request, body: Any, cid: str, mid: str,
                            emoji: str) -> web.Response:
        if int(mid) not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        added = self.reactions.setdefault(int(mid), [])
        if emoji not in added:
            added.append(emoji)
        return web.Response(status=204)

    async def _start_thread(self, request: web.Request, body: Any, cid: str, mid: str
                            ) -> web.Response:
        message_id = int(mid)
        if message_id not in self.messages or self.messages[message_id]["channel_id"] != cid:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if message_id in self.channels:
            return _json(
                {"message": "A thread has already been created for this message",
                 "code": 160004},
                status=400,
            )
        name = (body or {}).get("name", "")
        if not 1 <= len(name) <= 100:
            return _json({"message": "Invalid Form Body", "code": 50035}, status=400)
        thread = {
            "id": mid,  # a thread started from a message shares the message's id
            "guild_id": str(self.guild_id),
            "parent_id": cid,
            "owner_id": str(self.bot.id),
            "name": name,
            "type": 11,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "total_message_sent": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": (body or {}).get("auto_archive_duration", 1440),
                "archive_timestamp": _TIMESTAMP,
                "locked": False,
            },
        }
        self.channels[message_id] = thread
        self.messages[message_id]["thread"] = thread
        return _json(thread, status=201)

    async def _callback(self, request: web.Request, body: Any, iid: str, token: str
                        ) -> web.Response:
        interaction_id = int(iid)
        if interaction_id in self.callbacks:
            return _json({"message": "Interaction has already been acknowledged.",
                          "code": 40060}, status=400)
        body = body or {}
        files = request[_RECORDED].files
        data = body.get("data") or {}
        if (problem := components_problem(data.get("components"))) is not None:
            return _invalid_form(problem)
        self.callbacks[interaction_id] = body
        flags = int(data.get("flags") or 0)
        response: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": self._interaction_types.get(interaction_id, 2),
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }
        if body.get("type") == 4:
            message = self._interaction_message(token, data, files)
            self._original[token] = int(message["id"])
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": 4, "message": message}
        elif body.get("type") == 5:
            # "Bot is thinking…": a loading message, ephemeral if deferred so, that the
            # first edit of @original fills in
            message = self._interaction_message(token, {"flags": (flags & EPHEMERAL) | LOADING})
            self._original[token] = int(message["id"])
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": 5}
        elif body.get("type") in (6, 7) and token not in self._token_message:
            # UPDATE_MESSAGE / DEFERRED_UPDATE_MESSAGE are for component interactions only
            return _json({"message": "Invalid Form Body", "code": 50035,
                          "errors": {"type": "not a component interaction"}}, status=400)
        elif body.get("type") == 7:
            target = self.messages[self._token_message[token]]
            self._update(target, data, files)
            response["resource"] = {"type": 7, "message": target}
        elif body.get("type") in (6, 8):
            response["resource"] = {"type": body["type"]}
        if request.query.get("with_response") in ("1", "true", "True"):
            return _json(response)
        return web.Response(status=204)

    def _unknown_webhook(self, app: str, token: str) -> web.Response | None:
        """An interaction's webhook is the application's id and the interaction token."""
        if int(app) != self.application_id or token not in self._token_channel:
            return _json({"message": "Unknown Webhook", "code": 10015}, status=404)
        return None

    async def _followup(self, request: web.Request, body: Any, app: str, token: str
                        ) -> web.Response:
        if (unknown := self._unknown_webhook(app, token)) is not None:
            return unknown
        if (problem := components_problem((body or {}).get("components"))) is not None:
            return _invalid_form(problem)
        return _json(self._interaction_message(token, body or {}, request[_RECORDED].files))

    async def _edit_original(self, request: web.Request, body: Any, app: str, token: str
                             ) -> web.Response:
        """After an update (type 6 or 7) of a component interaction, @original is the
        message the button is on; after a deferred reply (type 5), the reply."""
        if (unknown := self._unknown_webhook(app, token)) is not None:
            return unknown
        if (problem := components_problem((body or {}).get("components"))) is not None:
            return _invalid_form(problem)
        files = request[_RECORDED].files
        iid = int(token.removeprefix("itoken-")) if token.startswith("itoken-") else 0
        if token in self._token_message and (self.callbacks.get(iid) or {}).get("type") in (6, 7):
            target = self.messages[self._token_message[token]]
            self._update(target, body or {}, files)
            return _json(target)
        # the response message (type 4, or the loading one of a type 5: its visibility
        # is the one it was deferred with, an edit cannot change it)
        original = self.messages.get(self._original.get(token, 0))
        if original is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        self._update(original, body or {}, files)
        original["flags"] = int(original.get("flags") or 0) & ~LOADING
        return _json(original)

    async def _delete_original(self, request: web.Request, body: Any, app: str, token: str
                               ) -> web.Response:
        if (unknown := self._unknown_webhook(app, token)) is not None:
            return unknown
        original = self._original.pop(token, None)
        if original is None or original not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        self.deleted.append(self.messages.pop(original))
        return web.Response(status=204)

    async def _create_dm(self, request: web.Request, body: Any) -> web.Response:
        """POST /users/@me/channels {recipient_id}: the DM channel with that user, the
        same one every time (Discord returns the existing channel)."""
        recipient = int(str((body or {}).get("recipient_id")))
        channel_id = self.dm_channels.get(recipient) or self.new_id()
        self.dm_channels[recipient] = channel_id
        dm = {"id": str(channel_id), "type": 1, "last_message_id": None,
              "recipients": [FakeUser(recipient, "member").payload()]}
        self.channels[channel_id] = dm
        return _json(dm)

    # -- queries over what the bot sent --------------------------------------------------

    def interaction_replies(self, interaction: dict[str, Any]) -> list[dict[str, Any]]:
        """Every message body the bot sent for one interaction: the callback's data,
        the edit of the original, and follow-ups, in order. An edit of @original after a
        deferred reply (type 5) carries no flags on the wire: it is listed with the
        flags the deferral gave the message (EPHEMERAL), which is what members see."""
        token = interaction["token"]
        out: list[dict[str, Any]] = []
        deferred_flags: int | None = None
        for r in self.requests:
            if not 200 <= r.status < 300:
                continue
            if r.path == f"/interactions/{interaction['id']}/{token}/callback":
                kind = r.json.get("type") if isinstance(r.json, dict) else None
                if kind in (4, 7):
                    out.append(r.json.get("data") or {})
                elif kind == 5:
                    deferred_flags = int((r.json.get("data") or {}).get("flags") or 0) \
                        & EPHEMERAL
            elif r.path.startswith(f"/webhooks/{self.application_id}/{token}") and r.method in (
                "POST", "PATCH"
            ):
                body = dict(r.json or {})
                if r.method == "PATCH" and deferred_flags is not None:
                    body["flags"] = int(body.get("flags") or 0) | deferred_flags
                out.append(body)
        return out


def components_problem(components: Any) -> str | None:
    """Why Discord would refuse these message components (Invalid Form Body), or None.
    The legacy layout (https://discord.com/developers/docs/components/reference): at most
    5 action rows (type 1), each of 1-5 buttons (type 2); a button has a style 1-5, a label
    of at most 80 characters, and, unless it is a link (style 5, a url), a custom_id of
    1-100 characters, unique in the message."""
    if components is None:
        return None
    if not isinstance(components, list) or len(components) > 5:
        return "components: at most 5 action rows"
    seen: set[str] = set()
    for row in components:
        if not isinstance(row, dict) or row.get("type") != 1:
            return "components: a top-level component must be an action row (type 1)"
        buttons = row.get("components")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 5:
            return "components: an action row holds 1 to 5 buttons"
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != 2:
                return "components: only buttons (type 2) here"
            if button.get("style") not in (1, 2, 3, 4, 5):
                return "components: a button style is 1-5"
            label = button.get("label")
            if label is not None and (not isinstance(label, str) or len(label) > 80):
                return "components: a button label is at most 80 characters"
            if button.get("style") == 5:
                if not button.get("url") or "custom_id" in button:
                    return "components: a link button has a url and no custom_id"
                continue
            cid = button.get("custom_id")
            if not isinstance(cid, str) or not 1 <= len(cid) <= 100:
                return "components: a custom_id is 1-100 characters"
            if cid in seen:
                return "components: custom_ids must be unique in a message"
            seen.add(cid)
    return None


def _invalid_form(problem: str) -> web.Response:
    return _json({"message": "Invalid Form Body", "code": 50035,
                  "errors": {"components": problem}}, status=400)


def _listed_options(options: Any) -> list[dict[str, Any]]:
    """Options as Discord lists them: a `required` that is false is not sent back."""
    listed = []
    for option in options or []:
        option = {k: v for k, v in option.items() if not (k == "required" and v is False)}
        if "options" in option:
            option["options"] = _listed_options(option["options"])
        listed.append(option)
    return listed


def _shard_of(guild_id: Any, count: int) -> int | None:
    """The shard a guild's events go to, or None (all shards) for an id that is none."""
    try:
        return (int(guild_id) >> 22) % count
    except (TypeError, ValueError):
        return None


def _json(payload: Any, status: int = 200) -> web.Response:
    # Discord sends exactly "application/json" (no charset); discord.py compares the header
    # verbatim before parsing a body as JSON.
    response = web.Response(text=json.dumps(payload), status=status)
    response.headers["Content-Type"] = "application/json"
    return response
