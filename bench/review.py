"""Issue 14's review benchmark in one command: due-card selection for one person with
5,000 cards, and the daily nudge run for 20,000 people due at once, each next to its
raw-driver floor, with the query plans (asserted: no full scan of cards, review_logs or
reminders).

    .venv/bin/python bench/review.py [--people 20000] [--cards 5000] [--budget 8]
                                     [--backend sqlite|postgresql|both]

1. The data set, through the app's migrations (storage.migrate.upgrade) and loaded in one
   transaction: one person ("the reviewer") with `--cards` cards, each made by an attempt
   on a sent post (its review log, rated from that attempt) plus four review-session logs,
   so about five logs a card, due times spread over two months either side of now; and
   `--people` people with a reminder due now, each with two cards (one due).
2. **Due-card selection** (what `/review` does before it renders a card): in one unit of
   work `sync_user` (nothing changed: its anti-join from the person's attempts to their
   logs returns no rows), the next due card and the due count, p50/p99; against the same
   SELECT statements, captured at the cursor, sent by the raw driver (sqlite3 / asyncpg)
   with the same parameters. `/review` itself (bot.service.review.start, rendering
   included) is printed beside it.
3. **The nudge run**: `run_due_nudges` for everyone at once through a Core on a FakeClock
   and the console outbound (no network): total and per person; against the raw-SQL
   floor of the same claim done by hand, one person after another: a transaction with
   the compare-and-set on the reminder, the due count and the claim's INSERT, and one
   marking it sent and moving the reminder on (two commits a person: the least an
   exactly-once claim before a send can write).
4. The EXPLAIN plans of those statements (SQLite EXPLAIN QUERY PLAN; PostgreSQL EXPLAIN
   after ANALYZE), taken after the nudge run (the steady state: few reminders due),
   each checked for the index it must use.

SQLite always (a temporary file); PostgreSQL when QOTD_TEST_DATABASE_URL is set, in a
fresh schema dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dataset  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from adapters.console.outbound import ConsoleOutbound  # noqa: E402
from bot.app import build_core  # noqa: E402
from bot.boundary import Actor, ChannelRef, CommandInput  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.service import nudges, review  # noqa: E402
from bot.settings import CoreSettings  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AttemptRow,
    CardRow,
    ChannelRow,
    PostRow,
    QuestionRow,
    ReminderRow,
    ReviewLogRow,
    UserRow,
)
from storage.nudge_repo import nudge_repo  # noqa: E402
from storage.uow import Database  # noqa: E402

NOW = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # 08:30 in Berlin, a Monday
PLATFORM, WORKSPACE = "console", "bench"
REVIEWER = 1  # the user pk of the person with the big queue


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(samples: list[float]) -> str:
    return f"{pct(samples, 0.5):.2f} / {pct(samples, 0.99):.2f} ms"


async def timed(work: Callable[[], Awaitable[Any]], budget: float, most: int = 500
                ) -> list[float]:
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < 5 or (len(samples) < most and time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


# -- the data set ------------------------------------------------------------------------


async def load(db: Database, people: int, cards: int) -> None:
    rng = random.Random(14)
    day = timedelta(days=1)
    async with db.engine.begin() as conn:
        await conn.execute(insert(UserRow), [
            {"id": pk, "platform": PLATFORM, "workspace_id": WORKSPACE, "user_id": f"u{pk}",
             "display_name": f"Person {pk}", "updated_at": NOW}
            for pk in range(1, people + 2)])
        await conn.execute(insert(ChannelRow), [{
            "id": 1, "platform": PLATFORM, "workspace_id": WORKSPACE, "channel_id": "c1",
            "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
            "days": "daily", "cycle": 1, "draws": 0, "include_topics": [],
            "exclude_topics": [], "created_at": NOW - 400 * day}])
        await conn.execute(insert(QuestionRow), [{
            "id": f"q{i}", "status": "ready", "topic": f"Topic {i % 12}", "difficulty": "medium",
            "kind": "open", "group_key": f"q{i}", "retired": False,
            "data": {"id": f"q{i}", "prompt": f"Question {i}?", "answer": "An answer.",
                     "kind": "open", "topic": f"Topic {i % 12}", "difficulty": "medium",
                     "source": {"file": "bench.yaml", "line": i + 1}},
            "synced_at": NOW} for i in range(cards)])
        posted = [NOW - timedelta(minutes=40 * (cards - i)) for i in range(cards)]
        await conn.execute(insert(PostRow), [{
            "id": i + 1, "channel_pk": 1, "day": None, "status": "sent", "number": i + 1,
            "cycle": 1, "question_id": f"q{i}", "claimed_at": posted[i], "posted_at": posted[i],
            "send_token": 1, "send_attempts": 1, "reveal_token": 0, "reveal_attempts": 0}
            for i in range(cards)])
        await conn.execute(insert(AttemptRow), [{
            "id": i + 1, "post_id": i + 1, "user_pk": REVIEWER, "signal": "no",
            "peeked_before": False, "after_reveal": False, "points": 0.0,
            "first_at": posted[i], "updated_at": posted[i]} for i in range(cards)])
        await conn.execute(insert(CardRow), [{
            "id": i + 1, "user_pk": REVIEWER, "group_key": f"q{i}", "question_id": f"q{i}",
            "state": 2, "step": None, "stability": 5.0, "difficulty": 5.0,
            "due": NOW + timedelta(hours=rng.uniform(-60 * 24, 60 * 24)),
            "last_review": posted[i], "reviews": 5, "lapses": 1, "created_at": posted[i],
            "source": "attempt"} for i in range(cards)])
        logs: list[dict[str, Any]] = []
        for i in range(cards):
            logs.append({"card_id": i + 1, "attempt_id": i + 1, "attempt_updated_at": posted[i],
                         "source": "attempt", "rating": 1, "reviewed_at": posted[i]})
            logs += [{"card_id": i + 1, "attempt_id": None, "attempt_updated_at": None,
                      "source": "review", "rating": rng.randint(1, 4),
                      "reviewed_at": posted[i] + k * day} for k in range(1, 5)]
        await conn.execute(insert(ReviewLogRow), logs)
        others = range(REVIEWER + 1, people + 2)
        # ids given, as above (a PostgreSQL sequence does not count the loaded ones)
        await conn.execute(insert(CardRow), [{
            "id": cards + 2 * pk + k, "user_pk": pk, "group_key": f"q{k}",
            "question_id": f"q{k}", "state": 2,
            "step": None, "stability": 3.0, "difficulty": 5.0,
            "due": NOW - day if k == 0 else NOW + 3 * day, "last_review": NOW - 2 * day,
            "reviews": 1, "lapses": 0, "created_at": NOW - 2 * day, "source": "added"}
            for pk in others for k in (0, 1)])
        await conn.execute(insert(ReminderRow), [{
            "user_pk": pk, "local_time": "08:30", "timezone": "Europe/Berlin",
            "next_at": NOW, "updated_at": NOW - day} for pk in others])
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            await conn.exec_driver_sql("ANALYZE")
        else:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")


# -- statements as the app sends them ------------------------------------------------------


class Captured:
    """Every statement the app's engine sends while active, with its parameters."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sent: list[tuple[str, Any]] = []

    def _grab(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        self.sent.append((statement, parameters))

    def __enter__(self) -> Captured:
        event.listen(self.db.engine.sync_engine, "before_cursor_execute", self._grab)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", self._grab)

    def find(self, *markers: str) -> tuple[str, Any]:
        return [s for s in self.sent if all(m in s[0] for m in markers)][-1]


class Raw:
    """The raw driver on the same database: sqlite3 at the app's durability, or one
    asyncpg connection."""

    def __init__(self, url: str, dialect: str) -> None:
        self.url, self.dialect = url, dialect
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None

    async def open(self) -> None:
        if self.dialect == "sqlite":
            self.sqlite = sqlite3.connect(dataset.sqlite_path(self.url), isolation_level=None)
            self.sqlite.execute("PRAGMA synchronous=FULL")
            self.sqlite.execute("PRAGMA busy_timeout=10000")
        else:
            self.pg = await dataset.pg_connection(self.url)

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def fetch(self, statement: str, parameters: Any) -> list[Any]:
        if self.sqlite is not None:
            return self.sqlite.execute(statement, parameters).fetchall()
        return list(await self.pg.fetch(statement, *parameters))

    async def analyze(self) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("ANALYZE")
        else:
            await self.pg.execute("ANALYZE")

    async def explain(self, statement: str, parameters: Any) -> str:
        if self.sqlite is not None:
            rows = self.sqlite.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(r[-1]) for r in rows)
        rows = await self.pg.fetch("EXPLAIN " + statement, *parameters)
        return "\n".join(str(r[0]) for r in rows)

    async def floor_nudge(self, pk: int, now: datetime, following: datetime) -> None:
        """The least SQL an exactly-once nudge writes: claim (compare-and-set, due
        count, INSERT) in one transaction, then mark sent and move on in another."""
        day = "2027-02-28"  # the floor's own day: the app's claims are untouched
        if self.sqlite is not None:
            c = self.sqlite
            stamp, nxt = _sqlite_time(now), _sqlite_time(following)
            lease = _sqlite_time(now + timedelta(seconds=30))
            c.execute("BEGIN")
            c.execute("UPDATE reminders SET next_at = ? WHERE user_pk = ? AND next_at = ?",
                      (lease, pk, stamp))
            c.execute("SELECT count(*) FROM cards WHERE user_pk = ? AND due <= ?", (pk, stamp))
            nid = c.execute("INSERT INTO nudges (user_pk, day, status, lease_until) VALUES "
                            "(?, ?, 'pending', ?) ON CONFLICT (user_pk, day) DO NOTHING "
                            "RETURNING id", (pk, day, lease)).fetchone()[0]
            c.execute("COMMIT")
            c.execute("BEGIN")
            c.execute("UPDATE nudges SET status = 'sent', message_id = 'x', sent_at = ?, "
                      "lease_until = NULL WHERE id = ? AND lease_until = ?", (stamp, nid, lease))
            c.execute("UPDATE reminders SET next_at = ? WHERE user_pk = ? AND next_at = ?",
                      (nxt, pk, lease))
            c.execute("COMMIT")
            return
        con, lease = self.pg, now + timedelta(seconds=30)
        from datetime import date

        async with con.transaction():
            await con.execute("UPDATE reminders SET next_at = $1 WHERE user_pk = $2 "
                              "AND next_at = $3", lease, pk, now)
            await con.fetchval("SELECT count(*) FROM cards WHERE user_pk = $1 AND due <= $2",
                               pk, now)
            nid = await con.fetchval(
                "INSERT INTO nudges (user_pk, day, status, lease_until) VALUES "
                "($1, $2, 'pending', $3) ON CONFLICT (user_pk, day) DO NOTHING RETURNING id",
                pk, date.fromisoformat(day), lease)
        async with con.transaction():
            await con.execute("UPDATE nudges SET status = 'sent', message_id = 'x', "
                              "sent_at = $1, lease_until = NULL WHERE id = $2 "
                              "AND lease_until = $3", now, nid, lease)
            await con.execute("UPDATE reminders SET next_at = $1 WHERE user_pk = $2 "
                              "AND next_at = $3", following, pk, lease)


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# -- the plans -----------------------------------------------------------------------------

# (name, markers of the statement, the index it must use (any of), tables never scanned)
PLANS: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("sync_user: stale attempts (anti-join to review_logs)", ("review_logs", "attempts"),
     ("ix_attempts_user", "uq_review_logs_attempt_id"), ("review_logs", "attempts")),
    ("next due card", ("FROM cards", "LIMIT"), ("ix_cards_user_due",), ("cards",)),
    ("nudge run: due reminders", ("FROM reminders", "LIMIT", "<="),
     ("ix_reminders_next_at",), ("reminders",)),
    ("due count (the session's and the nudge's)", ("count(*)", "FROM cards"), ("ix_cards_user_due",),
     ("cards",)),
]


def scans(plan: str, table: str) -> bool:
    lines = plan.splitlines()
    full = [line for line in lines if f"SCAN {table}" in line and "INDEX" not in line]
    return bool(full) or f"Seq Scan on {table}" in plan


def _pg_plan_statement(statement: str) -> str:
    return statement


async def check_plans(raw: Raw, captured: Captured) -> list[tuple[str, bool, str]]:
    out = []
    for name, markers, indexes, tables in PLANS:
        try:
            statement, parameters = captured.find(*markers)
        except IndexError:
            out.append((name, False, "(statement not captured)"))
            continue
        plan = await raw.explain(statement, parameters)
        ok = any(ix in plan for ix in indexes) and not any(scans(plan, t) for t in tables)
        out.append((name, ok, plan))
    return out


# -- the run -------------------------------------------------------------------------------


async def run_backend(backend: str, url: str, args: argparse.Namespace) -> list[str]:
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    t0 = time.perf_counter()
    await upgrade(url)
    with tempfile.TemporaryDirectory(prefix="qotd-review-bank-") as bank:
        settings = CoreSettings(database_url=url, bank_dir=bank)
        clock = FakeClock(NOW)
        core = await build_core(settings, clock=clock, use_scheduler=False)
        outbound = ConsoleOutbound()
        core.router.register(PLATFORM, outbound)
        raw = Raw(url, core.db.dialect)
        try:
            await load(core.db, args.people, args.cards)
            say(f"[{backend}] data: 1 reviewer with {args.cards:,} cards and "
                f"{args.cards * 5:,} review logs, {args.people:,} people with reminders; "
                f"loaded in {time.perf_counter() - t0:.1f} s")
            await raw.open()

            async def select_cards() -> int:
                async with core.db.uow() as uow:
                    await review.sync_user(uow, REVIEWER, NOW)
                    await uow.cards.next_due(REVIEWER, NOW)
                    return await uow.cards.due_count(REVIEWER, NOW)

            with Captured(core.db) as captured:
                due_now = await select_cards()
            next_sql = captured.find("FROM cards", "LIMIT")
            count_sql = captured.find("count(*)", "FROM cards", "due <=")
            stale_sql = captured.find("review_logs", "attempts")

            async def raw_select() -> None:
                await raw.fetch(*next_sql)
                await raw.fetch(*count_sql)

            async def raw_with_sync() -> None:
                await raw.fetch(*stale_sql)
                await raw_select()

            command = CommandInput("review", Actor(f"u{REVIEWER}", "Reviewer"),
                                   ChannelRef(PLATFORM, WORKSPACE, "c1"))

            async def slash_review() -> None:
                await review.start(core.deps, command)

            app = await timed(select_cards, args.budget)
            floor = await timed(raw_select, args.budget)
            floor_sync = await timed(raw_with_sync, args.budget)
            start = await timed(slash_review, args.budget)
            say(f"[{backend}] due-card selection ({due_now:,} of {args.cards:,} due), "
                f"p50 / p99:")
            say(f"    app (sync_user + next due + due count, one unit of work) {ms(app)}")
            say(f"    raw driver, the same next-due and count SELECTs          {ms(floor)}"
                f"   ratio {pct(app, 0.5) / pct(floor, 0.5):.1f}x")
            say(f"    raw driver, those plus sync_user's anti-join             {ms(floor_sync)}"
                f"   ratio {pct(app, 0.5) / pct(floor_sync, 0.5):.1f}x")
            say(f"    /review (bot.service.review.start, rendering included)   {ms(start)}")

            # the nudge run's plans need its statements: one person, then put back
            with Captured(core.db) as nudge_captured:
                async with core.db.uow() as uow:
                    await nudge_repo(uow).due(NOW, [PLATFORM], nudges.BATCH)
                await nudges.nudge_one(core.deps, REVIEWER + 1, NOW)
            async with core.db.engine.begin() as conn:
                await conn.execute(text("DELETE FROM nudges"))
                await conn.execute(text("UPDATE reminders SET next_at = :t"), {"t": NOW}
                                   if core.db.dialect == "postgresql"
                                   else {"t": _sqlite_time(NOW)})
            outbound.transcript.clear()
            outbound._sent.clear()

            people = list(range(REVIEWER + 1, args.people + 2))
            following = NOW + timedelta(days=1)
            t1 = time.perf_counter()
            for pk in people:
                await raw.floor_nudge(pk, NOW, following)
            floor_total = time.perf_counter() - t1
            async with core.db.engine.begin() as conn:  # put the reminders back, untimed
                await conn.execute(text("DELETE FROM nudges"))
                await conn.execute(text("UPDATE reminders SET next_at = :t"), {"t": NOW}
                                   if core.db.dialect == "postgresql"
                                   else {"t": _sqlite_time(NOW)})
            t2 = time.perf_counter()
            await nudges.run_due_nudges(core.deps)
            total = time.perf_counter() - t2
            sent = len(outbound.directs())
            say(f"[{backend}] nudge run, {args.people:,} people due at once "
                f"(send_concurrency {settings.send_concurrency}): {sent:,} DMs in "
                f"{total:.2f} s = {total / args.people * 1000:.2f} ms a person")
            say(f"    raw-SQL floor (claim + mark, two commits a person, one after another): "
                f"{floor_total:.2f} s = {floor_total / args.people * 1000:.2f} ms a person; "
                f"ratio {total / floor_total:.1f}x")
            if sent != args.people:
                say(f"    !! expected {args.people} DMs, got {sent}")

            # the plans of the steady state: the run moved every reminder to tomorrow,
            # so a pass finds few due (when all 20,000 are due, as in the run, a
            # sequential scan is PostgreSQL's right choice); statistics fresh
            await raw.analyze()
            say(f"[{backend}] query plans (after the run, statistics fresh):")
            every = captured.sent + nudge_captured.sent
            merged = Captured(core.db)
            merged.sent = every
            for name, ok, plan in await check_plans(raw, merged):
                say(f"  {'PASS' if ok else 'MISS'} {name}")
                for line in plan.splitlines():
                    say(f"        {line}")
        finally:
            await raw.close()
            await core.stop()
    return lines


async def main_async(args: argparse.Namespace) -> int:
    print(f"issue 14 review bench: {args.cards:,} cards, {args.people:,} people; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="qotd-review-") as tmp:
            await run_backend("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'review.db'}", args)
    base = os.environ.get("QOTD_TEST_DATABASE_URL")
    if args.backend in ("postgresql", "both"):
        if not base:
            print("PostgreSQL skipped: QOTD_TEST_DATABASE_URL is not set")
            return 2 if args.backend == "postgresql" else 0
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        await dataset.pg_schema(base, True, schema)
        try:
            sep = "&" if "?" in base else "?"
            await run_backend("postgresql", f"{base}{sep}schema={schema}", args)
        finally:
            await dataset.pg_schema(base, False, schema)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--cards", type=int, default=5_000)
    parser.add_argument("--budget", type=float, default=8.0,
                        help="seconds of samples per timed case, at most")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
