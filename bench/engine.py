"""Figures for the posting engine (issue 10): fan-out under the platforms' rate limits,
and start-up with 10,000 scheduled channels.

    .venv/bin/python bench/engine.py [--quick] [--sizes 50,200,1000] [--platforms discord,slack]
        [--answers buttons,reactions]

1. Fan-out: N channels all due at the same slot, the real engine (build_core, the
   APScheduler wake timer, an OffsetClock a second before the slot, SQLite in a temp
   dir) and the real adapters (the discord.py client through adapters.discord.client.start,
   the Slack Outbound through adapters.slack.runtime.start_slack) against the project's
   fakes, wrapped here to ENFORCE the limits: Discord 50 requests/s global (sliding 1 s
   window), 5 messages per 5 s per channel, 1 reaction per 0.25 s per channel (429 with
   `retry_after`, `Retry-After`, `X-RateLimit-*` and `Via`); Slack 1 chat.postMessage per
   second per channel (429 + Retry-After). Prints finish / floor, where the floor is the
   least time the enforced limits allow for the requests the adapter made (counted on the
   fake), and lost / doubled posts. A console-outbound run of the same N (no network, no
   limits) is the engine's own floor, printed next to it.
2. Start-up: 10,000 scheduled channels (plain SQL inserts, next slots in the future); a
   fresh subprocess times core.start() (bank sync reported separately), one empty
   run_due pass and next_due, and its RSS, against raw sqlite3 queries on the same file.

Issue 16: the fan-out runs in each answer mode (`--answers buttons,reactions`; reactions
mode at the smallest size only, as Slack's reactions.add is paced at about 50 a minute a
workspace). Each row prints the requests per post split into the create, the bot's seeded
reactions and anything else (the goal: 1 in buttons mode; in reactions mode the seeds
follow the mark-sent, and the run waits until no request came for QUIET_S).

BENCH_TIMELINE=1 prints, per second after
the slot, the requests answered 2xx / 429. About 4 minutes in all; `--quick` about 1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import math
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QOTD_CONFIG", str(ROOT / "bench" / "absent-qotd.toml"))

from aiohttp import web  # noqa: E402

from tests.discord.fake_discord import API_PREFIX, FakeDiscord  # noqa: E402
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, TEAM_ID, FakeSlack  # noqa: E402

SLOT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday; every channel posts daily 09:00 UTC
LEAD = 1.0  # the clock starts this many seconds before the slot
GLOBAL_LIMIT, GLOBAL_WINDOW = 50, 1.0
MESSAGE_LIMIT, MESSAGE_WINDOW = 5, 5.0
REACTION_LIMIT, REACTION_WINDOW = 1, 0.25
SLACK_POST_WINDOW = 1.0
GOAL_RATIO = 1.10
QUIET_S = 2.0  # reactions mode: the run ends once no request came for this long
MODE = {"answers": "buttons"}  # the channels' answer mode for the run (issue 16)
START_GOAL_S = 3.0
RSS_GOAL_MB = 120.0

log = logging.getLogger("bench.engine")
LAST: dict[str, Any] = {}  # the last fakes, for a debugger


# -- the fakes, with the limits enforced -------------------------------------------------


@dataclass
class Window:
    """A fixed window as Discord describes its route buckets (limit, reset after)."""

    start: float = 0.0
    used: int = 0


class LimitedDiscord(FakeDiscord):
    """FakeDiscord answering 429 the way Discord does once a limit is reached."""

    ROUTES = (  # (method, path regex, bucket name, limit, window), major parameter = group 1
        ("POST", re.compile(r"/channels/(\d+)/messages"), "create", MESSAGE_LIMIT,
         MESSAGE_WINDOW),
        ("PUT", re.compile(r"/channels/(\d+)/messages/\d+/reactions/[^/]+/@me"), "react",
         REACTION_LIMIT, REACTION_WINDOW),
    )

    def __init__(self) -> None:
        super().__init__()
        self.global_times: collections.deque[float] = collections.deque()
        self.windows: dict[tuple[str, str], Window] = {}
        self.limited: collections.Counter[str] = collections.Counter()  # scope -> 429s
        self.limited_at: list[float] = []
        self.done: list[tuple[float, str, str, int]] = []  # (time, method, path, status)
        self.creates: dict[str, set[str]] = collections.defaultdict(set)  # channel -> ids
        self.on_request: Callable[[], None] = lambda: None

    def _rate_limit_headers(self, response: web.StreamResponse, path: str) -> None:
        """The base fake's fixed headers are replaced by the real ones in _middleware."""

    def _route(self, method: str, path: str) -> tuple[str, str, int, float] | None:
        for route_method, rx, name, limit, window in self.ROUTES:
            match = rx.fullmatch(path) if route_method == method else None
            if match:
                return name, match.group(1), limit, window
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            passthrough: web.StreamResponse = await handler(request)
            return passthrough
        path = urllib.parse.unquote(request.path[len(API_PREFIX):])
        now = time.monotonic()
        route = self._route(request.method, path)
        window: Window | None = None
        if route is not None:
            name, major, limit, period = route
            window = self.windows.setdefault((name, major), Window())
            if now >= window.start + period:
                window.start, window.used = now, 0
            if window.used >= limit:
                self.done.append((now, request.method, path, 429))
                return self._limited("user", window.start + period - now, name, limit, period)
        while self.global_times and self.global_times[0] <= now - GLOBAL_WINDOW:
            self.global_times.popleft()
        if len(self.global_times) >= GLOBAL_LIMIT:
            self.done.append((now, request.method, path, 429))
            return self._limited("global", self.global_times[0] + GLOBAL_WINDOW - now)
        self.global_times.append(now)
        if route is not None and window is not None:
            window.used += 1
        response = await FakeDiscord._middleware(self, request, handler)
        if route is not None and window is not None:
            name, _, limit, period = route
            self._bucket_headers(response, name, limit - window.used,
                                 window.start + period - time.monotonic(), limit)
        done_at = time.monotonic()
        self.done.append((done_at, request.method, path, response.status))
        if route is not None and route[0] == "create" and 200 <= response.status < 300:
            created = getattr(response, "text", None)
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self.creates[route[1]].add(str(json.loads(created or "")["id"]))
        self.on_request()
        return response

    @staticmethod
    def _bucket_headers(response: web.StreamResponse, name: str, remaining: int,
                        reset_after: float, limit: int) -> None:
        reset_after = max(reset_after, 0.001)
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(max(remaining, 0))
        response.headers["X-RateLimit-Reset"] = f"{time.time() + reset_after:.3f}"
        response.headers["X-RateLimit-Reset-After"] = f"{reset_after:.3f}"
        response.headers["X-RateLimit-Bucket"] = f"bench-{name}"

    def _limited(self, scope: str, retry_after: float, name: str = "", limit: int = 0,
                 period: float = 0.0) -> web.Response:
        retry_after = max(retry_after, 0.001)
        self.limited[scope] += 1
        self.limited_at.append(time.monotonic())
        response = web.Response(
            text=json.dumps({"message": "You are being rate limited.",
                             "retry_after": round(retry_after, 3), "global": scope == "global"}),
            status=429,
        )
        response.headers["Content-Type"] = "application/json"
        response.headers["Via"] = "1.1 google"
        response.headers["Retry-After"] = str(math.ceil(retry_after))
        response.headers["X-RateLimit-Scope"] = scope
        if scope == "global":
            response.headers["X-RateLimit-Global"] = "true"
        else:
            self._bucket_headers(response, name, 0, retry_after, limit)
        return response


class _BodyRead:
    """The request after the limiter read its body: aiohttp keeps the parsed body, but
    `can_read_body` turns False, which the base fake checks before parsing."""

    can_read_body = True

    def __init__(self, request: web.Request) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class LimitedSlack(FakeSlack):
    """FakeSlack with chat.postMessage limited to one per second per channel."""

    def __init__(self) -> None:
        super().__init__()
        self.last_post: dict[str, float] = {}
        self.limited: collections.Counter[str] = collections.Counter()
        self.done: list[tuple[float, str, str, int]] = []  # (time, method, channel, status)
        self.on_request: Callable[[], None] = lambda: None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method == "chat.postMessage":
            params: dict[str, Any] = dict(request.query)
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            else:
                params.update(await request.post())
            channel = str(params.get("channel", ""))
            now = time.monotonic()
            last = self.last_post.get(channel)
            if last is not None and now < last + SLACK_POST_WINDOW:
                self.limited["channel"] += 1
                wait = last + SLACK_POST_WINDOW - now
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(math.ceil(wait))})
            self.last_post[channel] = now
        response = await super()._api(_BodyRead(request))  # type: ignore[arg-type]
        self.done.append((time.monotonic(), method, "", response.status))
        self.on_request()
        return response


# -- the database --------------------------------------------------------------------------


def channel_rows(refs: list[tuple[str, str, str]], slot: datetime,
                 spread: timedelta | None = None) -> list[dict[str, Any]]:
    """Rows for `channels`: scheduled daily at the slot's time (UTC), next slot = slot
    (or spread over `spread` after it)."""
    rows = []
    count = max(1, len(refs))
    for i, (platform, workspace, channel) in enumerate(refs):
        when = slot + (spread * i / count if spread else timedelta(0))
        rows.append({
            "platform": platform, "workspace_id": workspace, "channel_id": channel,
            "scheduled": True, "paused": False, "post_time": f"{when:%H:%M}",
            "timezone": "UTC", "days": "mon,tue,wed,thu,fri,sat,sun", "reveal_hours": None,
            "active_since": slot - timedelta(days=1),
            "next_slot_at": when.replace(second=0, microsecond=0),
            "admin_user_id": None, "cycle": 1, "draws": 0, "include_topics": [],
            "exclude_topics": [], "difficulty_weights": None,
            "created_at": slot - timedelta(days=1),
            **({"answer_mode": MODE["answers"]} if _has_answer_mode() else {}),
        })
    return rows


def _has_answer_mode() -> bool:
    from storage.models import ChannelRow

    return "answer_mode" in ChannelRow.__table__.columns


def insert_channels(db_file: Path, rows: list[dict[str, Any]]) -> None:
    """Plain INSERTs through SQLAlchemy Core on the sync sqlite3 driver (the column types
    store datetimes the way the app reads them)."""
    from sqlalchemy import create_engine, insert

    from storage.models import ChannelRow

    engine = create_engine(f"sqlite:///{db_file}")
    with engine.begin() as conn:
        conn.execute(insert(ChannelRow.__table__), rows)
    engine.dispose()


def post_counts(db_file: Path) -> collections.Counter[str]:
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        return collections.Counter(
            dict(conn.execute("SELECT status, count(*) FROM posts GROUP BY status").fetchall())
        )


# -- fan-out -------------------------------------------------------------------------------


@dataclass
class FanOut:
    platform: str
    n: int
    mode: str = ""  # the channels' answer mode
    finish: float = 0.0  # slot -> last post-related request answered
    all_created: float = 0.0  # slot -> every channel's message created
    requests: int = 0  # 2xx requests the posts made
    per_post: float = 0.0
    # requests per post by what they were for: the create, the bot's seeded reactions
    # (reactions mode), anything else (a converge's history read or delete)
    creates_per_post: float = 0.0
    seeded_per_post: float = 0.0
    other_per_post: float = 0.0
    floor: float = 0.0
    floor_note: str = ""
    limited: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    doubled: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    timed_out: bool = False
    timeline: str = ""
    deleted: int = 0  # duplicates the adapter deleted again (converge)
    created_twice: int = 0  # channels where a second message was created at some point


async def _settle(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    if check():
        return True
    _where_tasks_wait()
    return False


def _where_tasks_wait() -> None:
    """On a time-out: the innermost frames the live tasks wait in, most common first."""
    waits: collections.Counter[str] = collections.Counter()
    for task in asyncio.all_tasks():
        frames = task.get_stack()
        if frames:
            f = frames[-1]
            waits[f"{Path(f.f_code.co_filename).name}:{f.f_lineno} {f.f_code.co_name}"] += 1
    print("          TIMED OUT; tasks wait in: "
          + "; ".join(f"{where} x{n}" for where, n in waits.most_common(6)))


async def _run_engine(tmp: Path, refs: list[tuple[str, str, str]], concurrency: int,
                      register: Callable[[Any], Awaitable[Callable[[], Awaitable[None]]]],
                      done: Callable[[], bool], within: float
                      ) -> tuple[float, Path, bool]:
    """Migrate, insert the channels, start the adapter (register), then the core with its
    timer on an OffsetClock LEAD seconds before the slot. Returns the slot's wall time."""
    from bot.app import build_core
    from bot.clock import OffsetClock
    from bot.settings import CoreSettings
    from storage.migrate import upgrade

    db_file = tmp / "bench.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    await upgrade(url)
    insert_channels(db_file, channel_rows(refs, SLOT))
    clock = OffsetClock(timedelta(0))
    core = await build_core(
        CoreSettings(database_url=url, send_concurrency=concurrency), clock=clock,
        use_scheduler=True,
    )
    await core.sync_bank()  # as a process that has run before: the bank is in the database
    stop_adapter = await register(core)
    clock.offset = SLOT - timedelta(seconds=LEAD) - datetime.now(UTC)
    slot_wall = time.time() + LEAD
    try:
        await core.start()
        ok = await _settle(done, within)
        if ok:
            await asyncio.sleep(0.5)  # a late duplicate would show up here
    finally:
        await stop_adapter()
        await core.stop()
    return slot_wall, db_file, not ok


def _quiet(last_request: float) -> bool:
    """Buttons mode: done once posted. Reactions mode: the seeded reactions follow the
    mark-sent, paced, so the run also waits until no request came for QUIET_S."""
    return MODE["answers"] != "reactions" or time.monotonic() - last_request >= QUIET_S


def _mono_to_wall() -> float:
    return time.time() - time.monotonic()


async def fanout_discord(n: int, concurrency: int, within: float) -> FanOut:
    import discord

    from adapters.discord.client import start
    from adapters.discord.settings import DiscordSettings

    result = FanOut("discord", n, MODE["answers"])
    fake = LimitedDiscord()
    LAST["discord"] = fake
    channels = [fake.new_id() for _ in range(n)]
    for i, cid in enumerate(channels):
        fake.add_text_channel(cid, f"bench-{i}")
    await fake.start()
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    created_ids = {str(c) for c in channels}
    mark = {"start": 0}
    try:
        with tempfile.TemporaryDirectory(prefix="qotd-bench-") as tmp_dir:
            tmp = Path(tmp_dir)

            async def register(core: Any) -> Callable[[], Awaitable[None]]:
                running = await start(core, DiscordSettings(
                    token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url,
                    guild_ready_timeout=0.05,
                    ready_timeout=20, retry_backoff=1.0,
                ))
                await fake.wait_identified()
                mark["start"] = len(fake.done)
                fake.limited.clear()
                return running.stop

            db_holder: dict[str, Path] = {}

            last = {"at": time.monotonic()}
            fake.on_request = lambda: last.__setitem__("at", time.monotonic())

            def done() -> bool:
                if sum(1 for c in created_ids if fake.creates.get(c)) < n:
                    return False
                counts = post_counts(db_holder["db"]) if "db" in db_holder else {}
                return counts.get("sent", 0) >= n and _quiet(last["at"])

            db_holder["db"] = tmp / "bench.db"
            slot_wall, db_file, timed_out = await _run_engine(
                tmp, [("discord", str(fake.guild_id), str(c)) for c in channels], concurrency,
                register, done, within)
            offset = _mono_to_wall()
            rows = fake.done[mark["start"]:]
            post_rows = [r for r in rows if r[2].startswith("/channels/")]
            ok_rows = [r for r in post_rows if 200 <= r[3] < 300]
            result.timed_out = timed_out
            result.finish = max((r[0] for r in ok_rows), default=0.0) + offset - slot_wall
            creates = [r for r in ok_rows if r[1] == "POST" and r[2].endswith("/messages")]
            result.all_created = max((r[0] for r in creates), default=0.0) + offset - slot_wall
            result.requests = len(ok_rows)
            result.per_post = len(ok_rows) / n
            result.creates_per_post = len(creates) / n
            result.seeded_per_post = sum(1 for r in ok_rows if "/reactions/" in r[2]) / n
            result.other_per_post = result.per_post - result.creates_per_post \
                - result.seeded_per_post
            result.kinds = dict(collections.Counter(
                f"{r[1]} {re.sub(r'/[0-9]{6,}', '/{id}', r[2]).split('/reactions/')[0]}"
                + (" reaction" if "/reactions/" in r[2] else "") for r in ok_rows))
            result.limited = dict(fake.limited)
            result.timeline = _timeline(ok_rows, fake.limited_at, offset - slot_wall)
            visible = collections.Counter(m["channel_id"] for m in fake.messages.values()
                                          if m.get("type") == 0)
            result.lost = sum(1 for c in created_ids if visible[c] == 0)
            result.doubled = sum(1 for c in created_ids if visible[c] > 1)
            result.deleted = len(getattr(fake, "deleted", ()))
            result.created_twice = sum(1 for c in created_ids if len(fake.creates.get(c, ())) > 1)
            result.statuses = dict(post_counts(db_file))
            # floor: the global window, or the slowest channel's own buckets
            by_channel: collections.Counter[tuple[str, str]] = collections.Counter()
            for r in ok_rows:
                name = "react" if "/reactions/" in r[2] else "create" if r[1] == "POST" else ""
                if name:
                    by_channel[(name, r[2].split("/")[2])] += 1
            global_floor = (math.ceil(result.requests / GLOBAL_LIMIT) - 1) * GLOBAL_WINDOW
            chain = 0.0
            for cid in created_ids:
                c = by_channel[("create", cid)]
                k = by_channel[("react", cid)]
                chain = max(chain, (math.ceil(c / MESSAGE_LIMIT) - 1) * MESSAGE_WINDOW
                            + max(k - 1, 0) * REACTION_WINDOW / REACTION_LIMIT)
            result.floor = max(global_floor, chain)
            result.floor_note = (f"global {GLOBAL_LIMIT}/s: {global_floor:.2f} s; slowest "
                                 f"channel's buckets: {chain:.2f} s")
    finally:
        await fake.stop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
    return result


async def fanout_slack(n: int, concurrency: int, within: float) -> FanOut:
    from adapters.slack.runtime import start_slack
    from adapters.slack.settings import SlackSettings

    result = FanOut("slack", n, MODE["answers"])
    fake = LimitedSlack()
    await fake.start()
    channels = [f"CB{i:07d}" for i in range(n)]
    mark = {"start": 0}
    try:
        with tempfile.TemporaryDirectory(prefix="qotd-bench-") as tmp_dir:
            tmp = Path(tmp_dir)

            async def register(core: Any) -> Callable[[], Awaitable[None]]:
                running = await start_slack(core, SlackSettings(
                    bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url,
                ))
                mark["start"] = len(fake.done)
                fake.limited.clear()
                return running.stop

            db_file = tmp / "bench.db"

            last = {"at": time.monotonic()}
            fake.on_request = lambda: last.__setitem__("at", time.monotonic())

            def done() -> bool:
                if sum(1 for c in channels if fake.messages.get(c)) < n:
                    return False
                return post_counts(db_file).get("sent", 0) >= n and _quiet(last["at"])

            slot_wall, db_file, timed_out = await _run_engine(
                tmp, [("slack", TEAM_ID, c) for c in channels], concurrency, register, done,
                within)
            offset = _mono_to_wall()
            rows = [r for r in fake.done[mark["start"]:]
                    if r[1] in ("chat.postMessage", "reactions.add", "conversations.history",
                                "chat.delete")]
            ok_rows = [r for r in rows if r[3] == 200]
            result.timed_out = timed_out
            result.finish = max((r[0] for r in ok_rows), default=0.0) + offset - slot_wall
            posts = [r for r in ok_rows if r[1] == "chat.postMessage"]
            result.all_created = max((r[0] for r in posts), default=0.0) + offset - slot_wall
            result.requests = len(ok_rows)
            result.per_post = len(ok_rows) / n
            result.creates_per_post = len(posts) / n
            result.seeded_per_post = sum(1 for r in ok_rows if r[1] == "reactions.add") / n
            result.other_per_post = result.per_post - result.creates_per_post \
                - result.seeded_per_post
            result.kinds = dict(collections.Counter(r[1] for r in ok_rows))
            result.limited = dict(fake.limited)
            per_channel = [len(fake.channel_posts(c)) for c in channels]
            result.deleted = len(getattr(fake, "deleted", ()))
            sends = collections.Counter(str(c.params.get("channel"))
                                        for c in fake.calls_to("chat.postMessage"))
            result.created_twice = sum(1 for c in channels if sends[c] > 1)
            result.lost = sum(1 for x in per_channel if x == 0)
            result.doubled = sum(1 for x in per_channel if x > 1)
            result.statuses = dict(post_counts(db_file))
            most = max(per_channel, default=0)
            result.floor = max(most - 1, 0) * SLACK_POST_WINDOW
            result.floor_note = (f"1 post/s per channel, at most {most} post(s) per channel: "
                                 f"{result.floor:.2f} s (the limit does not bind)")
    finally:
        await fake.stop()
    return result


async def fanout_console(n: int, concurrency: int, within: float) -> FanOut:
    """The same engine with the console Outbound: no network, no limits."""
    from adapters.console.outbound import ConsoleOutbound

    result = FanOut("console", n)
    outbound = ConsoleOutbound()
    channels = [f"c{i}" for i in range(n)]
    stamps: list[float] = []

    class Timed(ConsoleOutbound):
        async def post(self, *args: Any, **kwargs: Any) -> str:
            ident = await outbound.post(*args, **kwargs)
            stamps.append(time.time())
            return ident

        async def add_reactions(self, *args: Any, **kwargs: Any) -> None:
            await outbound.add_reactions(*args, **kwargs)

    with tempfile.TemporaryDirectory(prefix="qotd-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        db_file = tmp / "bench.db"

        async def register(core: Any) -> Callable[[], Awaitable[None]]:
            core.router.register("console", Timed())

            async def stop() -> None:
                return None

            return stop

        def done() -> bool:
            return len(stamps) >= n and post_counts(db_file).get("sent", 0) >= n

        slot_wall, db_file, timed_out = await _run_engine(
            tmp, [("console", "bench", c) for c in channels], concurrency, register, done, within)
        result.timed_out = timed_out
        result.finish = max(stamps, default=slot_wall) - slot_wall
        result.all_created = result.finish
        result.statuses = dict(post_counts(db_file))
        per = collections.Counter(e.channel.channel_id for e in outbound.posts())
        result.lost = sum(1 for c in channels if per[c] == 0)
        result.doubled = sum(1 for c in channels if per[c] > 1)
        result.requests = len(outbound.posts())
        result.per_post = 1.0
    return result


def _timeline(ok_rows: list[tuple[float, str, str, int]], limited_at: list[float],
              shift: float) -> str:
    """Requests answered 2xx / 429 per second after the slot: where the time went."""
    ok = collections.Counter(int(r[0] + shift) for r in ok_rows)
    limited = collections.Counter(int(t + shift) for t in limited_at)
    seconds = sorted(set(ok) | set(limited))
    return " ".join(f"{s}s:{ok[s]}/{limited[s]}" for s in seconds)


def print_fanout(r: FanOut, engine_floor: float | None) -> None:
    ratio = r.finish / r.floor if r.floor > 0 else float("inf")
    status = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
    print(f"  {r.platform:7} N={r.n:<5} {r.mode or '':9} finish {r.finish:7.2f} s (all created "
          f"{r.all_created:6.2f} s)  lost {r.lost} (goal 0)  doubled {r.doubled} (goal 0)"
          f"{'  TIMED OUT' if r.timed_out else ''}"
          + (f"  (created twice then deleted: {r.created_twice} channels, {r.deleted} deletes)"
             if r.created_twice or r.deleted else ""))
    if r.platform == "console":
        print(f"          engine only (console outbound): {r.n / max(r.finish, 1e-9):,.0f} "
              f"posts/s; posts: {status}")
        return
    print(f"          requests {r.requests} = {r.per_post:.2f}/post {r.kinds}; 429s {r.limited}")
    one = abs(r.per_post - 1.0) < 1e-9
    goal = ("goal 1 in buttons mode " + ("ok" if one else "MISSES")) if r.mode == "buttons" \
        else "reactions mode: the post plus its seeded reactions"
    print(f"          requests per post {r.per_post:.2f}: create {r.creates_per_post:.2f}, "
          f"seeded reactions {r.seeded_per_post:.2f}, other {r.other_per_post:.2f} ({goal})")
    print(f"          rate-limit floor {r.floor:.2f} s ({r.floor_note})")
    if r.floor > 0:
        verdict = "ok" if ratio <= GOAL_RATIO else "MISSES"
        print(f"          finish / floor = {ratio:.2f} (goal <= {GOAL_RATIO:.2f}) {verdict}")
    else:
        print(f"          finish / floor = n/a (floor 0: no limit binds; goal <= "
              f"{GOAL_RATIO:.2f} cannot miss on limits)")
    if engine_floor:
        print(f"          finish / engine-only floor ({engine_floor:.2f} s) = "
              f"{r.finish / engine_floor:.2f}")
    print(f"          posts: {status}")
    if r.timeline and os.environ.get("BENCH_TIMELINE"):
        print(f"          per second after the slot, 2xx/429: {r.timeline}")


async def bench_fanout(sizes: list[int], platforms: list[str], concurrency: int,
                       modes: list[str]) -> None:
    print(f"fan-out (QOTD_SEND_CONCURRENCY={concurrency}; clock {LEAD:g} s before the slot;"
          " finish = slot -> last post request answered; answer modes: "
          f"{', '.join(modes)})")
    for n in sizes:
        within = 60 + n * 0.5
        for mode in modes:
            if mode == "reactions" and n != min(sizes):
                continue  # seeding is paced (Slack's reactions.add: ~50/min a workspace)
            MODE["answers"] = mode
            console = await fanout_console(n, concurrency, within)
            console.mode = mode
            print_fanout(console, None)
            for platform in platforms:
                runner = fanout_discord if platform == "discord" else fanout_slack
                # reactions mode: Slack seeds at reactions.add's Tier 3 (the adapter
                # paces ~50 a minute a workspace), some 3 reactions a post
                extra = (n * (4.0 if platform == "slack" else 0.3)
                         if mode == "reactions" else 0.0)
                print_fanout(await runner(n, concurrency, within + extra), console.finish)
            sys.stdout.flush()


# -- start-up ------------------------------------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return rss_mb()


async def startup_child(db_file: Path) -> dict[str, float]:
    """In a fresh process: what `qotd run` does at start-up, minus the platforms."""
    figures: dict[str, float] = {"rss_python": rss_mb()}
    started = time.perf_counter()
    from adapters.console.outbound import ConsoleOutbound
    from bot.app import build_core
    from bot.clock import FakeClock
    from bot.service import engine
    from bot.settings import CoreSettings

    figures["import_s"] = time.perf_counter() - started
    figures["rss_imported"] = rss_mb()
    url = f"sqlite+aiosqlite:///{db_file}"
    clock = FakeClock(SLOT - timedelta(minutes=1))
    core = await build_core(CoreSettings(database_url=url), clock=clock, use_scheduler=True)
    for platform in ("discord", "slack"):
        core.router.register(platform, ConsoleOutbound())
    sync_time = [0.0]
    real_sync = core.sync_bank

    async def timed_sync() -> Any:
        t = time.perf_counter()
        try:
            return await real_sync()
        finally:
            sync_time[0] += time.perf_counter() - t

    core.sync_bank = timed_sync  # type: ignore[method-assign]
    started = time.perf_counter()
    await core.start()
    figures["start_s"] = time.perf_counter() - started
    figures["bank_sync_s"] = sync_time[0]
    figures["rss_started"] = rss_mb()
    passes = []
    for _ in range(5):
        t = time.perf_counter()
        await engine.run_due(core.deps)
        passes.append(time.perf_counter() - t)
    figures["run_due_s"] = min(passes)
    nexts = []
    for _ in range(5):
        t = time.perf_counter()
        upcoming = await engine.next_due(core.deps, clock.now())
        nexts.append(time.perf_counter() - t)
    figures["next_due_s"] = min(nexts)
    figures["next_due_ok"] = float(upcoming is not None and upcoming >= SLOT)
    from sqlalchemy import text

    trivial = []
    for _ in range(5):
        t = time.perf_counter()
        async with core.db.uow() as uow:
            await uow.session.execute(text("SELECT 1"))
        trivial.append(time.perf_counter() - t)
    figures["uow_select1_s"] = min(trivial)
    await core.stop()
    figures["rss_peak"] = peak_rss_mb()
    # the baseline: the raw driver on the same file
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        now_text = f"{clock.now():%Y-%m-%d %H:%M:%S.%f}"
        raw: dict[str, list[float]] = {"count": [], "range": [], "min": []}
        for _ in range(5):
            t = time.perf_counter()
            conn.execute("SELECT count(*) FROM channels").fetchone()
            raw["count"].append(time.perf_counter() - t)
            t = time.perf_counter()
            conn.execute("SELECT id FROM channels WHERE next_slot_at <= ? AND scheduled = 1 "
                         "AND paused = 0 ORDER BY next_slot_at LIMIT 500", (now_text,)).fetchall()
            raw["range"].append(time.perf_counter() - t)
            t = time.perf_counter()
            conn.execute("SELECT min(next_slot_at) FROM channels WHERE next_slot_at > ?",
                         (now_text,)).fetchone()
            raw["min"].append(time.perf_counter() - t)
    figures.update({f"raw_{k}_s": min(v) for k, v in raw.items()})
    return figures


def bench_startup(channels: int) -> None:
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="qotd-bench-") as tmp_dir:
        db_file = Path(tmp_dir) / "startup.db"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{db_file}"))
        t = time.perf_counter()
        refs = [("discord" if i % 2 else "slack", "W1", f"C{i:06d}") for i in range(channels)]
        insert_channels(db_file, channel_rows(refs, SLOT + timedelta(minutes=5),
                                              spread=timedelta(hours=23)))
        insert_s = time.perf_counter() - t
        # a process that ran before: the bank is already in the database
        asyncio.run(_sync_only(db_file))
        child = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--startup-child", str(db_file)],
            capture_output=True, text=True, check=False, timeout=300,
        )
        if child.returncode != 0:
            print(child.stdout, child.stderr)
            raise SystemExit(f"start-up child failed ({child.returncode})")
        f = json.loads(child.stdout.strip().splitlines()[-1])
        empty = subprocess.run(
            [sys.executable, "-c", "print(open('/proc/self/status').read())"],
            capture_output=True, text=True, check=True,
        ).stdout
        bare = next(int(x.split()[1]) / 1024 for x in empty.splitlines() if x.startswith("VmRSS"))
    ms = 1000.0
    print(f"start-up with {channels:,} scheduled channels (fresh subprocess, SQLite; "
          f"inserted in {insert_s:.2f} s)")
    ok = "ok" if f["start_s"] < START_GOAL_S else "MISSES"
    print(f"  core.start(): {f['start_s']:.3f} s (goal < {START_GOAL_S:g} s) {ok}; of which bank"
          f" sync {f['bank_sync_s']:.3f} s, the rest {f['start_s'] - f['bank_sync_s']:.3f} s"
          f" (imports before it: {f['import_s']:.2f} s)")
    print(f"  run_due, nothing due: {f['run_due_s'] * ms:.2f} ms vs raw sqlite3 due range query "
          f"{f['raw_range_s'] * ms:.3f} ms (x{f['run_due_s'] / f['raw_range_s']:.0f}) and "
          f"SELECT count(*) {f['raw_count_s'] * ms:.3f} ms")
    print(f"  (one unit of work running SELECT 1 through the app's async engine: "
          f"{f['uow_select1_s'] * ms:.2f} ms; run_due = x{f['run_due_s'] / f['uow_select1_s']:.1f}"
          f" of that, next_due = x{f['next_due_s'] / f['uow_select1_s']:.1f})")
    print(f"  next_due: {f['next_due_s'] * ms:.2f} ms vs raw sqlite3 min(next_slot_at) "
          f"{f['raw_min_s'] * ms:.3f} ms (x{f['next_due_s'] / f['raw_min_s']:.0f}); "
          f"found the next slot: {'yes' if f['next_due_ok'] else 'NO'}")
    ok = "ok" if f["rss_started"] <= RSS_GOAL_MB else "MISSES"
    print(f"  RSS after start-up: {f['rss_started']:.1f} MB (goal <= {RSS_GOAL_MB:g} MB) {ok}; "
          f"peak {f['rss_peak']:.1f} MB; baseline: bare python {bare:.1f} MB "
          f"(x{f['rss_started'] / bare:.1f}), after imports {f['rss_imported']:.1f} MB "
          f"(+{f['rss_started'] - f['rss_imported']:.1f} MB for start-up)")


async def _sync_only(db_file: Path) -> None:
    from bot.app import build_core
    from bot.settings import CoreSettings

    core = await build_core(CoreSettings(database_url=f"sqlite+aiosqlite:///{db_file}"),
                            use_scheduler=False)
    await core.sync_bank()
    await core.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 50 and 200 only")
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--platforms", default="discord,slack")
    parser.add_argument("--answers", default="buttons,reactions",
                        help="the channels' answer modes to run the fan-out in (issue 16); "
                        "reactions mode runs at the smallest size only")
    parser.add_argument("--concurrency", type=int,
                        default=int(os.environ.get("QOTD_SEND_CONCURRENCY", "16")))
    parser.add_argument("--startup-channels", type=int, default=10_000)
    parser.add_argument("--skip", choices=["fanout", "startup"], default=None)
    parser.add_argument("--startup-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if args.startup_child:
        print(json.dumps(asyncio.run(startup_child(args.startup_child))))
        return 0
    sizes = [int(x) for x in args.sizes.split(",") if x]
    if args.quick:
        sizes = [s for s in sizes if s <= 200] or [50]
    started = time.perf_counter()
    if args.skip != "startup":
        bench_startup(args.startup_channels)
    if args.skip != "fanout":
        asyncio.run(bench_fanout(sizes, [p for p in args.platforms.split(",") if p],
                                 args.concurrency, [m for m in args.answers.split(",") if m]))
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
