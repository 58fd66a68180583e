"""Leaderboard figures (issue 12): the service's /leaderboard next to the plain GROUP BY.

    .venv/bin/python bench/leaderboard.py [--million] [--size 0.05] [--before] [--budget 3]

Builds the data set of bench/dataset.py (the real schema, rows written with the raw
driver) at `--size` (default 0.05: 50,000 attempts by 1,000 members in 3 channels;
`--million` is size 1: 1,000,000 attempts by 20,000 members over 365 days in 50
channels), then for channel and workspace scope and week, month and all time prints the
p50/p99 of bot.service.standings.leaderboard (ranking, the caller's rank and the shown
streaks included) next to the plain SQL a hand-written board would send through the raw
driver (sum and min per member, GROUP BY, ORDER BY points, LIMIT 10), and their ratio.

`--before` first times the code at git HEAD (`git show HEAD:bot/service/standings.py`)
on the schema of migration 0002 (the new indexes dropped), then restores the indexes.
PostgreSQL runs too when QOTD_TEST_DATABASE_URL is set (a fresh schema, dropped after).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402
from dataset import PLATFORM, WORKSPACE, Spec  # noqa: E402

from bot.boundary import Actor, ChannelRef, CommandInput  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.rules.ranking import period_start  # noqa: E402
from bot.service import standings  # noqa: E402
from bot.service.deps import Deps  # noqa: E402
from bot.settings import CoreSettings  # noqa: E402
from storage.uow import Database  # noqa: E402

GOAL_MS = 20.0
CASES = [(s, p) for s in ("channel", "workspace") for p in ("week", "month", "all")]
NEW_INDEXES = ("ix_attempts_board", "ix_attempts_user")

PLAIN = """
SELECT a.user_pk, u.user_id, u.display_name, sum(a.points) AS pts, min(a.first_at)
FROM attempts a JOIN posts p ON p.id = a.post_id JOIN users u ON u.id = a.user_pk
WHERE p.channel_pk IN ({pks}) AND p.status = 'sent' {since}
GROUP BY a.user_pk, u.user_id, u.display_name ORDER BY pts DESC LIMIT 10
"""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(work: Callable[[], Awaitable[Any]], budget: float, most: int = 300) -> list[float]:
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < 3 or (time.perf_counter() < deadline and len(samples) < most):
        t0 = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def head_standings() -> ModuleType:
    """bot/service/standings.py as committed at HEAD (the code before this change)."""
    source = subprocess.run(["git", "show", "HEAD:bot/service/standings.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="qotd-head-")) / "standings_head.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("standings_head", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Plain:
    """The hand-written board through the raw driver."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite")
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None

    async def open(self) -> None:
        if self.postgres:
            self.pg = await dataset.pg_connection(self.url)
        else:
            self.sqlite = sqlite3.connect(dataset.sqlite_path(self.url))

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.sqlite is not None:
            self.sqlite.close()

    async def board(self, pks: list[int], since: datetime | None) -> list[Any]:
        cond = "" if since is None else (
            "AND a.first_at >= $1" if self.postgres else "AND a.first_at >= ?")
        sql = PLAIN.format(pks=",".join(str(p) for p in pks), since=cond)
        if self.postgres:
            return list(await self.pg.fetch(sql, *([since] if since else [])))
        assert self.sqlite is not None
        args = [] if since is None else [dataset._sqlite_time(since)]
        return self.sqlite.execute(sql, args).fetchall()

    async def ddl(self, statements: list[str]) -> None:
        for sql in statements:
            if self.postgres:
                await self.pg.execute(sql)
            else:
                assert self.sqlite is not None
                self.sqlite.execute(sql)
                self.sqlite.commit()
        if self.postgres:
            await self.pg.execute("ANALYZE")
        else:
            assert self.sqlite is not None
            self.sqlite.execute("ANALYZE")
            self.sqlite.commit()


OLD_SCHEMA = [*(f"DROP INDEX {name}" for name in NEW_INDEXES), "DROP INDEX ix_posts_channel_status",
              "CREATE INDEX ix_posts_channel_status ON posts (channel_pk, status)"]
NEW_SCHEMA = ["DROP INDEX ix_posts_channel_status",
              "CREATE INDEX ix_posts_channel_status ON posts "
              "(channel_pk, status, posted_at, id, day)",
              "CREATE INDEX ix_attempts_board ON attempts (post_id, first_at, user_pk, points)",
              "CREATE INDEX ix_attempts_user ON attempts (user_pk, post_id, first_at)"]


async def run_backend(url: str, spec: Spec, args: argparse.Namespace) -> None:
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    await dataset.build(url, spec)
    db = Database(url)
    clock = FakeClock(spec.now)
    with tempfile.TemporaryDirectory(prefix="qotd-bank-") as bank_dir:
        deps = Deps(db=db, router=cast(Any, None), clock=clock,
                    settings=CoreSettings(database_url=url, bank_dir=bank_dir))
        plain = Plain(url)
        await plain.open()
        member = Actor("u1", "Member 1")
        home = ChannelRef(PLATFORM, WORKSPACE, "c001")
        everything = list(range(1, spec.channels + 1))
        try:
            before: dict[tuple[str, str], list[float]] = {}
            if args.before:
                old = head_standings()
                await plain.ddl(OLD_SCHEMA)
                for scope, period in CASES:
                    command = CommandInput("leaderboard", member, home,
                                           options={"period": period, "scope": scope})
                    before[(scope, period)] = await timed(
                        lambda c=command: old.leaderboard(deps, c), args.budget, most=20)
                await plain.ddl(NEW_SCHEMA)
            print(f"\n[{backend}] {spec.attempts:,} attempts, {spec.members:,} members, "
                  f"{spec.channels} channels; p50 / p99 in ms")
            print(f"  {'board':<20} {'service':>17} {'plain GROUP BY':>17} {'ratio p50':>10}"
                  f" {'ratio p99':>10}  {'before (HEAD, 0002)':>20}  goal")
            for scope, period in CASES:
                command = CommandInput("leaderboard", member, home,
                                       options={"period": period, "scope": scope})
                reply = await standings.leaderboard(deps, command)
                if args.before:  # the same board, line for line
                    assert reply == await old.leaderboard(deps, command), (scope, period)
                app = await timed(lambda c=command: standings.leaderboard(deps, c), args.budget)
                since = period_start(period, spec.now, "UTC")  # type: ignore[arg-type]
                pks = [1] if scope == "channel" else everything
                base = await timed(lambda p=pks, s=since: plain.board(p, s), args.budget)
                a50, a99, b50, b99 = pct(app, .5), pct(app, .99), pct(base, .5), pct(base, .99)
                was = before.get((scope, period))
                was_text = f"{pct(was, .5):8.1f} / {pct(was, .99):8.1f}" if was else "-"
                ok = a99 <= GOAL_MS and a50 <= b50
                print(f"  {scope + ' ' + period:<20} {a50:7.1f} / {a99:7.1f} {b50:7.1f} / "
                      f"{b99:7.1f} {a50 / b50:9.2f}x {a99 / b99:9.2f}x  {was_text:>20}  "
                      f"{'PASS' if ok else 'MISS'} (p99 <= {GOAL_MS:.0f} ms, p50 <= SQL)")
        finally:
            await plain.close()
            await db.dispose()


async def pg_schema(base: str, schema: str, create: bool) -> None:
    con = await dataset.pg_connection(base)
    try:
        await con.execute(f'CREATE SCHEMA "{schema}"' if create
                          else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await con.close()


async def main_async(args: argparse.Namespace) -> int:
    spec = Spec.of_size(1.0 if args.million else args.size)
    if not args.pg_only:
        with tempfile.TemporaryDirectory(prefix="qotd-board-") as tmp:
            await run_backend(f"sqlite+aiosqlite:///{tmp}/bench.db", spec, args)
    base = os.environ.get("QOTD_TEST_DATABASE_URL", "")
    if base and not args.sqlite_only:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        await pg_schema(base, schema, True)
        try:
            sep = "&" if "?" in base else "?"
            await run_backend(f"{base}{sep}schema={schema}", spec, args)
        finally:
            await pg_schema(base, schema, False)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=0.05, help="fraction of the million set")
    parser.add_argument("--million", action="store_true", help="the million-attempt set")
    parser.add_argument("--before", action="store_true",
                        help="also time git HEAD's standings on the 0002 indexes")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of samples per case")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
