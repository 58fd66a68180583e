"""Issue 12's table in one command: the million-attempt data set (bench/dataset.py), then
every row of the table next to its plain-SQL / raw-driver baseline in the same run, each
figure with its ratio, the goal and PASS/MISS.

    .venv/bin/python bench/million.py [--size 1.0] [--backend sqlite|postgresql|both]
                                      [--reactions 2000] [--budget 20]

- reactions/s through Core.handle_reaction (each a new attempt by a member on another
  channel's open post), against the raw driver doing the equivalent writes, one
  transaction each: the joined post lookup, the user upsert, the reaction insert and the
  attempt upsert. SQLite at the app's own durability (WAL, and the synchronous level read
  from the app's engine: FULL); PostgreSQL through asyncpg. The two sides run in ten
  alternating rounds (which goes first swaps each round), after a warm-up of each, so
  the page cache, WAL growth and the machine's load drift fall on both alike;
- /leaderboard in a channel (week, month, all) and scope:workspace through
  Core.handle_command, p50/p99, against the plain GROUP BY (points summed per member,
  ties by the earliest first answer, LIMIT 10) through the raw driver. "Never slower
  than the GROUP BY" is judged on the board's own read (the ranked totals statement
  that takes the GROUP BY's place, `board_read`); the command's ratio is printed beside
  it (it adds a unit of work, the place, the shown members' streaks and the rendering,
  which no command can do in the 0.5-2 ms of a one-channel GROUP BY). Every board runs
  once before the reactions, so the week and month periods (migration 0005) exist and
  every reaction pays their triggers; that first board's time (it makes the period) is
  printed under its row;
- /qotd post and /qotd status against one SELECT of the pickable bank;
- `qotd --help` against `python -c pass` (bench/cli.py's timing when it is there);
- burst (SQLite): 20 reactions at once (asyncio.gather) against one at a time.

Each timed case runs until `--reactions` are done, or for up to `--budget` seconds of
samples (at least 3); p99 of fewer than 100 samples is their maximum. `--backend both`
(the default) runs PostgreSQL when QOTD_TEST_DATABASE_URL is set, in a fresh schema that
is dropped at the end. The bank directory is empty, so the bank sync keeps the 20,000
generated questions stored.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402
from dataset import PLATFORM, WORKSPACE, DataSet, Spec  # noqa: E402
from sqlalchemy import text  # noqa: E402

from adapters.console.outbound import ConsoleOutbound  # noqa: E402
from bot.boundary import Actor, ChannelRef, CommandInput, ReactionInput  # noqa: E402
from bot.cli_core import prepare  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.heap import freeze_startup_heap  # noqa: E402
from bot.rules.ranking import PERIOD_KEPT, period_start  # noqa: E402
from bot.settings import CoreSettings  # noqa: E402

ADMIN = Actor("u0", "Bench Admin", is_admin=True)
BURST = 20
GOAL_MS = 20.0
CLI_GOAL_MS = 150.0


@dataclass
class Row:
    what: str
    figure: str
    baseline: str
    ratio: str
    goal: str
    ok: bool | None

    def line(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: ""}[self.ok]
        return (f"  {self.what:<38} {self.figure:>22}  {self.baseline:>24}  {self.ratio:>12}"
                f"  {self.goal:<34} {verdict}")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def timed(work: Callable[[], Awaitable[Any]], budget: float, most: int = 200
                ) -> list[float]:
    """Milliseconds per call: at least 3 calls, at most `most`, stopping after `budget` s."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < 3 or (len(samples) < most and time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def timed_sync(work: Callable[[], Any], budget: float, most: int = 200) -> list[float]:
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < 3 or (len(samples) < most and time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        work()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


# -- the raw side --------------------------------------------------------------------------

REACT_LOOKUP = ("SELECT p.id FROM posts p JOIN channels c ON c.id = p.channel_pk "
                "WHERE c.platform = {0} AND c.workspace_id = {1} AND c.channel_id = {2} "
                "AND p.message_id = {3}")
USER_UPSERT = ("INSERT INTO users (platform, workspace_id, user_id, display_name, updated_at) "
               "VALUES ({0}, {1}, {2}, {3}, {4}) ON CONFLICT (platform, workspace_id, user_id) "
               "DO UPDATE SET display_name = excluded.display_name, "
               "updated_at = excluded.updated_at RETURNING id")
REACTION_INSERT = ("INSERT INTO reactions (post_id, user_pk, key, added_at) "
                   "VALUES ({0}, {1}, {2}, {3}) ON CONFLICT (post_id, user_pk, key) DO NOTHING")
ATTEMPT_UPSERT = ("INSERT INTO attempts (post_id, user_pk, choice, signal, peeked_before, "
                  "after_reveal, correct, points, first_at, updated_at) "
                  "VALUES ({0}, {1}, {2}, NULL, FALSE, FALSE, {3}, {4}, {5}, {6}) "
                  "ON CONFLICT (post_id, user_pk) DO UPDATE SET choice = excluded.choice, "
                  "correct = excluded.correct, points = excluded.points, "
                  "updated_at = excluded.updated_at")
BOARD_SQL = ("SELECT a.user_pk, sum(a.points) AS total, min(a.first_at) AS first "
             "FROM attempts a JOIN posts p ON p.id = a.post_id "
             "WHERE p.channel_pk IN ({channels}) AND p.status = 'sent'{since} "
             "GROUP BY a.user_pk ORDER BY total DESC, first ASC LIMIT 10")
BANK_SQL = ("SELECT id, topic, difficulty FROM questions WHERE status = 'ready' "
            "AND retired = {false} AND id = group_key")


def _q(sql: str, postgres: bool) -> str:
    marks = [f"${i}" for i in range(1, 10)] if postgres else ["?"] * 9
    return sql.format(*marks)


class RawSqlite:
    def __init__(self, path: str, synchronous: int) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(f"PRAGMA synchronous={synchronous}")
        self.con.execute("PRAGMA foreign_keys=ON")

    def react(self, channel_id: str, message_id: str, user_id: str, key: str,
              now: datetime) -> None:
        at = now.replace(tzinfo=None).isoformat(" ", "microseconds")
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        (post_id,) = con.execute(_q(REACT_LOOKUP, False),
                                 (PLATFORM, WORKSPACE, channel_id, message_id)).fetchone()
        (user_pk,) = con.execute(_q(USER_UPSERT, False),
                                 (PLATFORM, WORKSPACE, user_id, f"Member {user_id}", at)
                                 ).fetchone()
        con.execute(_q(REACTION_INSERT, False), (post_id, user_pk, key, at))
        con.execute(_q(ATTEMPT_UPSERT, False), (post_id, user_pk, key, 1, 1.0, at, at))
        con.execute("COMMIT")

    def board(self, channels: list[int], since: datetime | None) -> list[Any]:
        sql = BOARD_SQL.format(channels=", ".join(map(str, channels)),
                               since="" if since is None else " AND a.first_at >= ?")
        args = () if since is None else (since.replace(tzinfo=None).isoformat(" "),)
        return self.con.execute(sql, args).fetchall()

    def bank(self) -> list[Any]:
        return self.con.execute(BANK_SQL.format(false=0)).fetchall()

    def close(self) -> None:
        self.con.close()


class RawPostgres:
    def __init__(self, con: Any) -> None:
        self.con = con

    async def react(self, channel_id: str, message_id: str, user_id: str, key: str,
                    now: datetime) -> None:
        con = self.con
        async with con.transaction():
            post_id = await con.fetchval(_q(REACT_LOOKUP, True), PLATFORM, WORKSPACE,
                                         channel_id, message_id)
            user_pk = await con.fetchval(_q(USER_UPSERT, True), PLATFORM, WORKSPACE, user_id,
                                         f"Member {user_id}", now)
            await con.execute(_q(REACTION_INSERT, True), post_id, user_pk, key, now)
            await con.execute(_q(ATTEMPT_UPSERT, True), post_id, user_pk, key, True, 1.0,
                              now, now)

    async def board(self, channels: list[int], since: datetime | None) -> list[Any]:
        sql = BOARD_SQL.format(channels=", ".join(map(str, channels)),
                               since="" if since is None else " AND a.first_at >= $1")
        args = () if since is None else (since,)
        return list(await self.con.fetch(sql, *args))

    async def bank(self) -> list[Any]:
        return list(await self.con.fetch(BANK_SQL.format(false="false")))


# -- the run ---------------------------------------------------------------------------------


class Pool:
    """(channel id, message id, user id, key) of reactions that make a NEW attempt: a
    member on the open post of a channel other than their home, handed out once each."""

    def __init__(self, data: DataSet) -> None:
        spec = data.spec
        self.items: list[tuple[str, str, str, str]] = []
        for offset in range(1, spec.channels):
            for u in range(1, spec.members + 1):
                home = (u - 1) % spec.channels + 1
                c = (home - 1 + offset) % spec.channels + 1
                post = data.open_posts[c]
                self.items.append((f"c{c:03}", f"m{post}", f"u{u}", data.choice_of[post]))
        self.next = 0

    def take(self, n: int) -> list[tuple[str, str, str, str]]:
        taken = self.items[self.next:self.next + n]
        if len(taken) < n:
            raise SystemExit(f"the data set has only {len(self.items)} fresh reactions; "
                             "use a larger --size or fewer --reactions")
        self.next += n
        return taken

    def left(self) -> int:
        return len(self.items) - self.next


def reaction_of(item: tuple[str, str, str, str]) -> ReactionInput:
    channel_id, message_id, user_id, key = item
    return ReactionInput(Actor(user_id, f"Member {user_id[1:]}"),
                         ChannelRef(PLATFORM, WORKSPACE, channel_id), message_id, key, True)


async def attempts(raw: Any) -> int:
    """The attempts stored, read on the raw side (the timed reactions must each make one)."""
    if isinstance(raw, RawPostgres):
        return int(await raw.con.fetchval("SELECT count(*) FROM attempts"))
    return int(raw.con.execute("SELECT count(*) FROM attempts").fetchone()[0])


def add(rows: list[Row], row: Row) -> None:
    """Keep the row for the table at the end, and show it at once (a full run is long)."""
    rows.append(row)
    print(row.line(), flush=True)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def ms(samples: list[float]) -> str:
    return f"p50 {pct(samples, 0.5):.1f} p99 {pct(samples, 0.99):.1f} ms"


async def run_backend(backend: str, url: str, spec: Spec, args: argparse.Namespace
                      ) -> list[Row]:
    postgres = backend == "postgresql"
    data, _ = await dataset.build(url, spec)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="qotd-empty-bank-") as bank_dir:
        settings = CoreSettings(database_url=url, bank_dir=bank_dir)
        core = await prepare(settings, clock=FakeClock(spec.now), use_scheduler=False)
        outbound = ConsoleOutbound(prefix="bench-")
        core.router.register(PLATFORM, outbound)
        await core.start()
        raw: Any
        if postgres:
            raw = RawPostgres(await dataset.pg_connection(url))
            durability = "asyncpg, commit per reaction"
        else:
            from sqlalchemy import text

            from storage.engine import make_engine

            engine = make_engine(url)
            async with engine.connect() as conn:
                level = int((await conn.execute(text("PRAGMA synchronous"))).scalar_one())
                mode = str((await conn.execute(text("PRAGMA journal_mode"))).scalar_one())
            await engine.dispose()
            raw = RawSqlite(dataset.sqlite_path(url), level)
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            durability = f"journal_mode={mode}, synchronous={names.get(level, level)}"
        print(f"[{backend}] app connection: {durability}; the raw driver uses the same")
        try:
            pool = Pool(data)
            # as `qotd run` does once started (bot.heap): the start-up heap out of the
            # collector's full passes, and with it the bench's own memory (the generated
            # year and the pool of reactions to send, a million tuples), which the bot does
            # not have: left in, every full collection walked it, 20-200 ms in some
            # command's p99
            freeze_startup_heap()
            n = min(args.reactions, pool.left() // 4)
            # 0. every board once first: the week and month boards make their periods
            # (migration 0005), whose triggers every reaction below then pays for
            member = Actor("u1", "Member 1")
            home = ChannelRef(PLATFORM, WORKSPACE, "c001")
            first_ms: dict[tuple[str, str], float] = {}
            for scope in ("channel", "workspace"):
                for period in ("week", "month", "all"):
                    command = CommandInput("leaderboard", member, home,
                                           options={"period": period, "scope": scope})
                    t0 = time.perf_counter()
                    assert await core.handle_command(command), command
                    first_ms[(scope, period)] = (time.perf_counter() - t0) * 1000
            # 1. reactions per second, the app and the raw driver in alternating rounds
            # (which goes first swaps each round), so page cache, WAL growth and the
            # machine's load drift fall on both sides alike
            now = spec.now
            for item in pool.take(10):  # warm both sides (connections, caches)
                await core.handle_reaction(reaction_of(item))
            for channel_id, message_id, user_id, key in pool.take(10):
                if postgres:
                    await raw.react(channel_id, message_id, user_id, key, now)
                else:
                    raw.react(channel_id, message_id, user_id, key, now)
            stored = await attempts(raw)
            app_s = raw_s = 0.0
            rounds = 10
            for round_ in range(rounds):
                size = n // rounds + (1 if round_ < n % rounds else 0)
                app_items, raw_items = pool.take(size), pool.take(size)
                for side in ((0, 1) if round_ % 2 == 0 else (1, 0)):
                    t0 = time.perf_counter()
                    if side == 0:
                        for item in app_items:
                            await core.handle_reaction(reaction_of(item))
                        app_s += time.perf_counter() - t0
                        continue
                    for channel_id, message_id, user_id, key in raw_items:
                        if postgres:
                            await raw.react(channel_id, message_id, user_id, key, now)
                        else:
                            raw.react(channel_id, message_id, user_id, key, now)
                    raw_s += time.perf_counter() - t0
            made = await attempts(raw) - stored
            assert made == 2 * n, f"{made} attempts stored for {n} reactions on each side"
            ratio = raw_s / app_s
            want = 0.5 if postgres else 1 / 3
            add(rows, Row(f"reactions/s ({n:,} new attempts)", rate(n, app_s),
                            f"raw {rate(n, raw_s)}", f"{ratio:.2f} of raw",
                            f">= {'1/2' if postgres else '1/3'} of raw", ratio >= want))
            # 2. burst (SQLite, as in the issue; PostgreSQL shown for information)
            b = max(BURST, min(10 * BURST, pool.left() // (2 * BURST) * BURST))
            items = pool.take(b)
            t0 = time.perf_counter()
            for item in items:
                await core.handle_reaction(reaction_of(item))
            one_s = time.perf_counter() - t0
            items = pool.take(b)
            t0 = time.perf_counter()
            for start in range(0, b, BURST):
                await asyncio.gather(*(core.handle_reaction(reaction_of(i))
                                       for i in items[start:start + BURST]))
            burst_s = time.perf_counter() - t0
            ratio = one_s / burst_s
            add(rows, Row(f"burst: {BURST} at once ({b} reactions)", rate(b, burst_s),
                            f"one at a time {rate(b, one_s)}", f"{ratio:.2f}x",
                            ">= 1x one at a time" if not postgres else "(issue: SQLite)",
                            ratio >= 1.0 if not postgres else None))
            # 3. leaderboards
            all_channels = list(range(1, spec.channels + 1))
            for scope in ("channel", "workspace"):
                for period in ("week", "month", "all"):
                    command = CommandInput("leaderboard", member, home,
                                           options={"period": period, "scope": scope})
                    replies = await core.handle_command(command)  # warm, and a sanity check
                    assert replies, command
                    app = await timed(lambda c=command: core.handle_command(c), args.budget)
                    since = period_start(period, now, "UTC")  # type: ignore[arg-type]
                    pks = [1] if scope == "channel" else all_channels
                    if postgres:
                        base = await timed(lambda p=pks, s=since: raw.board(p, s), args.budget)
                    else:
                        base = timed_sync(lambda p=pks, s=since: raw.board(p, s), args.budget)
                    read = await board_read(core, scope, period, now, args.budget)
                    same = await session_group_by(core, pks, since, postgres, args.budget)
                    p99, b50, r50 = pct(app, 0.99), pct(base, 0.5), pct(read, 0.5)
                    s50 = pct(same, 0.5)
                    add(rows, Row(f"/leaderboard {scope} {period} (n={len(app)})", ms(app),
                                    f"GROUP BY raw {b50:.1f}, same driver {s50:.1f}, "
                                    f"read {r50:.1f} ms",
                                    f"{r50 / s50:.2f}x same, {r50 / b50:.2f}x raw, "
                                    f"cmd {pct(app, 0.5) / b50:.1f}x",
                                    f"p99 <= {GOAL_MS:.0f} ms, read <= SQL",
                                    p99 <= GOAL_MS and r50 <= s50))
                    if period != "all":  # the period's first board, which made it
                        made = first_ms[(scope, period)]
                        add(rows, Row(f"  first {period} board (makes the period)",
                                      f"{made:.1f} ms", f"GROUP BY p50 {pct(base, 0.5):.1f} ms",
                                      f"{made / pct(base, 0.5):.1f}x SQL",
                                      "(once per period and scope)", None))
            # 4. /qotd status and /qotd post with the whole bank
            if postgres:
                base = await timed(raw.bank, args.budget)
            else:
                base = timed_sync(raw.bank, args.budget)
            b50 = pct(base, 0.5)
            for sub in ("status", "post"):
                command = CommandInput("qotd", ADMIN, home, subcommand=sub)
                app = await timed(lambda c=command: core.handle_command(c), args.budget,
                                  most=50 if sub == "post" else 200)
                add(rows, Row(f"/qotd {sub} ({spec.questions:,} q, n={len(app)})", ms(app),
                                f"1 SELECT p50 {b50:.1f} ms",
                                f"{pct(app, 0.5) / b50:.1f}x SELECT",
                                f"p99 <= {GOAL_MS:.0f} ms", pct(app, 0.99) <= GOAL_MS))
            posted = len(outbound.posts())
            assert posted >= 3, f"/qotd post sent {posted} posts"
        finally:
            if postgres:
                await raw.con.close()
            else:
                raw.close()
            await core.stop()
            gc.unfreeze()
    return rows


async def board_read(core: Any, scope: str, period: str, now: datetime, budget: float
                     ) -> list[float]:
    """The board's own read, the statement that takes the GROUP BY's place (the period's
    or the all-time totals, ranked, with the caller's tie group), timed in one open unit
    of work as the raw driver's GROUP BY is on its open connection. The command adds its
    unit of work, the place lookup, the shown members' streaks, the caller's name and the
    rendering to it."""
    async with core.db.uow() as uow:
        q = uow.queries
        place = await q.board_place(PLATFORM, WORKSPACE, "c001", "u1",
                                    workspace=scope == "workspace")
        since = period_start(period, now, place.zone)  # type: ignore[arg-type]
        if since is None:
            ws = (PLATFORM, WORKSPACE) if scope == "workspace" else None
            here = None if ws else place.here_pk
            return await timed(lambda: q.board_all_time(here, ws, place.caller_pk, 10,
                                                         tie_group=False), budget)
        key = (PLATFORM, WORKSPACE, 0 if scope == "workspace" else place.here_pk)
        period_id = await q.live_period(key, since, since + PERIOD_KEPT[period], now)
        assert period_id is not None, "the command made the period"
        return await timed(lambda: q.board_of_period(period_id, place.caller_pk, 10,
                                                    tie_group=False), budget)


async def session_group_by(core: Any, pks: list[int], since: datetime | None,
                           postgres: bool, budget: float) -> list[float]:
    """The plain GROUP BY through the app's own driver (SQLAlchemy's async session, one
    open unit of work), as `board_read` is timed: the board's read against the GROUP BY it
    replaces, on equal terms. The raw driver's GROUP BY is printed beside it: the gap
    between the two is the async driver's cost per statement (aiosqlite's thread hop,
    asyncpg through SQLAlchemy), which every statement pays, whatever it reads."""
    sql = BOARD_SQL.format(channels=", ".join(map(str, pks)),
                           since="" if since is None else " AND a.first_at >= :since")
    params: dict[str, Any] = {} if since is None else {
        "since": since if postgres else since.replace(tzinfo=None).isoformat(" ")}
    statement = text(sql)
    async with core.db.uow() as uow:
        session = uow.session
        return await timed(lambda: session.execute(statement, params), budget)


def cli_rows(runs: int) -> list[Row]:
    """bench/cli.py's timing (fresh processes alternated with `python -c pass`, bytecode
    compiled once, as an installed copy runs after its first start)."""
    import cli as bench_cli  # bench/cli.py

    floor, helped = bench_cli.help_against_floor(runs)
    return [Row(f"qotd --help (median of {runs})", f"{helped.median_ms:.0f} ms",
                f"python -c pass {floor.median_ms:.0f} ms",
                f"{helped.median_ms / floor.median_ms:.1f}x",
                f"<= {CLI_GOAL_MS:.0f} ms", helped.median_ms <= CLI_GOAL_MS)]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu unknown"


def show(backend: str, rows: list[Row]) -> None:
    print(f"[{backend}]")
    print(Row("what", "figure", "baseline, same run", "ratio", "goal", None).line())
    for row in rows:
        print(row.line())
    sys.stdout.flush()


async def main_async(args: argparse.Namespace) -> int:
    spec = Spec.of_size(args.size)
    print(f"issue 12 bench: size {args.size} = {spec.attempts:,} attempts (target) by "
          f"{spec.members:,} members over {spec.days} days in {spec.channels} channels, "
          f"{spec.questions:,} questions; {os.cpu_count()} cores ({cpu_model()}), "
          f"load average {os.getloadavg()[0]:.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    results: dict[str, list[Row]] = {}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="qotd-million-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'million.db'}"
            results["sqlite"] = await run_backend("sqlite", url, spec, args)
    base = os.environ.get("QOTD_TEST_DATABASE_URL")
    if args.backend in ("postgresql", "both"):
        if not base:
            message = "PostgreSQL skipped: QOTD_TEST_DATABASE_URL is not set"
            if args.backend == "postgresql":
                print(message, file=sys.stderr)
                return 2
            print(message)
        else:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            await dataset.pg_schema(base, True, schema)
            try:
                sep = "&" if "?" in base else "?"
                results["postgresql"] = await run_backend(
                    "postgresql", f"{base}{sep}schema={schema}", spec, args)
            finally:
                await dataset.pg_schema(base, False, schema)
    results["command line"] = cli_rows(args.cli_runs)
    print()
    for backend, rows in results.items():
        show(backend, rows)
    every = [r.ok for rows in results.values() for r in rows if r.ok is not None]
    print(f"\n{sum(every)} of {len(every)} goals met "
          f"(load average at the end {os.getloadavg()[0]:.1f})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=1.0,
                        help="1.0 = the million-attempt set; 0.01 for a quick run")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--reactions", type=int, default=1000,
                        help="reactions timed on each side (fewer if the set is small)")
    parser.add_argument("--budget", type=float, default=8.0,
                        help="seconds of samples per timed command, at most")
    parser.add_argument("--cli-runs", type=int, default=15)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
