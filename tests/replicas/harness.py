"""A minimal launcher for real `qotd run` processes against the fake Slack, for the
replica and database-trouble tests.

Each `Replica` is one `qotd run --db URL` subprocess (its own session, so signals reach
only it), configured the way an operator configures it: environment variables only,
pointed at the `ReplicaSlack` fake that runs in the test process. Time is the process's
real clock shifted by QOTD_CLOCK_OFFSET_SECONDS, chosen so that its "now" starts where
the test wants it (a few seconds before a slot); processes started with the same offset
share one timeline.

`ReplicaSlack` adds to the project's FakeSlack what these tests need without editing it:
`chat.delete` (when the fake lacks it), holding only the next N calls of a method (the
fake's own `hold` holds every call), and sending an envelope over one given Socket Mode
connection (so a command reaches a chosen replica).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.app import build_core
from bot.boundary import Actor, ChannelRef, CommandInput
from bot.clock import FakeClock
from bot.settings import CoreSettings
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.slack import fake_slack
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, TEAM_ID, Envelope, FakeSlack

ADMIN = "UADMIN"
QOTD = Path(sys.executable).with_name("qotd")
if not QOTD.exists():  # not run from the project's venv: the installed entry point
    QOTD = Path(shutil.which("qotd") or "qotd")
# A day with every slot of these tests: 09:00 UTC, the minute the channels are due.
DAY0_SLOT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# -- the fake --------------------------------------------------------------------------


class ReplicaSlack(FakeSlack):
    """FakeSlack plus holds of the next N calls, chat.delete (used only when the fake
    has none) and per-connection envelopes."""

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "deleted"):  # the fake's own chat.delete keeps this list
            self.deleted: list[dict[str, Any]] = []
        self._hold_next: dict[str, int] = {}
        self._hold_gates: dict[str, asyncio.Event] = {}
        self._hold_stage: dict[str, str] = {}
        self.held: list[str] = []  # methods of calls currently held by hold_next
        self.watched: dict[int, str] = {}  # pid -> name: whose requests posters names
        self.posters: list[str] = []  # who sent each chat.postMessage ("?" if unknown)
        self.add_user(ADMIN, "ada", is_admin=True)

    def hold_next(self, method: str, count: int = 1, *, stage: str = "before"
                  ) -> asyncio.Event:
        """Hold only the next `count` calls of `method` until the event is set; calls
        after those pass at once. `stage="before"`: the call is carried out when
        released (Slack stores the message late); `"after"`: carried out at once, the
        answer withheld until released (stored, not answered)."""
        assert stage in ("before", "after"), stage
        self._hold_next[method] = count
        self._hold_stage[method] = stage
        gate = self._hold_gates[method] = asyncio.Event()
        return gate

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method == "chat.postMessage":
            self.posters.append(self._poster(request))
        if self._hold_next.get(method, 0) <= 0:
            return await super()._api(request)
        self._hold_next[method] -= 1
        after = self._hold_stage[method] == "after"
        response = await super()._api(request) if after else None
        self.held.append(method)
        await self._notify()
        try:
            await self._hold_gates[method].wait()
        finally:
            self.held.remove(method)
        return response if response is not None else await super()._api(request)

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "chat.delete" and method not in fake_slack._HANDLERS:
            if token not in self.bot_tokens:
                return {"ok": False, "error": "invalid_auth"}
            return self._replica_delete(params)
        return super()._dispatch(method, params, token)

    def _replica_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), str(params.get("ts", ""))
        message = self.find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[channel].remove(message)
        self.deleted.append({"channel": channel, **message})
        return {"ok": True, "channel": channel, "ts": ts}

    async def send_to(self, index: int, type_: str, payload: dict[str, Any]) -> Envelope:
        """Like send_envelope, over the `index`-th open Socket Mode connection."""
        envelope = Envelope(uuid.uuid4().hex, type_, payload, 0)
        self.envelopes[envelope.envelope_id] = envelope
        await self._sockets[index].send_json({
            "envelope_id": envelope.envelope_id, "type": type_, "payload": payload,
            "accepts_response_payload": type_ != "events_api", "retry_attempt": 0,
            "retry_reason": "",
        })
        return envelope

    async def command(self, text_: str, channel: str, *, via: int = -1,
                      user: str = ADMIN) -> str:
        """Send `/qotd <text_>` in `channel` through connection `via`; returns the
        response key its answer will carry."""
        url = self.response_url()
        payload = fake_slack.slash_command("/qotd", text_, user_id=user, response_url=url,
                                           channel_id=channel)
        await self.send_to(via, "slash_commands", payload)
        return url.rsplit("/", 1)[1]

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def _poster(self, request: web.Request) -> str:
        """Which watched process sent a request: the one whose socket has its client port
        (looked up while the request is open, so the connection is there)."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if not peer:
            return "?"
        for pid, name in self.watched.items():
            try:
                if peer[1] in tcp_ports(pid, self.port):
                    return name
            except OSError:
                continue
        return "?"

    def answers(self, key: str) -> list[dict[str, Any]]:
        return [r for r in self.responses if r["key"] == key]

    def posts_by_channel(self, channels: Iterable[str]) -> dict[str, list[str]]:
        return {c: [m["ts"] for m in self.channel_posts(c)] for c in channels}


def channel_names(count: int, prefix: str = "CR") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


# -- processes -------------------------------------------------------------------------


def clock_offset(process_now: datetime) -> float:
    """The QOTD_CLOCK_OFFSET_SECONDS that makes a process started now read `process_now`."""
    return (process_now - datetime.now(UTC)).total_seconds()


def real_time_of(clock_time: datetime, offset: float) -> float:
    """The wall-clock epoch seconds at which a process with `offset` reads `clock_time`."""
    return clock_time.timestamp() - offset


@dataclass
class Replica:
    """One `qotd run` subprocess."""

    name: str
    database_url: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Replica:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(f"--- start {self.name} at {datetime.now(UTC):%H:%M:%S.%f}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(QOTD), "run", "--db", self.database_url], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL and reap: no cleanup in the process, like a power cut."""
        if self.proc is None:
            return
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def freeze(self) -> None:
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def stop(self, within: float = 15) -> None:
        """Graceful stop (SIGTERM, like a supervisor), SIGKILL if it hangs."""
        if not self.alive():
            return
        assert self.proc is not None
        self.signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def stop_all(replicas: Iterable[Replica], within: float = 15) -> None:
    """SIGTERM every live one at once, then reap (SIGKILL what hangs past `within`)."""
    live = [r for r in replicas if r.alive()]
    for replica in live:
        replica.signal(signal.SIGCONT)
        replica.signal(signal.SIGTERM)
    deadline = time.monotonic() + within
    for replica in live:
        replica.stop(within=max(deadline - time.monotonic(), 0.1))


class Launcher:
    """Builds the environment of `qotd run` processes for one test, and stops every
    process it started at the end."""

    def __init__(self, fake: ReplicaSlack, tmp: Path, bank: Path) -> None:
        self.fake = fake
        self.tmp = tmp
        self.bank = bank
        self.replicas: list[Replica] = []

    def env(self, offset: float, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DISCORD_", "SLACK_", "QOTD_")) and k != "DATABASE_URL"}
        env.update({
            "QOTD_CONFIG": str(self.tmp / "absent.toml"),
            "QOTD_BANK_DIR": str(self.bank),
            "QOTD_LOG_LEVEL": "INFO",
            "QOTD_POLL_SECONDS": "1",
            "QOTD_LEASE_SECONDS": "3",
            "QOTD_CLOCK_OFFSET_SECONDS": f"{offset:.3f}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": self.fake.api_url,
            "SLACK_POST_INTERVAL_SECONDS": "0",
            "SLACK_RETRY_BACKOFF_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    def replica(self, name: str, database_url: str, offset: float, **extra: str) -> Replica:
        replica = Replica(name, database_url, self.env(offset, **extra),
                          self.tmp / "logs" / f"{name}.log")
        self.replicas.append(replica)
        return replica

    def close(self) -> None:
        """SIGKILL whatever is still running: clean-up, not a test of shutdown (a graceful
        stop takes the Slack Socket Mode client ~10 s, too long to pay per test)."""
        for replica in self.replicas:
            replica.kill()

    def logs(self) -> str:
        seen: set[Path] = set()
        parts = []
        for replica in self.replicas:
            if replica.log_path not in seen:
                seen.add(replica.log_path)
                parts.append(f"===== {replica.name} =====\n{replica.log()[-6000:]}")
        return "\n".join(parts)


async def wait_connections(fake: ReplicaSlack, count: int, within: float = 30) -> None:
    """Until `count` Socket Mode connections are open (the fake does not notify on a
    connect, so this polls)."""
    async def ready() -> bool:
        return fake.connections >= count

    assert await wait_until(ready, within, every=0.05), f"{fake.connections} connections"


async def wait_disconnected(fake: ReplicaSlack, count: int = 0, within: float = 15) -> None:
    async def gone() -> bool:
        return fake.connections <= count

    assert await wait_until(gone, within, every=0.05), f"{fake.connections} connections"


async def wait_until(predicate: Any, within: float, every: float = 0.2) -> Any:
    """For conditions on the database (the fake's wait_for only wakes on requests)."""
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)


# -- the database ------------------------------------------------------------------------


async def schedule_channels(url: str, bank: Path, channels: Iterable[str], *,
                            at: datetime = DAY0_SLOT - timedelta(hours=1),
                            post_time: str = "09:00") -> None:
    """Migrate, sync the bank and schedule each Slack channel daily at `post_time` UTC,
    the way an admin's `/qotd schedule` does, from the test process at clock time `at`."""
    await upgrade(url)
    core = await build_core(CoreSettings(database_url=url, bank_dir=str(bank)),
                            clock=FakeClock(at), use_scheduler=False)
    try:
        await core.sync_bank()
        for channel in channels:
            replies = await core.handle_command(CommandInput(
                name="qotd", subcommand="schedule",
                options={"time": post_time, "timezone": "UTC", "days": "daily"},
                channel=ChannelRef("slack", TEAM_ID, channel),
                actor=Actor(ADMIN, "Ada Admin", is_admin=True),
            ))
            assert replies and replies[0].message.tone != "error", replies
    finally:
        await core.stop()


@dataclass(frozen=True)
class PostState:
    channel: str
    day: str | None
    status: str
    message_id: str | None


async def post_rows(url: str) -> list[PostState]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT c.channel_id, p.day, p.status, p.message_id FROM posts p "
                "JOIN channels c ON c.id = p.channel_pk ORDER BY c.channel_id, p.day"
            ))).all()
    finally:
        await engine.dispose()
    return [PostState(r[0], None if r[1] is None else str(r[1]), r[2], r[3]) for r in rows]


def check_one_post_per_day(fake: ReplicaSlack, rows: list[PostState], channels: list[str],
                           days: int) -> list[str]:
    """Problems (empty when fine): each channel has exactly `days` top-level posts on the
    fake, `days` rows all sent, and the rows' message ids are exactly those posts."""
    problems = []
    by_channel: dict[str, list[PostState]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row)
    for channel in channels:
        posted = [m["ts"] for m in fake.channel_posts(channel)]
        mine = by_channel.get(channel, [])
        if len(posted) != days:
            problems.append(f"{channel}: {len(posted)} posts on Slack, want {days}")
        if len(mine) != days or any(r.status != "sent" for r in mine):
            problems.append(f"{channel}: rows {[(r.day, r.status) for r in mine]}")
        if sorted(r.message_id or "" for r in mine) != sorted(posted):
            problems.append(f"{channel}: message ids {[r.message_id for r in mine]} vs "
                            f"posts {posted}")
    return problems


def tcp_ports(pid: int, server_port: int) -> set[int]:
    """Local ports of a process's TCP connections to `server_port` (from /proc)."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]  # noqa: SIM115
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == server_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports
