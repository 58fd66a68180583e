"""The answers hot path: one reaction recorded in one storage round.

A reaction is the one write a busy server does thousands of times a day, so it does not
go through the ORM unit of work (identity map, flush, one awaited round per statement).
`record` runs it as one synchronous function over a connection, with the statements
written out (as Core constructs, building them and their cache keys cost more than the
database did): a joined lookup of channel, post and question version, the user upsert,
the reaction insert or delete, the user's facts on the post, the caller's pure decision,
and one attempt upsert (or delete), all in one transaction.

Where that function runs is the backend's business:
- SQLite (a file): in one writer thread with its own connection, begun `IMMEDIATE`, with
  group commit (`_SqliteWriter`). A reaction is one hop off the event loop, reactions
  arriving together queue in the process instead of busy-waiting on SQLite's file lock,
  and a burst shares one fsync.
- PostgreSQL, and SQLite in memory (one shared connection): on the app's async engine
  through `AsyncConnection.run_sync`, each statement one round on the app's own pool.

The caller's rules are sync, pure and cheap (no I/O): they may run in the writer thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.types import stored_utc, to_utc


@dataclass(frozen=True)
class ReactionEvent:
    platform: str
    workspace_id: str
    channel_id: str
    message_id: str
    user_id: str
    display_name: str  # empty: the platform did not say (never replaces a known name)
    key: str
    added: bool
    at: datetime


@dataclass(frozen=True)
class VoteEvent:
    """An answer button pressed (issue 16): the post by its id, which must belong to the
    channel the press came from (the button's value is never trusted)."""

    platform: str
    workspace_id: str
    channel_id: str
    post_id: int
    user_id: str
    display_name: str  # empty: the platform did not say (never replaces a known name)
    key: str
    at: datetime


@dataclass(frozen=True)
class ReactionTarget:
    """The post a reaction is on, with the version of its question (`synced_at` moves at
    every bank sync, so a parsed question cached under it is never stale)."""

    channel_pk: int
    post_id: int
    status: str
    question_id: str | None
    question_synced_at: datetime | None
    revealed_at: datetime | None


@dataclass(frozen=True)
class StoredAttempt:
    choice: str | None
    signal: str | None
    grade: str | None
    graded_at: datetime | None
    peeked_before: bool
    after_reveal: bool
    correct: bool | None
    points: float
    first_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredReaction:
    key: str
    added_at: datetime


class Keep(Enum):
    """The decision "write nothing": the attempt stays as stored."""

    KEEP = "keep"


AttemptWrite = StoredAttempt | Keep | None  # None: delete the attempt


class ReactionRules(Protocol):
    """The service's judgement, called inside the transaction (sync, no I/O)."""

    def accepts(self, target: ReactionTarget, question_data: Callable[[], dict[str, Any]]
                ) -> bool:
        """Whether this reaction counts on this post; `question_data()` reads the stored
        question (call it only when the cached parse is missing)."""
        ...

    def decide(self, target: ReactionTarget, stored: StoredAttempt | None,
               present: Sequence[StoredReaction], peeked_at: datetime | None) -> AttemptWrite:
        ...


class Outcome(Enum):
    NOT_FOUND = "not found"  # no such channel, or no post with that message (yet)
    IGNORED = "ignored"  # not sent, or not an answer key of this post: nothing written
    RECORDED = "recorded"


class VoteOutcome(Enum):
    NOT_FOUND = "not found"  # no such post in this channel: nothing written
    IGNORED = "ignored"  # the rules refused it (not sent, revealed, not a key): nothing
    CHOSEN = "chosen"  # the key is now the member's one vote
    WITHDRAWN = "withdrawn"  # the key was the member's vote: now no vote is left


@dataclass(frozen=True)
class VoteResult:
    outcome: VoteOutcome
    target: ReactionTarget | None = None  # the post (None: NOT_FOUND)
    number: int | None = None  # the post's question number


class VoteRules(ReactionRules, Protocol):
    """The rules of a vote button: those of a reaction, and whether pressing the key
    now withdraws the member's vote (it is their current one) rather than choosing it."""

    def withdraws(self, present: Sequence[StoredReaction]) -> bool: ...


_ATTEMPT_COLUMNS = ("choice", "signal", "grade", "graded_at", "peeked_before", "after_reveal",
                    "correct", "points", "first_at", "updated_at")

# The statements, written out: built as Core constructs, their construction and cache
# keys cost more than the database does (profiled). Placeholders {0}… become `?` on
# SQLite and `$1`… on asyncpg; every table name is unqualified (the PostgreSQL schema is
# the connection's search_path).
_LOOKUP = ("SELECT p.channel_pk, p.id, p.status, p.question_id, q.synced_at, p.revealed_at "
           "FROM channels c JOIN posts p ON p.channel_pk = c.id "
           "LEFT JOIN questions q ON q.id = p.question_id "
           "WHERE c.platform = {0} AND c.workspace_id = {1} AND c.channel_id = {2} "
           "AND p.message_id = {3} LIMIT 1")
_VOTE_LOOKUP = ("SELECT p.channel_pk, p.id, p.status, p.question_id, q.synced_at, p.revealed_at, "
                "p.number FROM channels c JOIN posts p ON p.channel_pk = c.id "
                "LEFT JOIN questions q ON q.id = p.question_id "
                "WHERE c.platform = {0} AND c.workspace_id = {1} AND c.channel_id = {2} "
                "AND p.id = {3} LIMIT 1")
_QUESTION_DATA = "SELECT data FROM questions WHERE id = {0}"
_USER_UPSERT = ("INSERT INTO users (platform, workspace_id, user_id, display_name, updated_at) "
                "VALUES ({0}, {1}, {2}, {3}, {4}) "
                "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET "
                "updated_at = excluded.updated_at{rename} RETURNING id")
_RENAME = ", display_name = excluded.display_name"
_REACTION_ADD = ("INSERT INTO reactions (post_id, user_pk, key, added_at) "
                 "VALUES ({0}, {1}, {2}, {3}) ON CONFLICT (post_id, user_pk, key) DO NOTHING")
_REACTION_REMOVE = "DELETE FROM reactions WHERE post_id = {0} AND user_pk = {1} AND key = {2}"
# a vote button replaces the member's votes on the post: every key of theirs goes first
_REACTIONS_CLEAR = "DELETE FROM reactions WHERE post_id = {0} AND user_pk = {1}"
# The user's facts on the post in one read: a first row with the peek and the attempt
# (NULLs when there is none yet), then the reactions still present, oldest first.
_FACTS = ("SELECT 0 AS part, (SELECT peeked_at FROM peeks WHERE post_id = {0} "
          "AND user_pk = {1}) AS at, NULL AS rid, a.id, "
          + ", ".join(f"a.{c}" for c in _ATTEMPT_COLUMNS)
          + " FROM (SELECT 1 AS one) o LEFT JOIN attempts a "
          "ON a.post_id = {2} AND a.user_pk = {3} "
          "UNION ALL SELECT 1, added_at, id, NULL, key"
          + ", NULL" * (len(_ATTEMPT_COLUMNS) - 1)
          + " FROM reactions WHERE post_id = {4} AND user_pk = {5} "
          "ORDER BY part, at, rid")
_ATTEMPT_UPSERT = ("INSERT INTO attempts (post_id, user_pk, " + ", ".join(_ATTEMPT_COLUMNS)
                   + ") VALUES (" + ", ".join(f"{{{i}}}" for i in range(12)) + ") "
                   "ON CONFLICT (post_id, user_pk) DO UPDATE SET "
                   + ", ".join(f"{c} = excluded.{c}" for c in _ATTEMPT_COLUMNS))
_ATTEMPT_DELETE = "DELETE FROM attempts WHERE post_id = {0} AND user_pk = {1}"


class _Dialect:
    """Placeholders and the column types' conversions, as storage.types and SQLAlchemy's
    SQLite DateTime do them (naive UTC text on SQLite, timestamptz on PostgreSQL), so a
    row written here reads back through the ORM exactly like one written there."""

    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"
        marks = ["?"] * 12 if self.sqlite else [f"${i}" for i in range(1, 13)]
        self.sql = {key: template.format(*marks, rename="{rename}")
                    for key, template in _STATEMENTS.items()}
        self.sql["user_rename"] = self.sql["user"].format(rename=_RENAME)
        self.sql["user"] = self.sql["user"].format(rename="")

    def time_in(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite \
            else value

    def time_out(self, value: Any) -> datetime | None:
        return None if value is None else stored_utc(value)

    def bool_out(self, value: Any) -> bool | None:
        return None if value is None else bool(value)


_STATEMENTS = {
    "lookup": _LOOKUP, "vote_lookup": _VOTE_LOOKUP, "question": _QUESTION_DATA,
    "user": _USER_UPSERT, "react_add": _REACTION_ADD, "react_remove": _REACTION_REMOVE,
    "react_clear": _REACTIONS_CLEAR,
    "facts": _FACTS, "attempt_upsert": _ATTEMPT_UPSERT, "attempt_delete": _ATTEMPT_DELETE,
}
_DIALECTS = {name: _Dialect(name) for name in ("sqlite", "postgresql")}


# PostgreSQL: a round trip is the cost, so the same work takes two statements, not
# five. The lookup also upserts the user (rolled back with the rest when the reaction
# turns out not to count); that upsert always updates the user's row, so its row lock
# serialises one member's concurrent reactions (a vote switch arrives as an add and a
# remove at once) and the facts read after it sees the other's committed write; the reaction write and the read of the user's facts are one
# statement, whose read sees the snapshot from before the write, so the row the insert
# RETURNs is added to it and the row a delete RETURNs is left out of it.
_PG_LOOKUP_USER = (
    "WITH p AS (" + _LOOKUP.format("$1", "$2", "$3", "$4") + "), "
    "u AS (INSERT INTO users (platform, workspace_id, user_id, display_name, updated_at) "
    "SELECT $1, $2, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM p) "
    "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET "
    "updated_at = excluded.updated_at{rename} RETURNING id) "
    "SELECT p.*, (SELECT id FROM u) FROM p"
)
_PG_FACTS_HEAD = (
    "SELECT 0 AS part, (SELECT peeked_at FROM peeks WHERE post_id = $1 AND user_pk = $2) "
    "AS at, NULL::integer AS rid, a.id, " + ", ".join(f"a.{c}" for c in _ATTEMPT_COLUMNS)
    + " FROM (SELECT 1 AS one) o LEFT JOIN attempts a "
    "ON a.post_id = $1 AND a.user_pk = $2 "
)
_PG_REACTION_ROW = "SELECT 1, added_at, id, NULL, key" + ", NULL" * (len(_ATTEMPT_COLUMNS) - 1)
_PG_ADD_AND_FACTS = (
    "WITH r AS (INSERT INTO reactions (post_id, user_pk, key, added_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (post_id, user_pk, key) DO NOTHING "
    "RETURNING id, key, added_at) " + _PG_FACTS_HEAD
    + "UNION ALL " + _PG_REACTION_ROW + " FROM reactions WHERE post_id = $1 AND user_pk = $2 "
    "UNION ALL " + _PG_REACTION_ROW + " FROM r ORDER BY part, at, rid"
)
_PG_REMOVE_AND_FACTS = (
    "WITH r AS (DELETE FROM reactions WHERE post_id = $1 AND user_pk = $2 AND key = $3 "
    "RETURNING id) " + _PG_FACTS_HEAD
    + "UNION ALL " + _PG_REACTION_ROW + " FROM reactions WHERE post_id = $1 AND user_pk = $2 "
    "AND id NOT IN (SELECT id FROM r) ORDER BY part, at, rid"
)


def record(conn: Connection, event_: ReactionEvent, rules: ReactionRules) -> Outcome:
    """The whole reaction on `conn`, inside the caller's transaction, which the caller
    commits only when the outcome is RECORDED."""
    d = _DIALECTS[conn.dialect.name]
    run = conn.exec_driver_sql
    at = d.time_in(event_.at)
    name = event_.display_name or event_.user_id
    rename = _RENAME if event_.display_name else ""
    user_pk: int | None = None
    if d.sqlite:
        found = run(d.sql["lookup"], (event_.platform, event_.workspace_id, event_.channel_id,
                                      event_.message_id)).first()
    else:
        found = run(_PG_LOOKUP_USER.format(rename=rename),
                    (event_.platform, event_.workspace_id, event_.channel_id,
                     event_.message_id, event_.user_id, name, at)).first()
        if found is not None:
            user_pk = int(found[6])
    if found is None:
        return Outcome.NOT_FOUND
    channel_pk, post_id, status, question_id, synced_at, revealed_at = found[:6]
    target = ReactionTarget(int(channel_pk), int(post_id), str(status), question_id,
                            d.time_out(synced_at), d.time_out(revealed_at))
    if question_id is None:
        return Outcome.IGNORED

    question_data = functools.partial(_question_data, conn, d, question_id)

    if not rules.accepts(target, question_data):
        return Outcome.IGNORED
    if d.sqlite:
        user_pk = int(run(d.sql["user_rename" if rename else "user"],
                          (event_.platform, event_.workspace_id, event_.user_id, name, at)
                          ).scalar_one())
        if event_.added:
            run(d.sql["react_add"], (post_id, user_pk, event_.key, at))
        else:
            run(d.sql["react_remove"], (post_id, user_pk, event_.key))
        rows = run(d.sql["facts"], (post_id, user_pk) * 3).all()
    elif event_.added:
        rows = run(_PG_ADD_AND_FACTS, (post_id, user_pk, event_.key, at)).all()
    else:
        rows = run(_PG_REMOVE_AND_FACTS, (post_id, user_pk, event_.key)).all()
    assert user_pk is not None
    stored, present, peeked_at = _facts(d, rows)
    _write_attempt(conn, d, post_id, user_pk, stored,
                   rules.decide(target, stored, present, peeked_at))
    return Outcome.RECORDED


def _facts(d: _Dialect, rows: Sequence[Any]
           ) -> tuple[StoredAttempt | None, list[StoredReaction], datetime | None]:
    """The rows of the facts read: the stored attempt, the reactions still present
    (oldest first) and the peek."""
    facts, present = rows[0], [StoredReaction(str(r[4]), _must(d.time_out(r[1])))
                               for r in rows[1:]]
    stored = None
    if facts[3] is not None:
        (choice, signal, grade, graded_at, peeked_before, after_reveal, correct, points,
         first_at, updated_at) = facts[4:]
        stored = StoredAttempt(
            choice, signal, grade, d.time_out(graded_at), bool(peeked_before),
            bool(after_reveal), d.bool_out(correct), float(points or 0.0),
            _must(d.time_out(first_at)), _must(d.time_out(updated_at)),
        )
    return stored, present, d.time_out(facts[1])


def _write_attempt(conn: Connection, d: _Dialect, post_id: Any, user_pk: int,
                   stored: StoredAttempt | None, decision: AttemptWrite) -> None:
    run = conn.exec_driver_sql
    if decision is Keep.KEEP:
        return
    if decision is None:
        if stored is not None:
            run(d.sql["attempt_delete"], (post_id, user_pk))
        return
    run(d.sql["attempt_upsert"], (
        post_id, user_pk, decision.choice, decision.signal, decision.grade,
        d.time_in(decision.graded_at), decision.peeked_before, decision.after_reveal,
        decision.correct, float(decision.points), d.time_in(decision.first_at),
        d.time_in(decision.updated_at),
    ))


def record_vote(conn: Connection, event_: VoteEvent, rules: VoteRules) -> VoteResult:
    """A vote button on `conn`, inside the caller's transaction, which the caller commits
    only when the outcome is CHOSEN or WITHDRAWN.

    The post is looked up by its id *and* the channel the press came from, so a forged
    action naming another channel's post finds nothing. The member's reactions on the
    post are then replaced: by the pressed key alone, or by none when the key was their
    current vote (pressing it again withdraws it). The attempt is recomputed from those
    facts by the same rules as a reaction's. On PostgreSQL the user upsert comes first
    (its row lock serialises one member's presses); every later statement then reads
    what the previous press committed."""
    d = _DIALECTS[conn.dialect.name]
    run = conn.exec_driver_sql
    found = run(d.sql["vote_lookup"], (event_.platform, event_.workspace_id,
                                       event_.channel_id, event_.post_id)).first()
    if found is None:
        return VoteResult(VoteOutcome.NOT_FOUND)
    channel_pk, post_id, status, question_id, synced_at, revealed_at, number = found
    target = ReactionTarget(int(channel_pk), int(post_id), str(status), question_id,
                            d.time_out(synced_at), d.time_out(revealed_at))
    shown = None if number is None else int(number)
    if question_id is None:
        return VoteResult(VoteOutcome.IGNORED, target, shown)

    question_data = functools.partial(_question_data, conn, d, question_id)

    if not rules.accepts(target, question_data):
        return VoteResult(VoteOutcome.IGNORED, target, shown)
    at = d.time_in(event_.at)
    name = event_.display_name or event_.user_id
    user_pk = int(run(d.sql["user_rename" if event_.display_name else "user"],
                      (event_.platform, event_.workspace_id, event_.user_id, name, at)
                      ).scalar_one())
    stored, present, peeked_at = _facts(d, run(d.sql["facts"], (post_id, user_pk) * 3).all())
    withdraw = rules.withdraws(present)
    run(d.sql["react_clear"], (post_id, user_pk))
    now_present: list[StoredReaction] = []
    if not withdraw:
        run(d.sql["react_add"], (post_id, user_pk, event_.key, at))
        now_present = [StoredReaction(event_.key, event_.at)]
    _write_attempt(conn, d, post_id, user_pk, stored,
                   rules.decide(target, stored, now_present, peeked_at))
    return VoteResult(VoteOutcome.WITHDRAWN if withdraw else VoteOutcome.CHOSEN, target, shown)


def _question_data(conn: Connection, d: _Dialect, question_id: Any) -> dict[str, Any]:
    """The question's stored JSON, read only if the rules ask for it (the parsed cache
    usually answers)."""
    data = conn.exec_driver_sql(d.sql["question"], (question_id,)).scalar_one()
    loaded = json.loads(data) if isinstance(data, str | bytes) else data
    assert isinstance(loaded, dict)
    return loaded


def _must(value: datetime | None) -> datetime:
    assert value is not None
    return value


class ReactionWriter:
    """Runs `record` where it is fastest for the backend (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, sqlite_file: URL | None) -> None:
        self._engine = engine
        self._writer = None if sqlite_file is None else _SqliteWriter(sqlite_file)

    @property
    def mode(self) -> str:
        return "async engine" if self._writer is None else "writer thread"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def record(self, event_: ReactionEvent, rules: ReactionRules) -> Outcome:
        def work(conn: Connection) -> Outcome:
            return record(conn, event_, rules)

        return await self._run(work, lambda outcome: outcome is Outcome.RECORDED)

    async def vote(self, event_: VoteEvent, rules: VoteRules) -> VoteResult:
        """A vote button, the same way as a reaction: one hop to the SQLite writer
        thread, or one connection of the async engine."""
        def work(conn: Connection) -> VoteResult:
            return record_vote(conn, event_, rules)

        return await self._run(work, lambda result: result.outcome in _VOTE_WRITES,
                               idempotent=False)

    async def _run(self, work: Callable[[Connection], _T], wrote: Callable[[_T], bool],
                   *, idempotent: bool = True) -> _T:
        if self._writer is not None:
            return await self._writer.submit(work)
        for retry in (False, True):
            committing = False
            try:
                async with self._engine.connect() as conn:
                    outcome = await conn.run_sync(work)
                    if wrote(outcome):
                        committing = True
                        await conn.commit()
                    return outcome  # leaving without commit rolls back
            except DBAPIError as exc:
                # A pooled connection the server ended while idle (this pool does not
                # pre-ping): the pool has dropped it, so once more on a fresh one. Safe
                # for a reaction even if the commit had landed: its insert does nothing
                # twice and the attempt is recomputed. A vote is not (run again after a
                # landed commit it would find its own key and withdraw it), so a vote
                # is run again only when the failure came before its commit.
                if retry or not exc.connection_invalidated or (committing and not idempotent):
                    raise
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.stop()


_VOTE_WRITES = frozenset([VoteOutcome.CHOSEN, VoteOutcome.WITHDRAWN])
_T = TypeVar("_T")


@dataclass
class _Job:
    work: Callable[[Connection], Any]  # `record` or `record_vote` of one input
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class _SqliteWriter:
    """One thread, one connection, and group commit.

    Reactions queue for the thread instead of contending for SQLite's file lock. The
    thread takes every reaction waiting (up to MAX_BATCH) into one transaction, each in
    its own savepoint, and commits once: a burst pays one fsync, not one each, and each
    caller is answered only after the commit holding its reaction is durable. A reaction
    that fails rolls back to its savepoint and fails alone; a failed BEGIN or COMMIT
    fails the whole batch (nothing of it is stored)."""

    MAX_BATCH = 64

    def __init__(self, url: URL) -> None:
        self._url = url
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[[Connection], _T]) -> asyncio.Future[_T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        job = _Job(work, loop, future)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qotd-sqlite-writer",
                                                daemon=True)
                self._thread.start()
            self._queue.put(job)
        return job.future

    async def stop(self) -> None:
        """Finish what is queued, close the connection, end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            await asyncio.to_thread(thread.join)

    def _run(self) -> None:
        engine = _sqlite_writer_engine(self._url)
        batch: list[_Job] = []
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self.MAX_BATCH:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                self._commit(engine, batch)
                batch = []
        except BaseException as exc:
            # Never leave a caller waiting on a thread that is gone: fail what it held
            # and what is queued, and let the next reaction start a new thread.
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                waiting = [*batch]
                while True:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        waiting.append(job)
            for job in waiting:
                _settle(job, None, exc)
            raise
        finally:
            engine.dispose()

    def _commit(self, engine: Engine, batch: list[_Job]) -> None:
        done: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with engine.begin() as conn:
                for job in batch:
                    if job.future.cancelled():  # its caller is gone (shutdown): skip
                        continue
                    if len(batch) == 1:
                        done.append((job, job.work(conn), None))
                        continue
                    try:
                        with conn.begin_nested():
                            done.append((job, job.work(conn), None))
                    except Exception as exc:  # this reaction only: the others go on
                        done.append((job, None, exc))
        except Exception as exc:
            for job in batch:
                _settle(job, None, exc)
            return
        for job, outcome, error in done:
            _settle(job, outcome, error)


def _settle(job: _Job, outcome: Any, error: BaseException | None) -> None:
    def deliver() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            assert outcome is not None
            job.future.set_result(outcome)

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        job.loop.call_soon_threadsafe(deliver)


def _sqlite_writer_engine(url: URL | None) -> Engine:
    """The writer thread's own connection: the app's pragmas, and `BEGIN IMMEDIATE`, so
    the write lock is taken (or waited for, up to busy_timeout) before the first read,
    and a read snapshot never has to be upgraded to a write (which SQLite refuses at once
    when another connection wrote meanwhile)."""
    from storage.engine import SQLITE_BUSY_TIMEOUT_MS, sqlite_pragmas

    assert url is not None
    engine = create_engine(url.set(drivername="sqlite+pysqlite"), pool_size=1,
                           max_overflow=0,
                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                         "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record_: Any) -> None:
        sqlite_pragmas(dbapi_connection, record_)
        dbapi_connection.isolation_level = None  # the BEGIN below is ours, not pysqlite's

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
