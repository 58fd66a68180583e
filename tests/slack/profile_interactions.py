"""HTTP 200 latency, reply latency and CPU per interaction on the Slack path, through the
fake with the real slack-bolt app (HTTP mode) and the real core on SQLite (not a test; a
measuring tool).

    .venv/bin/python -m tests.slack.profile_interactions [--rate 50] [--seconds 4]
        [--kind slash|button|mix] [--profile] [--top 25]

It schedules the channel (buttons mode), lets the core post today's question, then
injects signed slash commands (`/qotd status`, `/leaderboard`) and presses of the post's
vote buttons at `--rate` per second through `FakeSlack.inject`, and prints p50/p95/p99/
max of the HTTP 200 and of the reply's arrival (response_url), the users.info calls and
the process CPU per interaction. `--profile` runs the stream under cProfile and prints
the top entries by own time, split into the adapter (adapters/slack), the core (bot/,
storage/, content/) and the rest. bench/interactions.py is the issue's benchmark; this
is the adapter's own loupe.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import START
from tests.slack.fake_slack import Interaction
from tests.slack.harness import CHANNEL, bot_on_slack, say


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:<8} n={len(ms):<5} p50={_pct(ms, .5):7.1f} ms  p95={_pct(ms, .95):7.1f} ms  "
            f"p99={_pct(ms, .99):7.1f} ms  max={max(ms, default=float('nan')):7.1f} ms  "
            f"mean={statistics.fmean(ms) if ms else float('nan'):7.1f} ms")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with bot_on_slack(Path(tmp), "http", kind="choice") as (core, slack):
            fake = slack.fake
            users = [f"UBENCH{n:04d}" for n in range(200)]
            for user in users:
                fake.add_user(user, user.lower())
            fake.enforce_tier("users.info")
            await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
            await core.advance_to(START.replace(hour=9, minute=5))
            [post] = fake.channel_posts(CHANNEL)
            [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
            buttons = actions["elements"]
            count = int(args.rate * args.seconds)
            stream: list[Interaction] = []
            for n in range(count):
                user = users[n % len(users)]
                slash = args.kind == "slash" or (args.kind == "mix" and n % 2 == 0)
                if slash:
                    text = "status" if n % 4 == 0 else ""
                    command = "/qotd" if text else "/leaderboard"
                    stream.append(fake.command_request(command, text, user=user, channel=CHANNEL))
                else:
                    button = buttons[n % len(buttons)]
                    stream.append(fake.press_request(user=user, channel=CHANNEL,
                                                     value=button["value"],
                                                     message_ts=post["ts"],
                                                     action_id=button["action_id"]))
            profiler = cProfile.Profile() if args.profile else None
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            done = await fake.inject(slack.events_url, stream, rate=args.rate)
            missing = await fake.wait_replies(done, within=30)
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            acks = [d.ack_latency for d in done if d.ack_latency is not None]
            replies = [d.reply_latency for d in done if d.reply_latency is not None]
            print(f"{args.kind} at {args.rate:g}/s for {args.seconds:g} s: {count} requests, "
                  f"statuses {sorted({d.status for d in done}, key=str)}, "
                  f"{missing} without a reply")
            print(_row("HTTP 200", acks))
            print(_row("reply", replies))
            print(f"past 3 s: ack {sum(a > 3 for a in acks)}, reply {sum(r > 3 for r in replies)}")
            print(f"users.info calls {len(fake.calls_to('users.info', ok_only=False))}, "
                  f"429s {fake.rate_limited['users.info']}")
            print(f"CPU {cpu:.2f} s over {wall:.2f} s wall: {cpu / count * 1000:.2f} ms "
                  "per interaction (the fake and the injector included)")
            if profiler is not None:
                _report(profiler, args.top)


def _report(profiler: cProfile.Profile, top: int) -> None:
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    groups: dict[str, float] = {}
    for (path, _, _), v in raw.items():
        part = _group(path)
        groups[part] = groups.get(part, 0.0) + v[2]
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    print("own time by part: " + ", ".join(f"{k} {v / total:.0%}" for k, v in ranked))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"(bot|storage|content|adapters)/", top)
    print(out.getvalue())


def _group(path: str) -> str:
    """Which part of the process a function belongs to, by its file."""
    if "/adapters/slack/" in path:
        return "adapter"
    if any(f"/main/{p}/" in path for p in ("bot", "storage", "content")):
        return "core"
    if "/tests/slack/" in path:
        return "fake/injector"
    for lib in ("slack_bolt", "slack_sdk", "aiohttp", "sqlalchemy", "aiosqlite", "markdown_it",
                "asyncio", "sqlite3"):
        if f"/{lib}/" in path:
            return lib
    return "rest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--kind", choices=("slash", "button", "mix"), default="mix")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
