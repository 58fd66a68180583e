"""The interaction benchmark (issue 16): how fast members get answers under load.

    .venv/bin/python bench/interactions.py            # about 5 minutes
    .venv/bin/python bench/interactions.py --quick    # 5 s per rate, about 2 minutes
    .venv/bin/python bench/interactions.py --platforms discord --rates 100 --seconds 10

What runs: the real `qotd run` (`.venv/bin/qotd run --db sqlite+aiosqlite:///<temp file>`,
a child process, the platform's plugin configured from the environment as an operator
does) against the project's fakes (tests/discord/fake_discord.py, tests/slack/fake_slack.py
in HTTP mode), which live in this process with the injector. Before the run the channel is
scheduled and the process posts the day's question at once (its clock offset to the slot):
the stream's button presses are votes on that post, through the buttons it carries.

The baseline, in the same run and against its own fake of the same kind: the bare library
in a child process of its own answering every interaction with a fixed reply (a minimal
discord.py client: `interaction.response.send_message("ok", ephemeral=True)`; a minimal
slack-bolt AsyncApp on aiohttp: `ack()` then `respond("ok")`). For each rate (20, 100 and
200 per second, 20 s each by default) the bare library gets the stream first, then qotd
gets the same stream (same mix, same members, same order), so both see the machine as it
is at that moment.

The mix (seeded, `MIX`): half of the stream are presses of the post's vote buttons (a
member switching or withdrawing counts as it comes), then `/leaderboard`, `/qotd status`,
`/streak`, `/qotd stats`, by 300 members. Printed per platform and rate:
- Discord: the ack (interaction callback of any type, from the INTERACTION_CREATE being
  sent) and the first visible reply (the type 4 callback, or the @original edit after a
  type 5), p50/p95/p99/max, the count past 3 s (no callback at all counts as past), and
  the ratio of each percentile to the bare client's;
- Slack: the slash command's / block_actions' HTTP 200 and the reply's arrival
  (response_url, chat.postEphemeral), the same figures, plus `users.info` calls and their
  429s (the fake enforces Tier 4, 100 per minute, as Slack does, and Tier 3 on
  reactions.add);
- 500 reactions sent within 1 s by 500 new members on the post (MESSAGE_REACTION_ADD over
  the gateway; Slack reaction_added events over HTTP): the time until all 500 are
  recorded (attempts in the database, read with sqlite3 from this process);
- the requests the post cost (the fakes' per-post counters): the goal is 1 in buttons mode.
Each row has the issue's goal beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QOTD_BIN = ROOT / ".venv" / "bin" / "qotd"

RATES = (20, 100, 200)
SECONDS = 20.0
MEMBERS = 300
REACTIONS = 500
DEADLINE = 3.0  # both platforms drop an interaction not acknowledged within 3 s
DRAIN_S = 120.0  # after a rate's stream, how long its backlog may take to be answered
MIX: tuple[tuple[str, int], ...] = (
    ("vote", 50), ("leaderboard", 20), ("status", 15), ("streak", 10), ("stats", 5),
)
SLOT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # tests.faults.harness: SCHEDULE_DAY 09:00
SELF = str(Path(__file__).resolve())
BANK_SIZE = 200


# -- statistics ----------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


@dataclass
class Latencies:
    """Seconds from sending to the event; None: it never came."""

    values: list[float | None] = field(default_factory=list)

    @property
    def seen(self) -> list[float]:
        return [v for v in self.values if v is not None]

    @property
    def missing(self) -> int:
        return sum(1 for v in self.values if v is None)

    def past(self, limit: float = DEADLINE) -> int:
        return sum(1 for v in self.values if v is None or v > limit)

    def figures(self) -> dict[str, float]:
        seen = self.seen
        return {"p50": pct(seen, 0.50), "p95": pct(seen, 0.95), "p99": pct(seen, 0.99),
                "max": max(seen) if seen else float("nan")}


def ms(value: float) -> str:
    if value != value:  # NaN
        return "   n/a"
    return f"{value * 1000:6.1f}" if value < 10 else f"{value * 1000:6.0f}"


def row(label: str, qotd: Latencies, bare: Latencies | None, goal: str,
        verdict: bool | None) -> str:
    f = qotd.figures()
    text = (f"    {label:<22} p50 {ms(f['p50'])}  p95 {ms(f['p95'])}  p99 {ms(f['p99'])}  "
            f"max {ms(f['max'])} ms  past 3 s {qotd.past():>4}/{len(qotd.values)}")
    if bare is not None:
        b = bare.figures()
        ratios = "/".join(f"{f[k] / b[k]:.1f}" if b[k] and b[k] == b[k] else "n/a"
                          for k in ("p50", "p99"))
        text += (f"\n    {'':<22} bare p50 {ms(b['p50'])}  p99 {ms(b['p99'])} ms, "
                 f"past 3 s {bare.past()}; qotd/bare p50/p99 = {ratios}")
    mark = "" if verdict is None else ("  PASS" if verdict else "  MISS")
    return text + f"\n    {'':<22} goal: {goal}{mark}"


# -- the stream ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: str  # one of MIX's
    member: int
    pick: int  # which vote button (modulo the buttons there are)


def make_stream(count: int, seed: int) -> list[Step]:
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    return [Step(rng.choices(kinds, weights)[0], rng.randrange(MEMBERS), rng.randrange(1000))
            for _ in range(count)]


# -- the child processes -------------------------------------------------------------------


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A child process whose output goes to a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=out,
                stderr=out, cwd=str(ROOT))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self) -> None:
        if not self.alive or self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def cpu(self) -> float:
        """CPU seconds the process has used so far (user + system, all its threads)."""
        if self.proc is None:
            return 0.0
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return 0.0

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "SLACK_", "QOTD_")) and k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return env


def qotd_argv(url: str, name: str) -> list[str]:
    """`qotd run --db URL`; with BENCH_PROFILE=DIR, under cProfile (DIR/<name>.prof,
    written when the process exits on the SIGTERM at the end)."""
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        out = Path(profile_dir) / f"{name}.prof"
        return [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot", "run",
                "--db", url]
    return [str(QOTD_BIN), "run", "--db", url]


def qotd_env(tmp: Path, bank: Path, platform_env: dict[str, str]) -> dict[str, str]:
    offset = (SLOT - timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    return {
        **base_env(),
        "QOTD_CONFIG": str(tmp / "absent.toml"),
        "QOTD_BANK_DIR": str(bank),
        "QOTD_CLOCK_OFFSET_SECONDS": f"{offset:.3f}",
        "QOTD_REVEAL_HOURS": "8",
        "QOTD_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        **platform_env,
    }


async def wait_until(check: Callable[[], Any], within: float, what: str,
                     child: Child | None = None) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if child is not None and not child.alive:
            raise SystemExit(f"the child process died while waiting for {what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            extra = f"\n{child.tail()}" if child is not None else ""
            raise SystemExit(f"timed out after {within:g} s waiting for {what}{extra}")
        await asyncio.sleep(0.05)


def write_bank(directory: Path) -> Path:
    from content.bank import write_bank_file
    from content.model import Question, SourceRef

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(16)
    questions = [
        Question.make(
            prompt=f"Interaction bench {i}: which tool records ML **experiments**?",
            source=SourceRef(file="bench.md", line=1 + 5 * i),
            kind="choice",
            choices=("cron", "MLflow Tracking", "rsync", "make")[: rng.choice((3, 4))],
            correct="B",
            difficulty=rng.choice(("easy", "medium", "hard")),
            topic=f"topic {i % 12}",
        )
        for i in range(BANK_SIZE)
    ]
    write_bank_file(directory / "bench.yaml", "bench.md", "markdown", questions)
    return directory


async def prepare(db_url: str, platform: str, workspace: str, channel: str,
                  bank: Path) -> None:
    from bot.boundary import ChannelRef
    from tests.faults.harness import prepare_database

    db = await prepare_database(db_url, [ChannelRef(platform, workspace, channel)], bank)
    await db.close()


def attempts_on(db_file: Path, message_id: str) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        row_ = conn.execute(
            "SELECT count(*) FROM attempts a JOIN posts p ON p.id = a.post_id "
            "WHERE p.message_id = ?", (message_id,)).fetchone()
        return int(row_[0])


def post_id_of(db_file: Path, message_id: str) -> int | None:
    with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        found = conn.execute("SELECT id FROM posts WHERE message_id = ?", (message_id,)).fetchone()
        return int(found[0]) if found else None


# -- results -------------------------------------------------------------------------------


@dataclass
class RateResult:
    rate: int
    count: int
    ack: Latencies
    reply: Latencies
    bare_ack: Latencies
    bare_reply: Latencies
    sent_over: float = 0.0  # how long the injector took to send the stream
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlatformResult:
    platform: str
    rates: list[RateResult] = field(default_factory=list)
    reactions_s: float | None = None
    reactions_recorded: int = 0
    reactions_run: bool = False
    post_requests: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def print_platform(result: PlatformResult) -> int:
    misses = 0
    print(f"[{result.platform}]")
    for note in result.notes:
        print(f"  note: {note}")
    for r in result.rates:
        print(f"  {r.rate}/s for {r.count} interactions (sent over {r.sent_over:.1f} s)"
              + (f"  {r.extra['summary']}" if r.extra.get("summary") else ""))
        if result.platform == "discord":
            if r.rate >= 200:
                goal, ok = ("none past 3 s, p99 <= 100 ms",
                            r.ack.past() == 0 and r.ack.figures()["p99"] <= 0.100)
            else:
                goal, ok = "p99 <= 50 ms", r.ack.figures()["p99"] <= 0.050 and not r.ack.missing
            print(row("ack (callback)", r.ack, r.bare_ack, goal, ok))
            print(row("reply", r.reply, r.bare_reply, "(none)", None))
        else:
            if r.rate >= 200:
                goal, ok = "none past 3 s", r.ack.past() == 0
            else:
                goal, ok = "p99 <= 50 ms", r.ack.figures()["p99"] <= 0.050 and not r.ack.missing
            print(row("HTTP 200", r.ack, r.bare_ack, goal, ok))
            limited = r.extra.get("users_info_429", 0)
            ok_reply = r.reply.figures()["p99"] <= 0.500 and not r.reply.missing and limited == 0
            print(row("reply arrival", r.reply, r.bare_reply,
                      "p99 <= 500 ms, no 429 storms", ok_reply))
            misses += not ok_reply
            print(f"    {'':<22} users.info: {r.extra.get('users_info', 0)} calls, "
                  f"{limited} answered 429")
        misses += not ok
    if result.reactions_run:
        ok = result.reactions_s is not None and result.reactions_s <= 1.5
        misses += not ok
        shown = f"{result.reactions_s:.2f} s" if result.reactions_s is not None else \
            f"NOT ALL ({result.reactions_recorded} of {REACTIONS} recorded)"
        print(f"  {REACTIONS} reactions sent within 1 s: all recorded after {shown}"
              f"  goal: within 1.5 s  {'PASS' if ok else 'MISS'}")
    if result.post_requests:
        counts = result.post_requests
        ok = counts.get("total", 0) == 1
        misses += not ok
        detail = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "total")
        print(f"  requests for the day's post: {counts.get('total', 0)} ({detail})"
              f"  goal: 1 in buttons mode  {'PASS' if ok else 'MISS'}")
    return misses


# -- Discord -------------------------------------------------------------------------------


def discord_custom_ids(message: dict[str, Any]) -> list[str]:
    ids = []
    for action_row in message.get("components") or []:
        for component in action_row.get("components") or []:
            custom_id = component.get("custom_id")
            if component.get("type") == 2 and isinstance(custom_id, str) and "vote:" in custom_id:
                ids.append(custom_id)
    return ids


class DiscordSide:
    """One fake Discord and the process answering on it (qotd or the bare client)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        from tests.discord.fake_discord import FakeDiscord

        self.kind, self.tmp = kind, tmp
        self.fake = FakeDiscord()
        self.fake.record_requests = False
        self.members: list[Any] = []
        self.child: Child | None = None
        self.post: dict[str, Any] | None = None
        self.vote_ids: list[str] = []
        self.db_file = tmp / f"{kind}-discord.db"
        self.cpu_per = 0.0  # the process's CPU seconds per interaction in the last drive

    async def start(self) -> None:
        from tests.discord.fake_discord import FakeUser

        await self.fake.start()
        self.fake.record_requests = True  # the adapter's start-up (registration) is kept
        self.members = [FakeUser(self.fake.new_id(), f"member{i}") for i in range(MEMBERS)]
        env = {"DISCORD_TOKEN": self.fake.token, "DISCORD_API_BASE": self.fake.api_base,
               "DISCORD_GATEWAY_URL": self.fake.gateway_url,
               "DISCORD_GUILD_READY_TIMEOUT": "0.05"}
        log = self.tmp / f"{self.kind}-discord.log"
        if self.kind == "qotd":
            bank = write_bank(self.tmp / "bank-discord")
            url = f"sqlite+aiosqlite:///{self.db_file}"
            await prepare(url, "discord", str(self.fake.guild_id), str(self.fake.channel_id),
                          bank)
            self.child = Child(qotd_argv(url, f"discord-{self.kind}"),
                               qotd_env(self.tmp, bank, env), log)
        else:
            self.child = Child([sys.executable, SELF, "--child",
                                "bare-discord"], {**base_env(), **env}, log)
        await self.child.start()
        await wait_until(lambda: self.fake._live(), 60, f"{self.kind} on the gateway",
                         self.child)
        if self.kind == "qotd":
            cid = self.fake.channel_id
            posts = await wait_until(lambda: self.fake.message_in(cid), 60,
                                     "the day's post", self.child)
            self.post = posts[0]
            self.vote_ids = discord_custom_ids(self.post)
            await asyncio.sleep(1.0)  # the post's follow-ups (seeded reactions) settle
        self.fake.record_requests = False

    def payload(self, step: Step, post: dict[str, Any] | None, vote_ids: list[str]
                ) -> dict[str, Any]:
        fake, user = self.fake, self.members[step.member]
        kind = step.kind if step.kind != "vote" or vote_ids else "status"
        if kind == "vote":
            assert post is not None
            message = {**post, "channel_id": str(fake.channel_id)}
            return fake.button(vote_ids[step.pick % len(vote_ids)], message, user)
        if kind in ("status", "stats"):
            return fake.slash("qotd", user, subcommand=kind)
        return fake.slash(kind, user)

    async def drive(self, stream: list[Step], rate: float, post: dict[str, Any] | None,
                    vote_ids: list[str]) -> tuple[Latencies, Latencies, float]:
        payloads = [self.payload(s, post, vote_ids) for s in stream]
        assert self.child is not None
        cpu_before = self.child.cpu()
        start = time.monotonic() + 0.2
        ids = []
        for n, payload in enumerate(payloads):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            ids.append(await self.fake.inject(payload))
        sent_over = time.monotonic() - start
        fake = self.fake
        with contextlib.suppress(SystemExit):
            await wait_until(lambda: all(i in fake.replied_at or (i in fake.acked_at
                                         and fake.callbacks.get(i, {}).get("type") != 5)
                                         for i in ids), DRAIN_S, "the replies")
        self.cpu_per = (self.child.cpu() - cpu_before) / len(stream)
        return (Latencies([fake.ack_latency(i) for i in ids]),
                Latencies([fake.reply_latency(i) for i in ids]), sent_over)

    async def react(self, count: int) -> tuple[float | None, int]:
        """`count` new members react on the post within one second; seconds until every
        attempt is in the database."""
        from adapters.discord.emoji import emoji_for
        from tests.discord.fake_discord import FakeUser

        assert self.post is not None
        message_id = str(self.post["id"])
        keys = [k for k in "ABCD"][: max(2, len(self.vote_ids) or 3)]
        before = attempts_on(self.db_file, message_id)
        users = [FakeUser(self.fake.new_id(), f"reactor{i}") for i in range(count)]
        events = [self.fake.reaction(u, int(message_id), emoji_for(keys[i % len(keys)]))
                  for i, u in enumerate(users)]
        start = time.monotonic()
        for n, event in enumerate(events):
            delay = start + n / count - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.fake.dispatch("MESSAGE_REACTION_ADD", event)
        return await _recorded(self.db_file, message_id, before + count, start)

    def post_requests(self) -> dict[str, int]:
        if self.post is None:
            return {}
        total = self.fake.requests_for_message(int(self.post["id"]))
        return {"total": total, "create": 1, "other (seeded reactions, edits)": total - 1}

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop()
        await self.fake.stop()


async def _recorded(db_file: Path, message_id: str, target: int, start: float
                    ) -> tuple[float | None, int]:
    """Seconds from `start` until the post has `target` attempts (None: not within 60 s),
    and how many of the `REACTIONS` new ones were recorded."""
    deadline = start + 60
    count = 0
    while time.monotonic() < deadline:
        count = attempts_on(db_file, message_id)
        if count >= target:
            return time.monotonic() - start, REACTIONS - (target - count)
        await asyncio.sleep(0.01)
    return None, REACTIONS - (target - count)


def _buttons_note(count: int) -> str:
    if not count:
        return ("the post carries no vote buttons (reactions mode?): the stream's votes "
                "are sent as /qotd status")
    return f"vote buttons on the post: {count}"


def _mix_text(stream: Sequence[Any]) -> str:
    kinds = Counter(s.kind for s in stream)
    return "mix " + ", ".join(f"{k} {v}" for k, v in kinds.most_common())


def _cpu_text(qotd_cpu: float, bare_cpu: float) -> str:
    return (f"\n    process CPU per interaction: qotd {qotd_cpu * 1000:.2f} ms, bare "
            f"{bare_cpu * 1000:.2f} ms (saturates one core near "
            f"{1 / max(qotd_cpu, 1e-9):.0f}/s vs {1 / max(bare_cpu, 1e-9):.0f}/s)")


async def _react_and_count(result: PlatformResult, qotd: Any) -> None:
    """The run's tail on either platform: 500 reactions in 1 s, then the post's requests."""
    result.reactions_s, result.reactions_recorded = await qotd.react(REACTIONS)
    result.reactions_run = True
    result.post_requests = qotd.post_requests()


async def bench_discord(rates: Sequence[int], seconds: float, tmp: Path) -> PlatformResult:
    import discord
    import yarl

    result = PlatformResult("discord")
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    qotd, bare = DiscordSide("qotd", tmp), DiscordSide("bare", tmp)
    try:
        await qotd.start()
        await bare.start()
        result.notes.append(_buttons_note(len(qotd.vote_ids)))
        for rate in rates:
            stream = make_stream(int(rate * seconds), seed=rate)
            b_ack, b_reply, _ = await bare.drive(stream, rate, qotd.post, qotd.vote_ids)
            ack, reply, over = await qotd.drive(stream, rate, qotd.post, qotd.vote_ids)
            types = Counter(int(qotd.fake.callbacks[i].get("type", 0))
                            for i in list(qotd.fake.callbacks)[-len(stream):])
            result.rates.append(RateResult(
                rate, len(stream), ack, reply, b_ack, b_reply, over,
                {"summary": _mix_text(stream) + "; qotd's callbacks by type " + ", ".join(
                    f"{t}: {n}" for t, n in sorted(types.items()))
                 + _cpu_text(qotd.cpu_per, bare.cpu_per)}))
            await asyncio.sleep(1.0)
        await _react_and_count(result, qotd)
    finally:
        await bare.stop()
        await qotd.stop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(gateway))
    return result


# -- Slack ---------------------------------------------------------------------------------

SLACK_CHANNEL = "C0BENCH16"


def slack_vote_buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    buttons = []
    for block in message.get("blocks") or []:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            value = element.get("value")
            if element.get("type") == "button" and isinstance(value, str) and "vote:" in value:
                buttons.append((str(element.get("action_id")), value))
    return buttons


class SlackSide:
    def __init__(self, kind: str, tmp: Path) -> None:
        from tests.slack.fake_slack import FakeSlack

        self.kind, self.tmp = kind, tmp
        self.fake = FakeSlack()
        self.child: Child | None = None
        self.port = free_port()
        self.post: dict[str, Any] | None = None
        self.buttons: list[tuple[str, str]] = []
        self.db_file = tmp / f"{kind}-slack.db"
        self.cpu_per = 0.0  # the process's CPU seconds per interaction in the last drive

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, TEAM_ID

        fake = self.fake
        await fake.start()
        for i in range(MEMBERS):
            fake.add_user(f"UM{i:05d}", f"member{i}")
        for i in range(REACTIONS):
            fake.add_user(f"UR{i:05d}", f"reactor{i}")
        fake.enforce_tier("users.info")
        fake.enforce_tier("reactions.add")
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": fake.api_url, "SLACK_HOST": "127.0.0.1",
               "SLACK_PORT": str(self.port), "SLACK_POST_INTERVAL_SECONDS": "0",
               "SLACK_RETRY_BACKOFF_SECONDS": "0.2"}
        log = self.tmp / f"{self.kind}-slack.log"
        if self.kind == "qotd":
            bank = write_bank(self.tmp / "bank-slack")
            url = f"sqlite+aiosqlite:///{self.db_file}"
            await prepare(url, "slack", TEAM_ID, SLACK_CHANNEL, bank)
            self.child = Child(qotd_argv(url, f"slack-{self.kind}"),
                               qotd_env(self.tmp, bank, env), log)
        else:
            self.child = Child([sys.executable, SELF, "--child",
                                "bare-slack"], {**base_env(), **env}, log)
        await self.child.start()
        await wait_until(self._listening, 60, f"{self.kind} Slack app listening", self.child)
        if self.kind == "qotd":
            posts = await wait_until(lambda: fake.channel_posts(SLACK_CHANNEL), 60,
                                     "the day's post", self.child)
            self.post = posts[0]
            self.buttons = slack_vote_buttons(self.post)
            await asyncio.sleep(1.0)

    def _listening(self) -> bool:
        with contextlib.closing(socket.socket()) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def interaction(self, step: Step, post_ts: str, buttons: list[tuple[str, str]]) -> Any:
        user = f"UM{step.member:05d}"
        name = f"member{step.member}"
        kind = step.kind if step.kind != "vote" or buttons else "status"
        if kind == "vote":
            action_id, value = buttons[step.pick % len(buttons)]
            return self.fake.press_request(user=user, channel=SLACK_CHANNEL, value=value,
                                           message_ts=post_ts, action_id=action_id)
        if kind in ("status", "stats"):
            return self.fake.command_request("/qotd", kind, user=user, channel=SLACK_CHANNEL,
                                             user_name=name)
        return self.fake.command_request(f"/{kind}", "", user=user, channel=SLACK_CHANNEL,
                                         user_name=name)

    async def drive(self, stream: list[Step], rate: float, post_ts: str,
                    buttons: list[tuple[str, str]]
                    ) -> tuple[Latencies, Latencies, float, dict[str, Any]]:
        fake = self.fake
        calls_before = len(fake.calls_to("users.info", ok_only=False))
        limited_before = fake.rate_limited.get("users.info", 0)
        interactions = [self.interaction(s, post_ts, buttons) for s in stream]
        assert self.child is not None
        cpu_before = self.child.cpu()
        started = fake.monotonic()
        done = await fake.inject(self.events_url, interactions, rate=rate)
        sent_over = max((d.sent for d in done), default=started) - started
        with contextlib.suppress(SystemExit):
            await wait_until(lambda: all(d.replies for d in done), DRAIN_S, "the replies")
        self.cpu_per = (self.child.cpu() - cpu_before) / len(stream)
        ack = Latencies([d.ack_latency if d.status == 200 else None for d in done])
        reply = Latencies([d.reply_latency for d in done])
        extra = {
            "users_info": len(fake.calls_to("users.info", ok_only=False)) - calls_before,
            "users_info_429": fake.rate_limited.get("users.info", 0) - limited_before,
            "statuses": Counter(d.status or d.error for d in done),
        }
        return ack, reply, sent_over, extra

    async def react(self, count: int) -> tuple[float | None, int]:
        import aiohttp

        from adapters.slack.emoji import emoji_for
        from tests.slack.fake_slack import SIGNING_SECRET, event_callback, reaction_event, sign

        assert self.post is not None
        ts = str(self.post["ts"])
        keys = "ABC"
        before = attempts_on(self.db_file, ts)
        bodies = [json.dumps(event_callback(reaction_event(
            user=f"UR{i:05d}", channel=SLACK_CHANNEL, ts=ts, name=emoji_for(keys[i % 3]))))
            for i in range(count)]
        start = time.monotonic()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            async def one(n: int, body: str) -> None:
                delay = start + n / count - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                headers = {"Content-Type": "application/json", **sign(SIGNING_SECRET, body)}
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.post(self.events_url, data=body.encode(),
                                         headers=headers) as resp:
                        await resp.read()

            sending = asyncio.gather(*(one(n, b) for n, b in enumerate(bodies)))
            recorded = await _recorded(self.db_file, ts, before + count, start)
            await sending
        return recorded

    def post_requests(self) -> dict[str, int]:
        if self.post is None:
            return {}
        counts = self.fake.post_requests.get(str(self.post["ts"]), Counter())
        return {"total": sum(counts.values()), **dict(counts)}

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop()
        await self.fake.stop()


async def bench_slack(rates: Sequence[int], seconds: float, tmp: Path) -> PlatformResult:
    result = PlatformResult("slack")
    qotd, bare = SlackSide("qotd", tmp), SlackSide("bare", tmp)
    try:
        await qotd.start()
        await bare.start()
        assert qotd.post is not None
        post_ts = str(qotd.post["ts"])
        result.notes.append(_buttons_note(len(qotd.buttons)))
        for rate in rates:
            stream = make_stream(int(rate * seconds), seed=rate)
            b_ack, b_reply, _, _ = await bare.drive(stream, rate, post_ts, qotd.buttons)
            ack, reply, over, extra = await qotd.drive(stream, rate, post_ts, qotd.buttons)
            extra["summary"] = _mix_text(stream) + _cpu_text(qotd.cpu_per, bare.cpu_per)
            if set(extra["statuses"]) != {200}:
                extra["summary"] += f"; HTTP statuses {dict(extra['statuses'])}"
            result.rates.append(RateResult(rate, len(stream), ack, reply, b_ack, b_reply,
                                           over, extra))
            await asyncio.sleep(1.0)
        await _react_and_count(result, qotd)
    finally:
        await bare.stop()
        await qotd.stop()
    return result


# -- the bare libraries (child processes) --------------------------------------------------


async def bare_discord() -> None:
    """A minimal discord.py client answering every interaction with a fixed reply."""
    import discord
    import yarl

    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    client = discord.Client(intents=discord.Intents.default())

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
    await stop.wait()
    await client.close()
    with contextlib.suppress(BaseException):
        await task


async def bare_slack() -> None:
    """A minimal slack-bolt AsyncApp in HTTP mode on aiohttp: ack, then a fixed reply."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    token = os.environ["SLACK_BOT_TOKEN"]
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"],
                   client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]))

    @app.command(re.compile(".*"))
    async def command(ack: Any, respond: Any) -> None:
        await ack()
        await respond("ok")

    @app.action(re.compile(".*"))
    async def action(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="ok", response_type="ephemeral", replace_original=False)

    @app.event("reaction_added")
    async def reaction() -> None:
        return None

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["SLACK_PORT"])).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# -- the core's share, profiled ------------------------------------------------------------


async def profile_core(size: float, count: int, top: int, only: str = "") -> None:
    """The stream's mix straight through Core.handle_command / handle_button (no adapter,
    no network) on bench/dataset.py's year of a server at `size`, under cProfile: the
    core's CPU per interaction and where it goes."""
    import cProfile
    import pstats

    from bench.dataset import PLATFORM, WORKSPACE, Spec, build
    from bot.boundary import Actor, ButtonInput, ChannelRef, CommandInput, vote_action
    from bot.cli_core import prepare as prepare_core
    from bot.clock import FakeClock
    from bot.heap import freeze_startup_heap
    from bot.settings import CoreSettings

    spec = Spec.of_size(size)
    with tempfile.TemporaryDirectory(prefix="qotd-bench16-profile-") as tmp_dir, \
            tempfile.TemporaryDirectory(prefix="qotd-empty-bank-") as bank_dir:
        url = f"sqlite+aiosqlite:///{Path(tmp_dir) / 'profile.db'}"
        data, _ = await build(url, spec)
        core = await prepare_core(CoreSettings(database_url=url, bank_dir=bank_dir),
                                  clock=FakeClock(spec.now), use_scheduler=False)
        from adapters.console.outbound import ConsoleOutbound

        core.router.register(PLATFORM, ConsoleOutbound())
        await core.start()
        choice = [(c, p) for c, p in sorted(data.open_posts.items())
                  if data.choice_of[p] in "ABCD"]
        channel_pk, post_id = choice[0]
        ref = ChannelRef(PLATFORM, WORKSPACE, f"c{channel_pk:03}")
        members = [u for u in range(1, spec.members + 1)][:MEMBERS]

        def item(step: Step) -> tuple[str, Any]:
            u = members[step.member % len(members)]
            actor = Actor(f"u{u}", f"Member {u}")
            if step.kind == "vote":
                return "vote", ButtonInput(actor, ref, vote_action(post_id, "ABC"[step.pick % 3]),
                                           f"m{post_id}")
            if step.kind in ("status", "stats"):
                return step.kind, CommandInput("qotd", actor, ref, subcommand=step.kind)
            return step.kind, CommandInput(step.kind, actor, ref)

        items = [item(s) for s in make_stream(count, seed=16) if not only or s.kind == only]
        for _, inp in items[:50]:  # warm: caches, first names stored, statements compiled
            await (core.handle_button(inp) if isinstance(inp, ButtonInput)
                   else core.handle_command(inp))
        freeze_startup_heap()
        # kind -> (wall, the loop thread's CPU, the process's CPU), no profiler
        plain: dict[str, list[tuple[float, float, float]]] = {}
        for kind, inp in items:
            t, c, p = time.perf_counter(), time.thread_time(), time.process_time()
            if isinstance(inp, ButtonInput):
                await core.handle_button(inp)
            else:
                await core.handle_command(inp)
            plain.setdefault(kind, []).append((time.perf_counter() - t, time.thread_time() - c,
                                               time.process_time() - p))
        per_kind: dict[str, list[float]] = {}
        profiler = cProfile.Profile()
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        profiler.enable()
        for kind, inp in items:
            t = time.perf_counter()
            if isinstance(inp, ButtonInput):
                await core.handle_button(inp)
            else:
                await core.handle_command(inp)
            per_kind.setdefault(kind, []).append(time.perf_counter() - t)
        profiler.disable()
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - wall_started
        await core.stop()
    print(f"core only, {len(items)} interactions of {only or 'the mix'} on bench/dataset.py --size {size:g} "
          f"({spec.members:,} members, {spec.attempts:,} attempts, {spec.questions:,} "
          f"questions), SQLite, one at a time:")
    every = [x for triples in plain.values() for x in triples]
    print(f"  without the profiler (first pass): wall {statistics.mean(x[0] for x in every) * 1000:.2f}"
          f" ms, CPU {statistics.mean(x[2] for x in every) * 1000:.2f} ms per interaction (of "
          f"which the event loop's thread {statistics.mean(x[1] for x in every) * 1000:.2f} ms)")
    for kind, triples in sorted(plain.items(), key=lambda kv: -statistics.mean(x[0] for x in kv[1])):
        walls = [x[0] for x in triples]
        print(f"    {kind:<12} n={len(triples):<5} wall mean {statistics.mean(walls) * 1000:6.2f}"
              f" p99 {pct(walls, 0.99) * 1000:6.2f} ms, CPU mean "
              f"{statistics.mean(x[2] for x in triples) * 1000:6.2f} ms (loop "
              f"{statistics.mean(x[1] for x in triples) * 1000:6.2f} ms)")
    print(f"  under cProfile (second pass): CPU {cpu / len(items) * 1000:.2f} ms per interaction "
          f"(all threads), wall {wall / len(items) * 1000:.2f} ms")
    for kind, times in sorted(per_kind.items(), key=lambda kv: -statistics.mean(kv[1])):
        print(f"    {kind:<12} n={len(times):<5} mean {statistics.mean(times) * 1000:6.2f} ms  "
              f"p99 {pct(times, 0.99) * 1000:6.2f} ms")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative")
    print("  cumulative, ours (bot/, storage/):")
    _print_ours(stats, top, ("/bot/", "/storage/"))
    stats.sort_stats("tottime")
    print("  own time, anything:")
    _print_ours(stats, top, ("",))


def _print_ours(stats: Any, top: int, wanted: tuple[str, ...]) -> None:
    shown = 0
    for func in stats.fcn_list:  # sorted by the last sort_stats
        filename, line, name = func
        if not any(w in filename for w in wanted) or ("/.venv/" in filename and wanted != ("",)):
            continue
        _, nc, tt, ct, _ = stats.stats[func]
        where = filename.split("/work/main/")[-1].split("site-packages/")[-1]
        print(f"    {ct:7.3f} s cum {tt:7.3f} s own {nc:7d} calls  {where}:{line} {name}")
        shown += 1
        if shown >= top:
            break


# -- main ----------------------------------------------------------------------------------


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


async def run(platforms: Sequence[str], rates: Sequence[int], seconds: float) -> int:
    runners: dict[str, Callable[[Sequence[int], float, Path], Awaitable[PlatformResult]]] = {
        "discord": bench_discord, "slack": bench_slack}
    misses = 0
    print(f"interaction bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average {load_average()}; rates {', '.join(map(str, rates))}/s for "
          f"{seconds:g} s each; latencies in ms")
    for platform in platforms:
        with contextlib.ExitStack() as stack:
            if os.environ.get("BENCH_KEEP"):  # keep the databases and the children's logs
                tmp_dir = tempfile.mkdtemp(prefix="qotd-bench16-")
                print(f"  (files in {tmp_dir})")
            else:
                tmp_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="qotd-bench16-"))
            started = time.perf_counter()
            result = await runners[platform](rates, seconds, Path(tmp_dir))
            misses += print_platform(result)
            print(f"  ({time.perf_counter() - started:.0f} s; load average {load_average()})")
            sys.stdout.flush()
    print(f"{misses} goal(s) missed")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per rate")
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--platforms", default="discord,slack")
    parser.add_argument("--profile-core", action="store_true",
                        help="profile the core's share (Core.handle_*) on bench/dataset.py's set")
    parser.add_argument("--size", type=float, default=0.05, help="--profile-core's data set size")
    parser.add_argument("--count", type=int, default=2000, help="--profile-core's interactions")
    parser.add_argument("--only", default="", help="--profile-core: one kind of the mix")
    parser.add_argument("--child", choices=["bare-discord", "bare-slack"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "bare-discord":
        asyncio.run(bare_discord())
        return 0
    if args.child == "bare-slack":
        asyncio.run(bare_slack())
        return 0
    os.environ.setdefault("QOTD_CONFIG", str(ROOT / "bench" / "absent-qotd.toml"))
    if args.profile_core:
        asyncio.run(profile_core(args.size, args.count, 25, args.only))
        return 0
    seconds = args.seconds if args.seconds is not None else (5.0 if args.quick else SECONDS)
    rates = [int(x) for x in args.rates.split(",") if x]
    platforms = [p for p in args.platforms.split(",") if p]
    asyncio.run(run(platforms, rates, seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
