"""Figures for the two paths that grow with use: picking from a large bank, and posting
plus recording reactions through the real core on SQLite. Bounded loops, no network.

    .venv/bin/python bench/run.py [--channels 200] [--reactions 10000] [--bank-size 1000]

The posting engine under the platforms' rate limits, and start-up at 10,000 channels:
bench/engine.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.console.outbound import ConsoleOutbound
from bot.boundary import Actor, ChannelRef, CommandInput, ReactionInput
from bot.cli_core import prepare
from bot.clock import FakeClock
from bot.rules.picking import Candidate, pick
from bot.settings import CoreSettings

ADMIN = Actor("bench-admin", "Bench Admin", is_admin=True)


def bench_picking(size: int) -> None:
    topics = [f"topic{i}" for i in range(12)]
    levels = ["easy", "medium", "hard", None]
    bank = [Candidate(f"q{i:05}", topics[i % 12], levels[i % 4]) for i in range(size)]
    asked: set[str] = set()
    last: str | None = None
    started = time.perf_counter()
    for draw in range(size):  # one full cycle: every question once
        chosen = pick(bank, asked, last, seed="bench", draw=draw,
                      difficulty_weights={"easy": 1, "medium": 2, "hard": 1}).candidate
        asked.add(chosen.key)
        last = chosen.topic
    elapsed = time.perf_counter() - started
    assert len(asked) == size
    print(f"picking: {size} picks over a {size}-question bank (a full cycle) in "
          f"{elapsed:.2f} s = {size / elapsed:,.0f} picks/s")


async def bench_core(channels: int, reactions: int) -> None:
    with tempfile.TemporaryDirectory(prefix="qotd-bench-") as tmp:
        settings = CoreSettings(database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        clock = FakeClock(datetime(2027, 1, 4, 9, tzinfo=UTC))
        started = time.perf_counter()
        core = await prepare(settings, clock=clock, use_scheduler=False)
        outbound = ConsoleOutbound()
        core.router.register("console", outbound)
        await core.start()
        print(f"core: migrate + bank sync in {time.perf_counter() - started:.2f} s")
        try:
            refs = [ChannelRef("console", "bench", f"c{i}") for i in range(channels)]
            started = time.perf_counter()
            for ref in refs:
                await core.handle_command(CommandInput("qotd", ADMIN, ref, subcommand="post"))
            elapsed = time.perf_counter() - started
            posts = outbound.posts()
            assert len(posts) == channels, f"{len(posts)} posts for {channels} channels"
            print(f"core: posted to {channels} channels in {elapsed:.2f} s "
                  f"= {channels / elapsed:,.0f} posts/s")
            users = max(1, reactions // channels)
            started = time.perf_counter()
            done = 0
            for post in posts:
                assert post.message is not None
                key = post.message.choices[0].key if post.message.choices else "yes"
                for u in range(users):
                    if done == reactions:
                        break
                    actor = Actor(f"u{u}", f"User {u}")
                    await core.handle_reaction(
                        ReactionInput(actor, post.channel, post.message_id, key, True)
                    )
                    done += 1
            elapsed = time.perf_counter() - started
            print(f"core: recorded {done} reactions ({users} users x {channels} posts) in "
                  f"{elapsed:.2f} s = {done / elapsed:,.0f} reactions/s")
        finally:
            await core.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--reactions", type=int, default=10_000)
    parser.add_argument("--bank-size", type=int, default=1000)
    args = parser.parse_args()
    bench_picking(args.bank_size)
    asyncio.run(bench_core(args.channels, args.reactions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
