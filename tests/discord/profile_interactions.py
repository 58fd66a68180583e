"""Ack latency and CPU per interaction on the Discord path, through the fake with the
real discord.py client and the real core on SQLite (not a test; a measuring tool).

    .venv/bin/python -m tests.discord.profile_interactions [--rate 50] [--seconds 4]
        [--defer-after 0] [--concurrency 8] [--kind slash|button|mix] [--profile] [--top 25]

It schedules the channel, lets the core post today's question, then injects slash
commands (`/qotd status`, `/leaderboard`) and presses of the post's answer buttons at
`--rate` per second, and prints p50/p95/p99/max of the ack (injection -> interaction
callback) and of the first visible reply, the requests the post cost, and the process CPU
per interaction. `--profile` runs the stream under cProfile and prints the top entries by
own time, split into ours-in-the-adapter, the core (bot/, storage/, content/) and the rest.
bench/interactions.py is the issue's benchmark; this is the adapter's own loupe.
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

import discord

from tests.discord.conftest import Stack, choice_question, open_question
from tests.discord.fake_discord import FakeDiscord


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
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = FakeDiscord()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(fake, Path(tmp), [choice_question(), open_question()])
        try:
            extra = {} if args.concurrency is None else {"core_concurrency": args.concurrency}
            await stack.up(defer_after=args.defer_after, **extra)
            post = await stack.post_question()
            post_id = int(post["id"])
            buttons = [c["custom_id"] for row in post.get("components") or []
                       for c in row["components"] if c.get("custom_id")]
            if not buttons:  # a core without answer buttons yet: give the post some
                buttons = [f"qotd:vote:1:{k}" for k in "ABC"]
                fake.messages[post_id]["components"] = [{"type": 1, "components": [
                    {"type": 2, "style": 2, "label": b[-1], "custom_id": b} for b in buttons]}]
            fake.record_requests = False
            users = [fake.user(f"member{i}") for i in range(200)]
            total = int(args.rate * args.seconds)
            profiler = cProfile.Profile() if args.profile else None
            cpu0, wall0 = time.process_time(), time.monotonic()
            if profiler is not None:
                profiler.enable()
            iids: list[tuple[str, int]] = []
            start = time.monotonic()
            for n in range(total):
                user = users[n % len(users)]
                kind = args.kind if args.kind != "mix" else ("button" if n % 2 else "slash")
                if kind == "slash":
                    payload = (fake.slash("qotd", user, subcommand="status") if n % 4 < 2
                               else fake.slash("leaderboard", user))
                else:
                    payload = fake.button(buttons[n % len(buttons)], fake.messages[post_id], user)
                iids.append((kind, await fake.inject(payload)))
                delay = start + (n + 1) / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await fake.wait_acked([i for _, i in iids], within=60)
            await fake.wait_for(lambda f: all(i in f.replied_at for _, i in iids), within=60)
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            for kind in sorted({k for k, _ in iids}):
                mine = [i for k, i in iids if k == kind]
                print(_row(f"{kind} ack", [fake.ack_latency(i) or 0.0 for i in mine]))
                print(_row(f"{kind} reply", [fake.reply_latency(i) or 0.0 for i in mine]))
            types: dict[int, int] = {}
            for _, i in iids:
                t = int(fake.callbacks[i].get("type", 0))
                types[t] = types.get(t, 0) + 1
            print(f"callback types: {dict(sorted(types.items()))}; past 3 s: "
                  f"{sum(1 for _, i in iids if (fake.ack_latency(i) or 9) > 3)}")
            print(f"post {post_id}: {fake.requests_for_message(post_id)} request(s)")
            print(f"{total} interactions at {args.rate}/s (defer_after={args.defer_after}): "
                  f"process CPU {cpu * 1000 / total:.2f} ms per interaction "
                  f"(fake included), wall {wall:.1f} s")
            if profiler is not None:
                _report(profiler, args.top, total)
        finally:
            await stack.down()
            await fake.stop()
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


def _area(filename: str) -> str:
    for part, area in (("/adapters/discord/", "adapter"), ("/bot/", "core"),
                       ("/storage/", "core"), ("/content/", "core"),
                       ("/tests/discord/", "fake"), ("/discord/", "discord.py"),
                       ("sqlalchemy", "sqlalchemy"), ("aiosqlite", "sqlalchemy"),
                       ("aiohttp", "aiohttp")):
        if part in filename:
            return area
    return "other"


def _report(profiler: cProfile.Profile, top: int, total: int) -> None:
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        area = _area(filename)
        own[area] = own.get(area, 0.0) + tottime
    print("own time by area (ms per interaction): " + ", ".join(
        f"{a} {t * 1000 / total:.2f}" for a, t in sorted(own.items(), key=lambda x: -x[1])))
    for area in ("adapter", "core", "discord.py"):
        rows = sorted(((v[3], v[2], k) for k, v in raw.items() if _area(k[0]) == area),
                      key=lambda r: -r[0])[:top]
        print(f"-- {area}: top by cumulative time (ms per interaction: cumulative, own)")
        for cum, tot, (filename, line, name) in rows:
            short = filename.split("/work/main/")[-1]
            print(f"  {cum * 1000 / total:7.3f} {tot * 1000 / total:7.3f}  {short}:{line} {name}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--defer-after", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="DiscordSettings.core_concurrency (default: the setting's)")
    parser.add_argument("--kind", choices=("slash", "button", "mix"), default="mix")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    if args.defer_after is None:
        from adapters.discord.settings import DiscordSettings
        args.defer_after = DiscordSettings.model_fields["defer_after"].default
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
