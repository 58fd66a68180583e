"""A local Slack for tests: the Web API, response URLs and the Socket Mode websocket.

The real slack_sdk / slack_bolt clients talk to it over the wire (the web client through
`base_url=fake.api_url`, Socket Mode through the URL `apps.connections.open` returns), so
the adapter is exercised exactly as in production, minus Slack. Response shapes follow
Slack's API reference (`ok`, `ts`, `channel`, `message`, `messages`, `response_metadata`).

Usable without pytest (`async with FakeSlack() as fake:`) so other suites can reuse it.

Besides the reference, it enforces what Slack does but does not document, as app
developers reported it: a message whose blocks' text adds up to more than 12,000
characters is refused with `msg_blocks_too_long` (slackapi/bolt-js#2509, #2867), on
chat.postMessage, chat.update, chat.postEphemeral and, stricter than reported, on
response URLs (HTTP 400 with the code as plain text, as Slack's webhooks answer errors).
Rotating tokens (`issue_rotating_token`) expire on the fake's own clock (`clock`, epoch
seconds) and are renewed with oauth.v2.access `grant_type=refresh_token`; a refresh
token works once (stricter than Slack, so that a race between two refreshes shows).

Personal review adds: `conversations.open` (the same IM channel per user, as Slack
keeps one), the files upload v2 flow (`files.getUploadURLExternal` hands out an upload
URL on this server, the bytes are POSTed there, `files.completeUploadExternal` shares
the file into `channel_id` as a message with `files`; the length must match and a file
completes once), and `replace_original` on response URLs: an answer to a button's
response URL (`action_response_url(message_ts)`) with `replace_original: true`
replaces the message the button was on, ephemeral ones included.

Rate limits and load (issue 16; the interaction benchmark builds on these, and
/work/brief/slack-fake-api.md names them):

- `enforce_tier(method, per_minute)`: from now on `method` is limited the way Slack's
  tiers are (a sliding 60 s window per method; `TIERS` holds the documented figures,
  e.g. users.info Tier 4 = 100/min, reactions.add Tier 3 = 50/min); a call over it is
  answered 429 `ratelimited` with `Retry-After` (whole seconds until a slot frees) and
  counted in `rate_limited[method]`. `fail(method, times=N)` (status 429 by default)
  answers the next N calls 429 whatever the tier says.
- `command_request(...)` / `press_request(...)`: a signed-HTTP-ready slash command or
  `block_actions` payload (an `Interaction`, with its own response URL); `await
  inject(url, interactions, rate=per_second)` POSTs them, signed, to the app's events
  URL at that rate (each on its own task, on the schedule, not waiting for earlier ones)
  and returns one `Injected` per request: `sent`, `acked` (when the HTTP answer's status
  arrived), `status`, and `replies` (`Arrival`s) as they come in. A reply is matched to
  its interaction by its response URL key, or (chat.postEphemeral / chat.postMessage) to
  the oldest unanswered interaction of the same user in the same channel.
  `await wait_replies(injected, within=s)` waits until each has a reply (returns how
  many still have none). Every reply of any kind is also in `arrivals`. Times are
  `monotonic()` seconds (time.perf_counter unless injected).
- `post_requests[ts]`: a Counter of the Web API calls made for the message `ts`
  (chat.postMessage that created it, reactions.add, chat.update, chat.delete);
  `requests_per_post()` sums them per top-level post.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

TEAM_ID = "T0FAKE001"
BOT_USER_ID = "U0QOTDBOT"
BOT_ID = "B0QOTDBOT"
APP_ID = "A0QOTDAPP"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret"
BLOCKS_TEXT_LIMIT = 12_000  # see the module docstring
TOKEN_LIFETIME = 43_200  # rotating tokens live 12 hours, as Slack's do
# Per-method limits (calls per minute per workspace) from Slack's rate-limit reference:
# Tier 2 = 20+, Tier 3 = 50+, Tier 4 = 100+; chat.postMessage is "special" (1/s/channel).
TIERS: dict[str, int] = {
    "users.info": 100,  # Tier 4
    "reactions.add": 50,  # Tier 3
    "chat.postEphemeral": 100,  # Tier 4
    "chat.update": 50,  # Tier 3
    "conversations.open": 50,  # Tier 3
}
REPLY_METHODS = ("chat.postEphemeral", "chat.postMessage")


def blocks_text_size(value: Any) -> int:
    """Every `text` string in a block tree, summed (how the reports count)."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else blocks_text_size(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(blocks_text_size(v) for v in value)
    return 0


def _too_long(params: Mapping[str, Any]) -> bool:
    return blocks_text_size(params.get("blocks")) > BLOCKS_TEXT_LIMIT


@dataclass
class Call:
    """One Web API request as the fake received it (params merged from query and body)."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int


@dataclass
class Failure:
    status: int
    times: int
    retry_after: int
    after_effect: bool = False


@dataclass
class SlackHold:
    """One Web API call held open (see `FakeSlack.hold_call`). `stage="before"`: Slack has
    not carried it out yet, and never will if the client goes away meanwhile (status 499
    in the recording); `stage="after"`: carried out (the message is stored), the answer
    withheld."""

    method: str
    stage: str
    remaining: int
    match: Callable[[dict[str, Any]], bool] | None
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[dict[str, Any]] = field(default_factory=list)

    def release(self) -> None:
        self.gate.set()

    async def wait_reached(self, within: float = 10.0) -> dict[str, Any]:
        await asyncio.wait_for(self.reached.wait(), within)
        return self.held[0]


@dataclass
class Tier:
    """A sliding-window limit on one method: `per_minute` calls in any `window` s."""

    per_minute: int
    window: float = 60.0
    accepted: deque[float] = field(default_factory=deque)

    def retry_after(self, now: float) -> float | None:
        """None: the call may go; else the seconds until a slot frees."""
        while self.accepted and self.accepted[0] <= now - self.window:
            self.accepted.popleft()
        if len(self.accepted) < self.per_minute:
            self.accepted.append(now)
            return None
        return self.accepted[0] + self.window - now


@dataclass
class Arrival:
    """One reply as the fake received it: `via` is "response_url", "chat.postEphemeral"
    or "chat.postMessage"; `key` the response URL key (response_url only)."""

    via: str
    at: float
    key: str | None
    channel: str | None
    user: str | None
    body: dict[str, Any]


@dataclass
class Interaction:
    """A request ready to inject: the form body and the response URL key its answers
    carry. `kind` is "command" or "button"."""

    kind: str
    key: str
    user: str
    channel: str
    body: str


@dataclass
class Injected:
    """One injected request: when it was due and sent, when its HTTP status came back,
    and the replies matched to it (see FakeSlack.inject)."""

    interaction: Interaction
    due: float
    sent: float = 0.0
    acked: float | None = None
    status: int | None = None
    error: str | None = None
    replies: list[Arrival] = field(default_factory=list)

    @property
    def ack_latency(self) -> float | None:
        return None if self.acked is None else self.acked - self.sent

    @property
    def reply_latency(self) -> float | None:
        """From sending to the first reply's arrival."""
        return self.replies[0].at - self.sent if self.replies else None


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    retry_attempt: int
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ack: dict[str, Any] | None = None


def sign(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds to an HTTP-mode request: v0 HMAC-SHA256 over ts and body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body if isinstance(body, bytes) else body.encode()
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def _decode_json_field(value: Any) -> Any:
    """slack_sdk sends blocks/metadata as JSON strings in form bodies, as objects in JSON."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


class FakeSlack:
    """The fake itself. State is public so tests can assert on what Slack received."""

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = team_id
        self.bot_tokens = {bot_token}
        self.app_token = app_token
        self.app_token_error: str | None = None  # set: apps.connections.open answers it
        self.clock = clock
        self.token_expiry: dict[str, float] = {}  # rotating access token -> expires at
        self.refresh_tokens: dict[str, str] = {}  # unused refresh token -> its team
        self.revoked_tokens: set[str] = set()
        self._response_error: tuple[int, str] | None = None
        self.refreshes = 0  # successful oauth.v2.access refreshes
        self._token_numbers = itertools.count(1)
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.refused_responses: list[dict[str, Any]] = []  # answers over the size limit
        self.users: dict[str, dict[str, Any]] = {}
        self.envelopes: dict[str, Envelope] = {}
        self.unexpected_acks: list[dict[str, Any]] = []
        self._failures: dict[str, list[Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._call_holds: list[SlackHold] = []
        self.deleted: list[dict[str, Any]] = []  # messages removed with chat.delete
        self.connects = 0  # Socket Mode connections opened so far
        self._ts = itertools.count(100)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.add_user(BOT_USER_ID, "qotd", is_bot=True)
        self.ims: dict[str, str] = {}  # user id -> their IM channel with the bot
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> what was asked and sent
        self.files: dict[str, bytes] = {}  # file id -> the uploaded bytes, once complete
        self._file_ids = itertools.count(1)
        # response_url key -> ts of the message its button is on; and every message an
        # answer to a response URL made (ts -> message), replaced in place when asked
        self._action_keys: dict[str, str] = {}
        self.response_messages: dict[str, dict[str, Any]] = {}
        self.replacements: list[dict[str, Any]] = []
        # load and limits (see the module docstring)
        self.monotonic: Callable[[], float] = time.perf_counter
        self.tiers: dict[str, Tier] = {}
        self.rate_limited: Counter[str] = Counter()
        self.arrivals: list[Arrival] = []
        self.post_requests: dict[str, Counter[str]] = {}
        self._injected: dict[str, Injected] = {}  # response URL key -> its request
        self._unanswered: dict[tuple[str, str], deque[Injected]] = {}  # (channel, user)

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link/{key}", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for hold in self._call_holds:
            hold.release()
        for gate in self._holds.values():
            gate.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be set to (slack_sdk wants the trailing slash)."""
        return f"{self.base_url}/api/"

    # -- test controls -------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "deleted": False,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_bot": is_bot,
            "profile": {"display_name": name, "real_name": name.title()},
        }

    def issue_rotating_token(self, *, expires_in: int = TOKEN_LIFETIME) -> tuple[str, str]:
        """A bot token with rotation enabled, as the OAuth install returns it:
        (access token, refresh token); the access token expires `expires_in` seconds
        from now on the fake's clock."""
        n = next(self._token_numbers)
        access, refresh = f"xoxe.xoxb-fake-{n}", f"xoxe-1-fake-refresh-{n}"
        self.bot_tokens.add(access)
        self.token_expiry[access] = self.clock() + expires_in
        self.refresh_tokens[refresh] = self.team_id
        return access, refresh

    def revoke_bot_token(self, token: str = BOT_TOKEN) -> None:
        """The app was uninstalled: calls with `token` get `token_revoked`."""
        self.revoked_tokens.add(token)

    def refuse_responses(self, status: int, error: str) -> None:
        """Response URLs answer `status` with `error` as text from now on (an expired
        or used-up response URL)."""
        self._response_error = (status, error)

    def clear_failures(self) -> None:
        """Forget every pending `fail()`: Slack is well again."""
        self._failures.clear()

    def revoke_app_token(self, error: str = "token_revoked") -> None:
        """From now on apps.connections.open answers `error` (a revoked app token)."""
        self.app_token_error = error

    async def drop_connections(self) -> None:
        """Close every Socket Mode websocket from Slack's side (as a deploy on Slack's
        end does); the client is expected to reconnect."""
        for ws in list(self._sockets):
            await ws.close()

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: int = 0,
        after_effect: bool = False,
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (429s carry Retry-After).

        `after_effect=True` carries the call out first and then answers with the error: the
        "response lost" case (Slack posted, the client never heard) that retries must not
        turn into a duplicate.
        """
        self._failures.setdefault(method, []).append(
            Failure(status, times, retry_after, after_effect)
        )

    def handle(self, user_id: str) -> str:
        """A known user's handle (`name`), as payloads carry it; else the id lowercased."""
        known = self.users.get(user_id)
        return str(known["name"]) if known else user_id.lower()

    def enforce_tier(self, method: str, per_minute: int | None = None, *,
                     window: float = 60.0) -> None:
        """Limit `method` to `per_minute` calls in any `window` seconds (default: its
        figure in TIERS); over it, 429 `ratelimited` with Retry-After."""
        limit = per_minute if per_minute is not None else TIERS[method]
        self.tiers[method] = Tier(limit, window)

    def command_request(self, command: str, text: str, *, user: str,
                        channel: str = "C0QOTD", user_name: str = "",
                        team: str | None = None) -> Interaction:
        """A slash command to `inject` (form-encoded, its own response URL)."""
        key = uuid.uuid4().hex
        payload = slash_command(command, text, user_id=user, response_url=self.response_url(key),
                                user_name=user_name or self.handle(user), channel_id=channel,
                                team_id=team or self.team_id)
        return Interaction("command", key, user, channel, form_body(payload))

    def press_request(self, *, user: str, channel: str, value: str, message_ts: str,
                      action_id: str = "qotd_button:0", ephemeral: bool = False,
                      team: str | None = None, user_name: str = "") -> Interaction:
        """A button press (block_actions) on the message `message_ts` to `inject`; its
        response URL can replace that message (replace_original)."""
        url = self.action_response_url(message_ts)
        payload = block_actions(user_id=user, channel=channel, action_id=action_id, value=value,
                                response_url=url, message_ts=message_ts,
                                team_id=team or self.team_id, ephemeral=ephemeral,
                                user_name=user_name or self.handle(user))
        return Interaction("button", url.rsplit("/", 1)[1], user, channel,
                           interactive_body(payload))

    async def inject(self, url: str, interactions: Sequence[Interaction], *, rate: float,
                     signing_secret: str = SIGNING_SECRET,
                     session: Any = None, request_timeout: float = 30.0) -> list[Injected]:
        """POST `interactions`, signed, to `url` at `rate` per second; returns when every
        HTTP answer is in (replies may still be coming: `wait_replies`)."""
        import aiohttp  # the fake serves with aiohttp; the injector is its client side

        own = session is None
        http = session or aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=False),
            timeout=aiohttp.ClientTimeout(total=request_timeout))
        start = self.monotonic()
        injected = [Injected(i, start + n / rate) for n, i in enumerate(interactions)]
        for item in injected:
            self._injected[item.interaction.key] = item
            where = (item.interaction.channel, item.interaction.user)
            self._unanswered.setdefault(where, deque()).append(item)

        async def one(item: Injected) -> None:
            delay = item.due - self.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = item.interaction.body.encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       **sign(signing_secret, body)}
            item.sent = self.monotonic()
            try:
                async with http.post(url, data=body, headers=headers) as resp:
                    item.status = resp.status
                    item.acked = self.monotonic()
                    await resp.read()
            except Exception as exc:  # recorded, not raised: a benchmark counts them
                item.error = type(exc).__name__

        try:
            await asyncio.gather(*(one(item) for item in injected))
        finally:
            if own:
                await http.close()
        return injected

    async def wait_replies(self, injected: Sequence[Injected], *, within: float = 10.0,
                           count: int = 1) -> int:
        """Wait until every request has `count` replies or `within` s pass; returns how
        many are still short."""
        pending = deque(i for i in injected if len(i.replies) < count)

        def done() -> bool:  # amortised O(1) per request: replies come roughly in order
            while pending and len(pending[0].replies) >= count:
                pending.popleft()
            if pending and len(pending[-1].replies) >= count:
                pending.rotate(1)  # look at the newest too, so the front moves on
            return not pending

        with contextlib.suppress(TimeoutError):
            await self.wait_for(done, within)
        return sum(1 for i in injected if len(i.replies) < count)

    def requests_per_post(self) -> dict[str, int]:
        """Top-level posts' ts -> how many Web API calls were made for them."""
        top = {m["ts"] for channel in self.messages for m in self.channel_posts(channel)}
        return {ts: sum(c.values()) for ts, c in self.post_requests.items() if ts in top}

    def _count_for_post(self, method: str, params: Mapping[str, Any],
                        body: Mapping[str, Any] | None) -> None:
        ts = params.get("timestamp") if method == "reactions.add" else params.get("ts")
        if method == "chat.postMessage":
            ts = (body or {}).get("ts")
        if method in ("chat.postMessage", "reactions.add", "chat.update", "chat.delete") and ts:
            self.post_requests.setdefault(str(ts), Counter())[method] += 1

    def _arrived(self, via: str, body: dict[str, Any], *, key: str | None = None) -> None:
        channel = body.get("channel")
        user = body.get("user")
        arrival = Arrival(via, self.monotonic(), key,
                          str(channel) if channel else None, str(user) if user else None, body)
        self.arrivals.append(arrival)
        item = self._injected.get(key) if key else None
        if item is None and via != "response_url" and channel and user:
            waiting = self._unanswered.get((str(channel), str(user)))
            while waiting and waiting[0].replies:
                waiting.popleft()
            item = waiting[0] if waiting else None
        if item is not None:
            item.replies.append(arrival)

    def hold(self, method: str) -> asyncio.Event:
        """Keep every call of `method` waiting until the returned event is set (a slow
        Slack, without a clock: the test decides when it answers)."""
        gate = self._holds[method] = asyncio.Event()
        return gate

    def hold_call(
        self,
        method: str,
        *,
        stage: str = "before",
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> SlackHold:
        """Hold the next `times` calls of `method` (whose params satisfy `match`, if
        given) until `release()`. `stage`: "before" (not carried out yet; dropped if the
        client is gone by then) or "after" (carried out, the answer withheld)."""
        if stage not in ("before", "after"):
            raise ValueError(f"stage must be 'before' or 'after', not {stage!r}")
        hold = SlackHold(method, stage, times, match)
        self._call_holds.append(hold)
        return hold

    def _take_call_hold(self, method: str, params: dict[str, Any]) -> SlackHold | None:
        for hold in self._call_holds:
            if hold.remaining > 0 and hold.method == method and (
                hold.match is None or hold.match(params)
            ):
                hold.remaining -= 1
                return hold
        return None

    async def _wait_call_hold(self, hold: SlackHold, params: dict[str, Any]) -> None:
        hold.held.append(params)
        hold.reached.set()
        await self._notify()
        await hold.gate.wait()

    def response_url(self, key: str | None = None) -> str:
        return f"{self.base_url}/response/{key or uuid.uuid4().hex}"

    def action_response_url(self, message_ts: str) -> str:
        """The response URL of a button press on the message `message_ts` (what
        replace_original replaces)."""
        key = uuid.uuid4().hex
        self._action_keys[key] = message_ts
        return self.response_url(key)

    def answers_to(self, key: str) -> list[dict[str, Any]]:
        """The messages answers to the response URL `key` made (as they are now)."""
        return [m for m in self.response_messages.values() if m["key"] == key]

    def im_of(self, user_id: str) -> str | None:
        return self.ims.get(user_id)

    def shared_files(self, channel: str) -> list[tuple[dict[str, Any], bytes]]:
        """Every file shared into a channel, with its bytes, oldest first."""
        return [(f, self.files[f["id"]]) for m in self.messages.get(channel, [])
                for f in m.get("files") or []]

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def channel_posts(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages in a channel, oldest first."""
        return [m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [
            m for m in self.messages.get(channel, []) if m.get("thread_ts") == ts and m["ts"] != ts
        ]

    def find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every request), or fail."""

        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(_wait(), within)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(await request.post())
        params = {k: _decode_json_field(v) for k, v in params.items()}
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        token = token or params.pop("token", None)
        if auth.startswith("Basic "):  # oauth.v2.access: client id and secret
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", secret)

        call_hold = self._take_call_hold(method, params)
        if call_hold is not None and call_hold.stage == "before":
            await self._wait_call_hold(call_hold, params)
            if request.transport is None or request.transport.is_closing():
                self.calls.append(Call(method, params, token, 499))  # never carried out
                await self._notify()
                return web.Response(status=499)
        gate = self._holds.get(method)
        if gate is not None:
            self.calls.append(Call(method, params, token, 0))  # status 0: still waiting
            await self._notify()
            await gate.wait()
            self.calls.pop(
                next(i for i, c in enumerate(self.calls) if c.status == 0 and c.method == method)
            )
        failures = self._failures.get(method) or []
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            if failure.after_effect:
                self._dispatch(method, params, token)
            self.calls.append(Call(method, params, token, failure.status))
            await self._notify()
            if failure.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(failure.retry_after)},
                )
            return web.json_response({"ok": False, "error": "fatal_error"}, status=failure.status)
        tier = self.tiers.get(method)
        wait = tier.retry_after(self.monotonic()) if tier is not None else None
        if wait is not None:
            self.calls.append(Call(method, params, token, 429))
            self.rate_limited[method] += 1
            await self._notify()
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

        self.calls.append(Call(method, params, token, 200))
        body: dict[str, Any] = {}
        try:
            body = self._dispatch(method, params, token)
        finally:
            if body.get("ok"):
                self._count_for_post(method, params, body)
                if method in REPLY_METHODS:
                    self._arrived(method, params)
            await self._notify()
        if call_hold is not None and call_hold.stage == "after":
            await self._wait_call_hold(call_hold, params)  # carried out, answer withheld
        return web.json_response(body)

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._oauth_access(params)
        if method == "apps.connections.open":
            if token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}
            if self.app_token_error is not None:
                return {"ok": False, "error": self.app_token_error}
            return {
                "ok": True,
                "url": f"ws://{self.base_url.removeprefix('http://')}/link/{uuid.uuid4().hex}",
            }
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token in self.revoked_tokens:
            return {"ok": False, "error": "token_revoked"}
        if token not in self.bot_tokens:
            return {"ok": False, "error": "invalid_auth"}
        expires = self.token_expiry.get(token)
        if expires is not None and self.clock() >= expires:
            return {"ok": False, "error": "token_expired"}
        handler = _HANDLERS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(self, params)

    def _oauth_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access with grant_type=refresh_token (the only grant the bot uses by
        itself); the answer's shape is the reference's for a rotated bot token."""
        if (params.get("client_id"), params.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return {"ok": False, "error": "invalid_client_id"}
        if params.get("grant_type") != "refresh_token":
            return {"ok": False, "error": "invalid_grant_type"}
        team = self.refresh_tokens.pop(str(params.get("refresh_token", "")), None)
        if team is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        access, refresh = self.issue_rotating_token()
        self.refreshes += 1
        return {
            "ok": True,
            "app_id": APP_ID,
            "access_token": access,
            "expires_in": TOKEN_LIFETIME,
            "refresh_token": refresh,
            "token_type": "bot",
            "scope": "chat:write,commands,reactions:read,reactions:write,users:read",
            "bot_user_id": BOT_USER_ID,
            "team": {"id": team, "name": "Fake Team"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _next_ts(self) -> str:
        return f"1790000000.{next(self._ts):06d}"

    def _bot_message(self, params: Mapping[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": params.get("text", ""),
            "ts": ts,
        }
        if params.get("blocks"):
            message["blocks"] = params["blocks"]
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        return message

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if isinstance(params.get("blocks"), list) and len(params["blocks"]) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        if _too_long(params):
            return {"ok": False, "error": "msg_blocks_too_long"}
        thread_ts = params.get("thread_ts")
        if thread_ts and self.find_message(channel, str(thread_ts)) is None:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        message = self._bot_message(params, ts)
        self.messages.setdefault(channel, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": ts, "message": shown}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if params.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if _too_long(params):
            return {"ok": False, "error": "msg_blocks_too_long"}
        ts = self._next_ts()
        self.ephemerals.append({**params, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), str(params.get("ts", ""))
        message = self.find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if _too_long(params):
            return {"ok": False, "error": "msg_blocks_too_long"}
        for key in ("text", "blocks", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("name")
        if not name:
            return {"ok": False, "error": "invalid_name"}
        message = self.find_message(params.get("channel", ""), str(params.get("timestamp", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if BOT_USER_ID in entry["users"]:
            return {"ok": False, "error": "already_reacted"}
        entry["users"].append(BOT_USER_ID)
        entry["count"] += 1
        return {"ok": True}

    def _delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.delete: `{"ok": true, "channel", "ts"}`; a thread parent's replies stay."""
        channel, ts = params.get("channel", ""), str(params.get("ts", ""))
        message = self.find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("user") != BOT_USER_ID:
            return {"ok": False, "error": "cant_delete_message"}
        self.messages[channel].remove(message)
        self.deleted.append(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _shown(self, message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        return {k: v for k, v in message.items() if with_metadata or k != "metadata"}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        limit = int(params.get("limit") or 100)
        oldest = float(params.get("oldest") or 0)
        with_metadata = _truthy(params.get("include_all_metadata", False))
        posts = [m for m in self.channel_posts(channel) if float(m["ts"]) > oldest]
        newest_first = list(reversed(posts))
        page = [self._shown(m, with_metadata) for m in newest_first[:limit]]
        return {
            "ok": True,
            "messages": page,
            "has_more": len(newest_first) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), str(params.get("ts", ""))
        parent = self.find_message(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = _truthy(params.get("include_all_metadata", False))
        messages = [parent, *self.thread(channel, ts)]
        return {
            "ok": True,
            "messages": [self._shown(m, with_metadata) for m in messages],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(params.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake Team",
            "user": "qotd",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    # -- response_url --------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self._response_error is not None:
            status, error = self._response_error
            self.refused_responses.append({"key": request.match_info["key"], **body})
            await self._notify()
            return web.Response(status=status, text=error)
        if _too_long(body):
            self.refused_responses.append({"key": request.match_info["key"], **body})
            await self._notify()
            return web.Response(status=400, text="msg_blocks_too_long")
        key = request.match_info["key"]
        target = self._action_keys.get(key)
        if _truthy(body.get("replace_original", False)):
            original = self.response_messages.get(target or "")
            if original is None:
                await self._notify()
                return web.Response(status=404, text="no_original_message")
            for name in ("text", "blocks"):
                original[name] = body.get(name)
            self.replacements.append({"key": key, "message_ts": target, **body})
            self.responses.append({"key": key, **body})
            self._arrived("response_url", body, key=key)
            await self._notify()
            return web.Response(text="ok")
        ts = self._next_ts()
        self.response_messages[ts] = {"ts": ts, "key": key, "text": body.get("text"),
                                      "blocks": body.get("blocks"),
                                      "response_type": body.get("response_type", "ephemeral")}
        self.responses.append({"key": key, **body})
        self._arrived("response_url", body, key=key)
        await self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL: the file's bytes as the request body, answered `OK - <length>`
        (https://docs.slack.dev/messaging/working-with-files#upload)."""
        upload = self.uploads.get(request.match_info["file_id"])
        data = await request.read()
        if upload is None or upload.get("data") is not None:
            return web.Response(status=404, text="unknown or used upload URL")
        upload["data"] = data
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.open users=U…: the IM channel, the same for the same user."""
        users = str(params.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied" if not users
                    else "not_implemented_in_fake"}
        if users not in self.users:
            return {"ok": False, "error": "user_not_found"}
        known = users in self.ims
        channel = self.ims.setdefault(users, f"D{len(self.ims) + 1:08d}")
        return {"ok": True, "no_op": known, "already_open": known, "channel": {"id": channel}}

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), params.get("length")
        if not filename or not str(length or "").isdigit() or int(str(length)) <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):09d}"
        self.uploads[file_id] = {"filename": str(filename), "length": int(str(length)),
                                 "alt_txt": params.get("alt_txt"), "data": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}",
                "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        shared: list[dict[str, Any]] = []
        for entry in files:
            upload = self.uploads.get(str(entry.get("id")))
            if upload is None or upload.get("data") is None or entry.get("id") in self.files:
                return {"ok": False, "error": "file_not_found"}
            if len(upload["data"]) != upload["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            file_id = str(entry["id"])
            self.files[file_id] = upload["data"]
            shared.append({"id": file_id, "name": upload["filename"],
                           "title": entry.get("title") or upload["filename"],
                           "alt_txt": upload.get("alt_txt"), "size": upload["length"],
                           "mimetype": "image/png" if upload["data"][:8] == b"\x89PNG\r\n\x1a\n"
                           else "application/octet-stream"})
        channel = params.get("channel_id")
        if channel:
            ts = self._next_ts()
            message = self._bot_message({"text": params.get("initial_comment") or ""}, ts)
            message["files"] = shared
            if params.get("thread_ts"):
                message["thread_ts"] = str(params["thread_ts"])
            self.messages.setdefault(str(channel), []).append(message)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    # -- Socket Mode ---------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connects += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._connected.set()
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_ack(json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._connected.clear()
            await self._notify()
        return ws

    @property
    def connections(self) -> int:
        """Open Socket Mode websockets."""
        return len(self._sockets)

    async def _on_ack(self, data: dict[str, Any]) -> None:
        envelope = self.envelopes.get(str(data.get("envelope_id", "")))
        if envelope is None or envelope.acked.is_set():
            self.unexpected_acks.append(data)
        else:
            envelope.ack = data
            envelope.acked.set()
        await self._notify()

    async def wait_connected(self, within: float = 5.0) -> None:
        await asyncio.wait_for(self._connected.wait(), within)

    async def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        envelope_id: str | None = None,
    ) -> Envelope:
        """Deliver one envelope over the websocket (type: events_api, slash_commands,
        interactive). A retry of an event is a new envelope carrying the same payload."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode client is connected")
        envelope = Envelope(envelope_id or uuid.uuid4().hex, type_, payload, retry_attempt)
        self.envelopes[envelope.envelope_id] = envelope
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope.envelope_id,
                "type": type_,
                "payload": payload,
                "accepts_response_payload": type_ != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        return envelope

    async def wait_ack(self, envelope: Envelope, within: float = 5.0) -> dict[str, Any]:
        await asyncio.wait_for(envelope.acked.wait(), within)
        assert envelope.ack is not None
        return envelope.ack

    def unacked(self) -> list[str]:
        return [e.envelope_id for e in self.envelopes.values() if not e.acked.is_set()]


_HANDLERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "reactions.add": FakeSlack._reactions_add,
    "conversations.history": FakeSlack._history,
    "conversations.replies": FakeSlack._replies,
    "users.info": FakeSlack._users_info,
    "conversations.open": FakeSlack._conversations_open,
    "files.getUploadURLExternal": FakeSlack._get_upload_url,
    "files.completeUploadExternal": FakeSlack._complete_upload,
}


# -- payload builders (shapes from Slack's reference) ----------------------------------------


def slash_command(
    command: str,
    text: str,
    *,
    user_id: str,
    response_url: str,
    user_name: str = "",
    channel_id: str = "C0QOTD",
    team_id: str = TEAM_ID,
) -> dict[str, str]:
    """The fields of a slash-command request (form-encoded in HTTP mode)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
    }


def event_callback(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> dict[str, Any]:
    """An Events API `event_callback` wrapper around one event."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}
        ],
        "is_ext_shared_channel": False,
    }


def reaction_event(
    *, user: str, channel: str, ts: str, name: str, added: bool = True
) -> dict[str, Any]:
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": name,
        "item_user": BOT_USER_ID,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }


def block_actions(
    *,
    user_id: str,
    channel: str,
    action_id: str,
    value: str,
    response_url: str,
    message_ts: str,
    team_id: str = TEAM_ID,
    ephemeral: bool = True,
    user_name: str = "",
) -> dict[str, Any]:
    """A `block_actions` interaction payload for one button press (`user.name` and
    `user.username` are the person's handle, as in Slack's reference example)."""
    return {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_name or user_id.lower(),
            "name": user_name or user_id.lower(),
            "team_id": team_id,
        },
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "qotd_actions",
                "text": {"type": "plain_text", "text": value, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def form_body(fields: Mapping[str, str]) -> str:
    return urlencode(fields)


def interactive_body(payload: Mapping[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})
