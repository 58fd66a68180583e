"""The million-attempt data set (issue 12), generated through the real schema.

    .venv/bin/python bench/dataset.py [--size 1.0] [--db URL]     # prints the counts and times

`--size 1` (the default) is a server that has used qotd for a year: 1,000,000 attempts by
20,000 members over 365 days in 50 channels of one workspace, plus a bank of 20,000
questions. Smaller sizes scale members, attempts, channels and questions (the year stays).

The schema is the real one (storage.migrate.upgrade), the rows are written with the raw
driver (sqlite3 executemany in one transaction, asyncpg copy_records_to_table), and they
are what the core itself would have stored:
- 365 days ending on Saturday 2027-01-30 (so week and month boards hold 6 and 30 days);
  channels scheduled daily at 09:00 UTC (every day of the week), `draws` and `cycle`
  matching their posts, `next_slot_at` the next day's slot;
- questions as a bank sync stores them (`data` is Question.model_dump(mode="json")),
  70 % multiple choice with a correct letter, the rest open; topics and difficulties mixed;
- one sent post per channel per day, numbered 1..365 in cycle 1 with distinct questions,
  a message id, posted at the slot, revealed 8 h later, except the last day's posts,
  which are still open (the bench reacts on those);
- members whose home is one channel, with activity skewed (some answer most days, some
  rarely), so streaks and week/month boards look like a real server;
- for each attempt its reaction (the letter, or yes/no on open questions) and the attempt
  the rules compute from it (bot.rules.scoring: correct, points), first_at within the
  reveal window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.rules.scoring import AttemptFacts, is_correct, points
from content.model import Question, SourceRef
from storage.queries import REBUILD_TOTALS

PLATFORM = "console"
WORKSPACE = "bench"
FIRST_DAY = date(2026, 1, 31)  # the last day is Saturday 2027-01-30: a 6-day week, 30-day month
SLOT_HOUR = 9
REVEAL = timedelta(hours=8)
TOPICS = [f"Topic {i:02}" for i in range(24)]
DIFFICULTIES: list[str | None] = ["easy", "medium", "hard", None]


@dataclass(frozen=True)
class Spec:
    members: int
    attempts: int
    channels: int
    days: int
    questions: int
    seed: int = 12

    @staticmethod
    def of_size(size: float, seed: int = 12) -> Spec:
        return Spec(
            members=max(40, round(20_000 * size)),
            attempts=max(1_000, round(1_000_000 * size)),
            channels=max(2, round(50 * size)),
            days=365,
            questions=max(800, round(20_000 * size)),
            seed=seed,
        )

    @property
    def last_day(self) -> date:
        return FIRST_DAY + timedelta(days=self.days - 1)

    @property
    def now(self) -> datetime:
        """The bench's clock: the last day, 12:00 UTC (its posts open, revealed at 17:00)."""
        return datetime.combine(self.last_day, datetime.min.time(), UTC) + timedelta(hours=12)


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class DataSet:
    spec: Spec
    tables: list[Table]
    open_posts: dict[int, int]  # channel pk -> its last (open) post id
    choice_of: dict[int, str]  # open post id -> a valid answer key for it

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def count(self, name: str) -> int:
        return len(self.table(name).rows)


def _slot(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=SLOT_HOUR)


def _question(i: int, rng: random.Random) -> Question:
    topic = TOPICS[i % len(TOPICS)]
    difficulty = DIFFICULTIES[(i // len(TOPICS)) % len(DIFFICULTIES)]
    source = SourceRef(file="bench/generated.yaml", line=i + 1)
    if i % 10 < 7:
        choices = tuple(f"Option {c} of question {i}" for c in "ABCD")
        return Question(id=f"qb{i:07}", prompt=f"Generated question {i} about {topic}?",
                        kind="choice", choices=choices, correct="ABCD"[rng.randrange(4)],
                        explanation="Because the generator said so.",
                        difficulty=difficulty, topic=topic, source=source)  # type: ignore[arg-type]
    return Question(id=f"qb{i:07}", prompt=f"Explain generated idea {i} about {topic}.",
                    answer="A reference answer of a couple of sentences, as banks have.",
                    difficulty=difficulty, topic=topic, source=source)  # type: ignore[arg-type]


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def generate(spec: Spec, *, sqlite: bool = False) -> DataSet:
    """The rows; with `sqlite`, the big tables' times and flags already in SQLite's form
    (the loader converts only what is left: dates, JSON, the small tables)."""
    stamp: Any = _sqlite_time if sqlite else (lambda value: value)
    no, yes = (0, 1) if sqlite else (False, True)
    rng = random.Random(spec.seed)
    synced = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) - timedelta(days=1)
    questions = [_question(i, rng) for i in range(spec.questions)]
    q_table = Table("questions", ("id", "status", "topic", "difficulty", "kind", "group_key",
                                  "retired", "data", "synced_at"))
    for q in questions:
        q_table.rows.append((q.id, q.status, q.topic, q.difficulty, q.kind, q.id, False,
                             q.model_dump(mode="json"), synced))

    c_table = Table("channels", ("id", "platform", "workspace_id", "channel_id", "scheduled",
                                 "paused", "post_time", "timezone", "days", "reveal_hours",
                                 "active_since", "next_slot_at", "admin_user_id", "cycle",
                                 "draws", "include_topics", "exclude_topics",
                                 "difficulty_weights", "created_at"))
    for c in range(1, spec.channels + 1):
        c_table.rows.append((c, PLATFORM, WORKSPACE, f"c{c:03}", True, False, "09:00", "UTC",
                             "mon,tue,wed,thu,fri,sat,sun", None, _slot(FIRST_DAY),
                             _slot(spec.last_day + timedelta(days=1)), "u0", 1, spec.days,
                             [], [], None, synced))

    u_table = Table("users", ("id", "platform", "workspace_id", "user_id", "display_name",
                              "updated_at"))
    for u in range(1, spec.members + 1):
        u_table.rows.append((u, PLATFORM, WORKSPACE, f"u{u}", f"Member {u}", synced))

    # members live in one home channel; activity weights 1..20 (skewed: most are rare)
    home: dict[int, list[int]] = {c: [] for c in range(1, spec.channels + 1)}
    weight: dict[int, int] = {}
    for u in range(1, spec.members + 1):
        home[(u - 1) % spec.channels + 1].append(u)
        weight[u] = min(20, 1 + int(rng.expovariate(1 / 4)))
    per_post = spec.attempts / (spec.channels * spec.days)

    p_table = Table("posts", ("id", "channel_pk", "day", "status", "number", "cycle",
                              "question_id", "slot_at", "claimed_at", "send_due_at",
                              "send_token", "send_attempts", "message_id", "posted_at",
                              "reveal_at", "reveal_due_at", "reveal_token", "reveal_attempts",
                              "revealed_at", "reveal_message_id", "reveal_error"))
    r_table = Table("reactions", ("id", "post_id", "user_pk", "key", "added_at"))
    a_table = Table("attempts", ("id", "post_id", "user_pk", "choice", "signal", "grade",
                                 "graded_at", "peeked_before", "after_reveal", "correct",
                                 "points", "first_at", "updated_at"))
    open_posts: dict[int, int] = {}
    choice_of: dict[int, str] = {}
    post_id = 0
    attempt_id = 0
    scored: dict[tuple[str, str | None, str | None, str | None, str | None], tuple[Any, float]]
    scored = {}
    for c in range(1, spec.channels + 1):
        members = home[c]
        counts = [weight[u] for u in members]
        bank = rng.sample(range(spec.questions), spec.days)  # distinct within the cycle
        for n in range(spec.days):
            post_id += 1
            day = FIRST_DAY + timedelta(days=n)
            slot = _slot(day)
            last = n == spec.days - 1
            q = questions[bank[n]]
            revealed = None if last else slot + REVEAL
            p_table.rows.append((post_id, c, day, "sent", n + 1, 1, q.id, slot, slot, None,
                                 1, 1, f"m{post_id}", slot, slot + REVEAL,
                                 slot + REVEAL if last else None, 0 if last else 1,
                                 0 if last else 1, revealed,
                                 None if last else f"r{post_id}", None))
            if last:
                open_posts[c] = post_id
                choice_of[post_id] = q.correct if q.kind == "choice" and q.correct else "yes"
            k = min(len(members), max(0, round(rng.gauss(per_post, per_post / 4))))
            window = (REVEAL if not last else timedelta(hours=3)).total_seconds()
            chosen: set[int] = set()
            while len(chosen) < k:  # weighted, without replacement: exactly k members
                chosen.update(rng.sample(members, k - len(chosen), counts=counts))
            for u in sorted(chosen):
                at = slot + timedelta(seconds=rng.uniform(1, window))
                if q.kind == "choice":
                    assert q.correct is not None
                    choice = q.correct if rng.random() < 0.6 else "ABCD"[rng.randrange(4)]
                    signal, key = None, choice
                else:
                    choice, signal = None, "yes" if rng.random() < 0.7 else "no"
                    key = signal
                combo = (q.kind, q.difficulty, choice, q.correct, signal)
                if combo not in scored:
                    facts = AttemptFacts(kind=q.kind, difficulty=q.difficulty, choice=choice,
                                         correct=q.correct, signal=signal,  # type: ignore[arg-type]
                                         peeked_before=False, after_reveal=False)
                    scored[combo] = (is_correct(facts), points(facts))
                correct, earned = scored[combo]
                if sqlite and correct is not None:
                    correct = yes if correct else no
                attempt_id += 1
                when = stamp(at)
                r_table.rows.append((attempt_id, post_id, u, key, when))
                a_table.rows.append((attempt_id, post_id, u, choice, signal, None, None, no,
                                     no, correct, earned, when, when))
    tables = [q_table, c_table, u_table, p_table, r_table, a_table]
    return DataSet(spec, tables, open_posts, choice_of)


# -- loading ---------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite types store: naive UTC text with microseconds, ISO dates,
    0/1 booleans, JSON text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _pg_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _converted(rows: Sequence[tuple[Any, ...]], convert: Any) -> Iterator[tuple[Any, ...]]:
    """Only the columns that need it are converted (a per-column plan from the rows)."""
    width = len(rows[0]) if rows else 0
    plain = {type(None), int, float, str} if convert is _sqlite_value else {
        type(None), int, float, str, bool, datetime, date}
    needs = [i for i in range(width)
             if any(type(row[i]) not in plain for row in rows[:200])]
    if not needs:
        yield from rows
        return
    for row in rows:
        out = list(row)
        for i in needs:
            out[i] = convert(out[i])
        yield tuple(out)


def sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


def load_sqlite(path: str, data: DataSet) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        # the load only: durability off for this connection, the named secondary indexes
        # dropped and re-created from their own SQL afterwards (the same schema, built once)
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("BEGIN")
        names = [t.name for t in data.tables]
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(names))})", names).fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        # the board totals' triggers (migration 0004) likewise: dropped for the load,
        # re-created, and the totals summed once from the loaded attempts
        triggers = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            con.execute(f'DROP TRIGGER "{name}"')
        for table in data.tables:
            marks = ", ".join("?" * len(table.columns))
            con.executemany(f"INSERT INTO {table.name} ({', '.join(table.columns)}) "
                            f"VALUES ({marks})", _converted(table.rows, _sqlite_value))
        for _, sql in indexes:
            con.execute(sql)
        for _, sql in triggers:
            con.execute(sql)
        for sql in REBUILD_TOTALS:
            con.execute(sql)
        con.execute("COMMIT")
        con.execute("ANALYZE")
    finally:
        con.close()


def pg_connect_args(url: str) -> tuple[str, str | None]:
    """(a plain asyncpg DSN, the schema) from a project URL with our `?schema=`."""
    from storage.engine import normalize_url, split_schema

    parsed, schema = split_schema(normalize_url(url))
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return dsn, schema


async def pg_connection(url: str) -> Any:
    import asyncpg

    dsn, schema = pg_connect_args(url)
    settings = {"jit": "off"}  # as the app's own connections (storage.engine)
    if schema:
        settings["search_path"] = schema
    return await asyncpg.connect(dsn, server_settings=settings)


async def pg_schema(base: str, create: bool, schema: str) -> None:
    """Create, or drop with everything in it, the benchmark's own PostgreSQL schema."""
    con = await pg_connection(base)
    try:
        if create:
            await con.execute(f'CREATE SCHEMA "{schema}"')
        else:
            await con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await con.close()


async def load_postgres(url: str, data: DataSet) -> None:
    con = await pg_connection(url)
    try:
        async with con.transaction():
            # the load only: the secondary indexes (not the constraints' own) dropped and
            # re-created from their definitions, and, when the role may, the foreign-key
            # triggers skipped for this transaction (the rows are consistent by construction)
            indexes = await con.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                "current_schema() AND indexname NOT IN (SELECT conname FROM pg_constraint)")
            for index in indexes:
                await con.execute(f'DROP INDEX "{index["indexname"]}"')
            try:
                async with con.transaction():
                    await con.execute("SET LOCAL session_replication_role = replica")
            except Exception:  # not a superuser: the checks run, the load is slower
                pass
            # the board totals' trigger (migration 0004) is off for the load (the owner
            # may do that); the totals are summed once from the loaded attempts below
            await con.execute("ALTER TABLE attempts DISABLE TRIGGER USER")
            for table in data.tables:
                await con.copy_records_to_table(
                    table.name, columns=list(table.columns),
                    records=list(_converted(table.rows, _pg_value)),
                )
            for table in data.tables:  # the ids were given: move the sequences past them
                if table.name != "questions":
                    await con.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
            for index in indexes:
                await con.execute(index["indexdef"])
            await con.execute("ALTER TABLE attempts ENABLE TRIGGER USER")
            for sql in REBUILD_TOTALS:
                await con.execute(sql)
        await con.execute("ANALYZE")
    finally:
        await con.close()


# filled above, or empty in a real year too (kept only for moments: strays, peeks, grades)
KNOWN_TABLES = {"questions", "channels", "users", "posts", "reactions", "attempts",
                "stray_reactions", "peeks", "grades", "alembic_version",
                "board_channel_totals", "board_workspace_totals",  # summed from attempts
                "board_periods", "board_period_totals"}  # made when a board asks


async def _tables(url: str) -> list[str]:
    if url.startswith("sqlite"):
        con = sqlite3.connect(sqlite_path(url))
        try:
            return [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")]
        finally:
            con.close()
    pg = await pg_connection(url)
    try:
        return [r[0] for r in await pg.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")]
    finally:
        await pg.close()


async def build(url: str, spec: Spec, *, quiet: bool = False) -> tuple[DataSet, dict[str, float]]:
    """Migrate an EMPTY database at `url` to the latest schema and fill it."""
    from storage.migrate import upgrade

    times: dict[str, float] = {}
    started = time.perf_counter()
    data = generate(spec, sqlite=url.startswith("sqlite"))
    times["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    await upgrade(url)
    times["migrate"] = time.perf_counter() - started
    started = time.perf_counter()
    if url.startswith("sqlite"):
        await asyncio.to_thread(load_sqlite, sqlite_path(url), data)
    else:
        await load_postgres(url, data)
    times["load"] = time.perf_counter() - started
    unknown = sorted(set(await _tables(url)) - KNOWN_TABLES)
    if unknown:  # a later migration added a table this generator does not fill
        print(f"WARNING: the schema has tables the data set leaves empty: {', '.join(unknown)}")
    if not quiet:
        counts = ", ".join(f"{t.name} {len(t.rows):,}" for t in data.tables)
        print(f"data set: {counts}; generated in {times['generate']:.1f} s, migrated in "
              f"{times['migrate']:.1f} s, loaded in {times['load']:.1f} s")
    return data, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=1.0)
    parser.add_argument("--db", help="an EMPTY database URL (default: a new temporary SQLite)")
    args = parser.parse_args()
    spec = Spec.of_size(args.size)
    if args.db:
        asyncio.run(build(args.db, spec))
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qotd-dataset-") as tmp:
        asyncio.run(build(f"sqlite+aiosqlite:///{Path(tmp) / 'million.db'}", spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
