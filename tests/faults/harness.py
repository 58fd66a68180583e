"""Run the real `qotd run` process against the fake Discord or the fake Slack.

Reusable by any suite that needs real processes (faults, replicas):

    side = DiscordSide() / SlackSide()          # the fake, started in this process
    await side.start()
    bank_dir = write_choice_bank(tmp / "bank")
    refs = side.channel_refs(n)                 # n channels on the fake
    db = await prepare_database(url, refs, bank_dir)  # migrated, bank synced, scheduled
    env = process_env(side, tmp, bank_dir, clock_offset(db.slot, lead=3.0),
                      extra={"QOTD_FAULT_KILL_AT": "after-claim"})
    proc = QotdProcess(env, url, tmp / "qotd.log")
    await proc.start()                          # `.venv/bin/qotd run --db URL`
    await proc.kill()                           # SIGKILL, waits for the exit
    await proc.restart()                        # same env minus QOTD_FAULT_KILL_AT
    await proc.stop()                           # SIGTERM (then SIGKILL) and wait
    await side.stop()

prepare_database runs alembic: not concurrently within one test process (hold a lock).
`side.posts(ref)`, `side.replies(ref, post_id)`, `side.react(member, ref, post_id, key)`
and `side.hold_post/hold_bot_reaction/hold_reveal` look at and drive either fake.
`Database` reads the rows the process wrote (posts, attempts, stray reactions) through
its own engine, on SQLite or PostgreSQL. Waiting is always on a condition with a timeout
(`wait_until`), never on the wall clock of a schedule.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.emoji import emoji_for as discord_emoji
from adapters.slack.emoji import emoji_for as slack_emoji
from bot.app import build_core
from bot.boundary import Actor, ChannelRef, CommandInput
from bot.clock import FakeClock
from bot.settings import CoreSettings
from content.bank import write_bank_file
from content.model import Question, SourceRef
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.discord.fake_discord import FakeDiscord, FakeUser
from tests.slack.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
    event_callback,
    reaction_event,
)

ROOT = Path(__file__).resolve().parents[2]
QOTD = ROOT / ".venv" / "bin" / "qotd"
SCHEDULE_DAY = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # the schedule command's clock
SLOT_TIME = "09:00"  # daily, UTC: the first slot is SCHEDULE_DAY at 09:00
ADMIN_ID = "UADMIN"


async def wait_until(check: Callable[[], Any], *, within: float, what: str,
                     every: float = 0.1) -> Any:
    """Poll `check` (sync or async) until it returns something truthy, or fail saying
    what was awaited."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(every)


# -- the bank and the database --------------------------------------------------------


def choice_questions(count: int = 4) -> list[Question]:
    """Choice questions only: every member reaction A/B/C is an answer."""
    return [
        Question.make(
            prompt=f"Fault drill {i}: which tool records ML **experiments**?",
            source=SourceRef(file="faults.md", line=1 + 5 * i),
            kind="choice",
            choices=("cron", "MLflow Tracking", "rsync"),
            correct="B",
            difficulty="easy",
            topic="experiment tracking",
        )
        for i in range(count)
    ]


def write_choice_bank(directory: Path, count: int = 4) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_bank_file(directory / "faults.yaml", "faults.md", "markdown", choice_questions(count))
    return directory


@dataclass
class Database:
    """Read-only views of what the process recorded (its own engine, any backend)."""

    url: str
    slot: datetime  # every prepared channel's first slot (UTC)
    engine: AsyncEngine | None = None

    def _engine(self) -> AsyncEngine:
        if self.engine is None:
            self.engine = make_engine(self.url)
        return self.engine

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self._engine().connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]

    async def posts(self, ref: ChannelRef) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT p.id, p.day, p.status, p.message_id, p.revealed_at, p.reveal_message_id,"
            " p.reveal_error, p.send_attempts, p.reveal_attempts FROM posts p"
            " JOIN channels c ON c.id = p.channel_pk WHERE c.platform = :platform"
            " AND c.workspace_id = :ws AND c.channel_id = :cid ORDER BY p.id",
            platform=ref.platform, ws=ref.workspace_id, cid=ref.channel_id,
        )

    async def attempts(self, post_id: int) -> dict[str, str | None]:
        """user id -> the choice counted on the post."""
        rows = await self.rows(
            "SELECT u.user_id, a.choice FROM attempts a JOIN users u ON u.id = a.user_pk"
            " WHERE a.post_id = :pid", pid=post_id,
        )
        return {str(r["user_id"]): r["choice"] for r in rows}

    async def strays(self, ref: ChannelRef) -> list[str]:
        rows = await self.rows(
            "SELECT s.user_id FROM stray_reactions s JOIN channels c ON c.id = s.channel_pk"
            " WHERE c.platform = :platform AND c.workspace_id = :ws AND c.channel_id = :cid",
            platform=ref.platform, ws=ref.workspace_id, cid=ref.channel_id,
        )
        return [str(r["user_id"]) for r in rows]

    async def recorded(self, ref: ChannelRef, user_id: str) -> bool:
        """The member's reaction is in the database: counted, or kept as a stray."""
        if user_id in await self.strays(ref):
            return True
        for post in await self.posts(ref):
            if user_id in await self.attempts(int(post["id"])):
                return True
        return False

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None


async def prepare_database(url: str, refs: list[ChannelRef], bank_dir: Path, *,
                           answers: str = "buttons") -> Database:
    """Migrate, sync the bank and schedule each channel daily at SLOT_TIME UTC with the
    schedule command's clock at SCHEDULE_DAY, so each channel's next slot is
    SCHEDULE_DAY 09:00 UTC; `answers` is the channels' answer mode ("reactions": the
    bot seeds its reactions after each post). Returns the database with that slot."""
    await upgrade(url)
    core = await build_core(CoreSettings(database_url=url, bank_dir=str(bank_dir)),
                            clock=FakeClock(SCHEDULE_DAY), use_scheduler=False)
    try:
        await core.sync_bank()
        for ref in refs:
            await core.handle_command(CommandInput(
                name="qotd", subcommand="schedule",
                options={"time": SLOT_TIME, "timezone": "UTC", "days": "daily",
                         "answers": answers},
                channel=ref, actor=Actor(ADMIN_ID, "Ada Admin", is_admin=True),
            ))
    finally:
        await core.stop()
    db = Database(url, SCHEDULE_DAY.replace(hour=9))
    for ref in refs:
        rows = await db.rows(
            "SELECT next_slot_at FROM channels WHERE platform = :p AND channel_id = :c",
            p=ref.platform, c=ref.channel_id,
        )
        assert rows and rows[0]["next_slot_at"] is not None, f"{ref} was not scheduled"
    return db


def clock_offset(slot: datetime, lead: float) -> float:
    """QOTD_CLOCK_OFFSET_SECONDS that puts the process's "now" `lead` seconds before
    `slot` at this moment (the process then posts about `lead` s after it is started)."""
    return (slot - timedelta(seconds=lead) - datetime.now(UTC)).total_seconds()


def process_env(side: PlatformSide, tmp: Path, bank_dir: Path, offset: float, *,
                reveal_seconds: float = 6.0, lease: float = 2.0, poll: float = 0.5,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for `qotd run`: this process's, minus any platform or qotd
    setting, plus the fake's endpoints and the fast engine knobs."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "SLACK_", "QOTD_")) and k != "DATABASE_URL"}
    env.update({
        "QOTD_CONFIG": str(tmp / "absent.toml"),
        "QOTD_BANK_DIR": str(bank_dir),
        "QOTD_CLOCK_OFFSET_SECONDS": f"{offset:.3f}",
        "QOTD_REVEAL_HOURS": f"{reveal_seconds / 3600:.8f}",
        "QOTD_LEASE_SECONDS": str(lease),
        "QOTD_POLL_SECONDS": str(poll),
        "QOTD_LOG_LEVEL": os.environ.get("QOTD_FAULT_LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
        **side.env(tmp),
        **(extra or {}),
    })
    if os.environ.get("QOTD_FAULT_DUMP_TASKS"):  # SIGUSR2 dumps the tasks (see diag/)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(Path(__file__).parent / "diag"), env.get("PYTHONPATH")) if p)
    return env


# -- the process ------------------------------------------------------------------------


class QotdProcess:
    """`.venv/bin/qotd run --db URL` as a child process; stdout and stderr go to `log`
    (appended across restarts, each start under a header line)."""

    def __init__(self, env: dict[str, str], db_url: str, log: Path) -> None:
        self.env = dict(env)
        self.db_url = db_url
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, env: dict[str, str] | None = None) -> None:
        assert not self.alive, "already running"
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== start {self.starts} at {datetime.now(UTC):%H:%M:%S.%f}"
                      f" (kill at: {(env or self.env).get('QOTD_FAULT_KILL_AT', '-')})"
                      f" ====\n".encode())
            out.flush()
            self.proc = await asyncio.create_subprocess_exec(
                str(QOTD), "run", "--db", self.db_url, env=env or self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, cwd=str(ROOT),
            )

    async def restart(self) -> None:
        """Start again at once with the same env, minus the fault injection."""
        env = {k: v for k, v in self.env.items() if k != "QOTD_FAULT_KILL_AT"}
        await self.start(env)

    async def kill(self) -> int:
        """SIGKILL (no cleanup) and wait for the exit; returns the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return await self.proc.wait()

    async def wait_exit(self, within: float) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            raise AssertionError(f"qotd run did not exit within {within:g} s; log:\n"
                                 f"{self.log_tail()}") from None

    async def stop(self, within: float = 10.0) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            return await self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


# -- the platforms ------------------------------------------------------------------------


class PlatformSide(Protocol):
    """One fake platform seen the same way by the tests, whichever it is."""

    platform: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def env(self, tmp: Path) -> dict[str, str]: ...
    def channel_refs(self, count: int) -> list[ChannelRef]: ...
    def posts(self, ref: ChannelRef) -> list[str]:
        """Ids of the bot's top-level messages in the channel, oldest first."""
        ...
    def replies(self, ref: ChannelRef, post_id: str) -> list[str]:
        """Ids of the bot's messages in the post's thread."""
        ...
    def connections(self) -> int:
        """Connections (gateway identifies / Socket Mode opens) made so far."""
        ...
    def member(self, name: str) -> str:
        """A new member; returns the user id."""
        ...
    async def react(self, member: str, ref: ChannelRef, post_id: str, key: str, *,
                    after_connections: int = 0) -> None:
        """A member adds reaction `key` on the post, delivered to a client connected
        after the first `after_connections` connections (i.e. a restarted one)."""
        ...
    def bot_reactions(self, ref: ChannelRef, post_id: str) -> list[str]:
        """The reactions the bot itself added on the message."""
        ...
    def hold_post(self, ref: ChannelRef, stage: str) -> Any: ...
    def recent(self, count: int = 25) -> list[str]:
        """The last requests the fake received, for failure messages."""
        ...
    def hold_bot_reaction(self, ref: ChannelRef) -> Any: ...
    def hold_reveal(self, ref: ChannelRef, stage: str) -> Any: ...


class DiscordSide(PlatformSide):
    platform = "discord"

    def __init__(self) -> None:
        self.fake = FakeDiscord()
        self._members: dict[str, FakeUser] = {}

    async def start(self) -> None:
        await self.fake.start()

    async def stop(self) -> None:
        await self.fake.stop()

    def env(self, tmp: Path) -> dict[str, str]:
        return {
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_BASE": self.fake.api_base,
            "DISCORD_GATEWAY_URL": self.fake.gateway_url,
            "DISCORD_GUILD_READY_TIMEOUT": "0.05",
            "DISCORD_RETRY_BACKOFF": "0.2",
        }

    def channel_refs(self, count: int) -> list[ChannelRef]:
        ids = [self.fake.channel_id]
        while len(ids) < count:
            cid = self.fake.new_id()
            self.fake.add_text_channel(cid, f"qotd-{len(ids)}")
            ids.append(cid)
        return [ChannelRef("discord", str(self.fake.guild_id), str(c)) for c in ids]

    def posts(self, ref: ChannelRef) -> list[str]:
        return [m["id"] for m in self.fake.message_in(int(ref.channel_id))]

    def replies(self, ref: ChannelRef, post_id: str) -> list[str]:
        return [m["id"] for m in self.fake.message_in(int(post_id))]

    def connections(self) -> int:
        return len(self.fake.identify_payloads)

    def _live(self, after: int) -> bool:
        return self.connections() > after and any(
            g.identified.is_set() and not g.ws.closed for g in self.fake._gateways)

    def bot_reactions(self, ref: ChannelRef, post_id: str) -> list[str]:
        return list(self.fake.reactions.get(int(post_id), []))

    def recent(self, count: int = 25) -> list[str]:
        holds = [f"hold {h.method} {h.pattern.pattern} {h.stage}: left {h.remaining}, "
                 f"reached {h.reached.is_set()}" for h in self.fake._holds]
        return holds + [f"{r.method} {r.path} {r.status}" for r in self.fake.requests[-count:]]

    def member(self, name: str) -> str:
        user = self.fake.user(name)
        self._members[str(user.id)] = user
        return str(user.id)

    async def react(self, member: str, ref: ChannelRef, post_id: str, key: str, *,
                    after_connections: int = 0) -> None:
        # Discord delivers a gateway event to the sessions connected at that moment (a
        # fresh session after a crash gets no backlog): deliver to a live one.
        await wait_until(lambda: self._live(after_connections), within=30,
                         what="a live Discord gateway session")
        await self.fake.dispatch("MESSAGE_REACTION_ADD", self.fake.reaction(
            self._members[member], int(post_id), discord_emoji(key),
            channel_id=int(ref.channel_id)))

    def hold_post(self, ref: ChannelRef, stage: str) -> Any:
        return self.fake.hold("POST", rf"/channels/{ref.channel_id}/messages", stage=stage)

    def hold_bot_reaction(self, ref: ChannelRef) -> Any:
        return self.fake.hold("PUT", rf"/channels/{ref.channel_id}/messages/\d+/reactions/.+")

    def hold_reveal(self, ref: ChannelRef, stage: str) -> Any:
        # the reply goes to the thread, whose id is the post's: any channel but this one
        return self.fake.hold("POST", rf"/channels/(?!{ref.channel_id}/)\d+/messages",
                              stage=stage)


class SlackSide(PlatformSide):
    platform = "slack"

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self._n = 0

    async def start(self) -> None:
        await self.fake.start()
        self.fake.add_user(ADMIN_ID, "ada", is_admin=True)

    async def stop(self) -> None:
        await self.fake.stop()

    def env(self, tmp: Path) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": self.fake.api_url,
            "SLACK_POST_INTERVAL_SECONDS": "0",
            "SLACK_RETRY_BACKOFF_SECONDS": "0",
        }

    def channel_refs(self, count: int) -> list[ChannelRef]:
        return [ChannelRef("slack", TEAM_ID, f"C0FAULT{i:03d}") for i in range(count)]

    def posts(self, ref: ChannelRef) -> list[str]:
        return [m["ts"] for m in self.fake.channel_posts(ref.channel_id)]

    def replies(self, ref: ChannelRef, post_id: str) -> list[str]:
        return [m["ts"] for m in self.fake.thread(ref.channel_id, post_id)]

    def connections(self) -> int:
        return self.fake.connects

    def member(self, name: str) -> str:
        self._n += 1
        user_id = f"UMEM{self._n:04d}"
        self.fake.add_user(user_id, name)
        return user_id

    def recent(self, count: int = 25) -> list[str]:
        holds = [f"hold {h.method} {h.stage}: left {h.remaining}, reached {h.reached.is_set()}"
                 for h in self.fake._call_holds]
        return holds + [
            f"{c.method} {c.params.get('channel', '')} {c.params.get('thread_ts', '')} "
            f"{c.status}" for c in self.fake.calls[-count:]]

    def bot_reactions(self, ref: ChannelRef, post_id: str) -> list[str]:
        message = self.fake.find_message(ref.channel_id, post_id) or {}
        return [r["name"] for r in message.get("reactions", []) if BOT_USER_ID in r["users"]]

    async def react(self, member: str, ref: ChannelRef, post_id: str, key: str, *,
                    after_connections: int = 0) -> None:
        # Slack retries an event that was not acknowledged (same event id, retry_attempt
        # counting up): delivered to whichever app connection is open, once it acks.
        event = event_callback(reaction_event(user=member, channel=ref.channel_id, ts=post_id,
                                              name=slack_emoji(key)))
        for attempt in range(4):
            await wait_until(
                lambda: self.fake.connects > after_connections and self.fake.connections > 0,
                within=30, what="a Socket Mode connection")
            try:
                envelope = await self.fake.send_envelope("events_api", event,
                                                         retry_attempt=attempt)
                await self.fake.wait_ack(envelope, within=3)
                return
            except (TimeoutError, ConnectionError, RuntimeError):
                continue
        raise AssertionError(f"the reaction of {member} was never acknowledged")

    def hold_post(self, ref: ChannelRef, stage: str) -> Any:
        return self.fake.hold_call(
            "chat.postMessage", stage=stage,
            match=lambda p: p.get("channel") == ref.channel_id and not p.get("thread_ts"))

    def hold_bot_reaction(self, ref: ChannelRef) -> Any:
        return self.fake.hold_call("reactions.add",
                                   match=lambda p: p.get("channel") == ref.channel_id)

    def hold_reveal(self, ref: ChannelRef, stage: str) -> Any:
        return self.fake.hold_call(
            "chat.postMessage", stage=stage,
            match=lambda p: p.get("channel") == ref.channel_id and bool(p.get("thread_ts")))


def make_side(platform: str) -> PlatformSide:
    return {"discord": DiscordSide, "slack": SlackSide}[platform]()
