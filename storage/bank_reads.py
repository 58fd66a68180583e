"""Light reads for picking and `/qotd status`: columns only, never the JSON `data`,
and no ORM objects.

`QuestionRepo.pickable()` loads ORM rows with their JSON, which costs about a
millisecond per hundred questions; the picker needs only (id, topic, difficulty), plus
`synced_at` to tell whether a cached copy is still the stored bank (see
bot.service.bank_cache). The channel's history (asked keys, last topic) and the status
facts and a send's facts are the repositories' queries (`PostRepo.asked_in_cycle`,
`last_topic`, `has_pending`, `latest_sent`, `on_day`; `PostRepo.get`,
`ChannelRepo.by_pk`, `QuestionRepo.get`) with the same conditions and ordering, merged
into fewer round trips and run as Core statements, which skips the ORM's per-row and
per-statement work (measured: 3.2 ms for a cycle's 365 asked keys through the ORM,
2.0 ms as Core, 0.6 ms for `SELECT 1`).

`status_read` is everything `/qotd status` reads after the channel row (the asked
keys, the status facts, whether the next slot's day is taken and the bank cache's
sentinel question) as one statement.

All run on the unit of work's connection, so in its transaction. They do not
autoflush: callers hold no unflushed changes to posts or questions when they read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, bindparam, case, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AttemptRow, ChannelRow, PostRow, QuestionRow
from storage.repositories import PENDING, SENT
from storage.types import UTCDateTime, stored_utc

READY = "ready"


# (id, topic, difficulty, version): one pickable question as the picker sees it
BankEntry = tuple[str, str, str | None, object]

# `synced_at` as the driver returns it, without the UTCDateTime conversion (parsing
# 20,000 SQLite timestamps costs more than reading the rows): only ever compared with
# itself, read the same way, to tell whether a row changed since it was cached
VERSION = type_coerce(QuestionRow.synced_at, String()).label("version")


@dataclass(frozen=True)
class QuestionState:
    """What decides whether a question may be posted, read by primary key."""

    status: str
    retired: bool
    group_key: str
    topic: str
    difficulty: str | None
    version: object  # as in BankEntry

    def pickable_as(self, question_id: str) -> bool:
        """The same condition as `QuestionRepo.pickable()`, for the row `question_id`."""
        return self.status == READY and not self.retired and self.group_key == question_id


_PICKABLE = (
    QuestionRow.status == READY,
    QuestionRow.retired.is_(False),
    QuestionRow.id == QuestionRow.group_key,
)


async def pickable_entries(session: AsyncSession) -> list[BankEntry]:
    """Ready, current, canonical questions (a near-duplicate group counts once), in no
    particular order (the caller sorts once, in Python, so the order does not depend on
    the database's collation). On the session's connection, as Core rows: no ORM
    loading (the session holds no unflushed questions: a bank sync commits)."""
    stmt = select(QuestionRow.id, QuestionRow.topic, QuestionRow.difficulty,
                  VERSION).where(*_PICKABLE)
    connection = await session.connection()
    result = await connection.execute(stmt)
    return [(qid, topic, difficulty, version)
            for qid, topic, difficulty, version in result]


async def question_state(session: AsyncSession, question_id: str) -> QuestionState | None:
    """One question's pickability and version, by primary key (one index lookup)."""
    stmt = select(QuestionRow.status, QuestionRow.retired, QuestionRow.group_key,
                  QuestionRow.topic, QuestionRow.difficulty,
                  VERSION).where(QuestionRow.id == question_id)
    connection = await session.connection()
    row = (await connection.execute(stmt)).first()
    return None if row is None else QuestionState(*row)


@dataclass(frozen=True)
class History:
    """A channel's past as the picker needs it."""

    asked: set[str]  # group keys asked in the current cycle (PostRepo.asked_in_cycle)
    last_topic: str | None  # the topic of its highest-numbered post (PostRepo.last_topic)


_ASKED = (
    select(QuestionRow.group_key.label("value"), literal(0).label("part"))
    .join(PostRow, PostRow.question_id == QuestionRow.id)
    .where(PostRow.channel_pk == bindparam("channel_pk"),
           PostRow.cycle == bindparam("cycle"))
)
# the channel's highest-numbered post that has a question (the join's rows: question_id
# is a foreign key), then that one question: joined first and sorted after, PostgreSQL
# hashed every post of the channel against a scan of the whole bank (1.3 ms for a
# year's 365 posts and 20,000 questions, 4 ms for 1,700 posts; now 0.3 ms)
_LAST_POST = (
    select(PostRow.question_id)
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.question_id.is_not(None))
    .order_by(PostRow.number.desc())
    .limit(1)
    .subquery()
)
_LAST_TOPIC = (
    select(QuestionRow.topic)
    .join(_LAST_POST, _LAST_POST.c.question_id == QuestionRow.id)
    .scalar_subquery()
    .label("last_topic")
)


def _asked_array(dialect: str) -> Any:
    """`_ASKED`'s keys as one JSON array (json_group_array / json_agg: exact for any id,
    no separator to choose), so that other facts can share its row: a year's 365 keys
    as one value cost 0.6 ms through the app's engine against 0.9 ms as rows."""
    aggregate = func.json_agg if dialect == "postgresql" else func.json_group_array
    return (
        select(aggregate(QuestionRow.group_key, type_=JSON))
        .join(PostRow, PostRow.question_id == QuestionRow.id)
        .where(PostRow.channel_pk == bindparam("channel_pk"),
               PostRow.cycle == bindparam("cycle"))
        .scalar_subquery()
        .label("asked")
    )


_STATEMENTS: dict[tuple[str, str], Any] = {}


async def _run_once(session: AsyncSession, name: str, build: Any,
                    params: dict[str, Any]) -> Any:
    """Execute the per-dialect statement `build(dialect)` (built once per dialect) on
    the session's connection; its one row."""
    connection = await session.connection()
    key = (name, connection.dialect.name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(connection.dialect.name)
    return (await connection.execute(stmt, params)).one()


async def asked_keys(session: AsyncSession, channel_pk: int, cycle: int) -> set[str]:
    """`PostRepo.asked_in_cycle`, as a Core statement."""
    connection = await session.connection()
    result = await connection.execute(_ASKED, {"channel_pk": channel_pk, "cycle": cycle})
    return {value for value, _ in result}


def _history(dialect: str) -> Any:
    return select(_asked_array(dialect), _LAST_TOPIC)


async def history(session: AsyncSession, channel_pk: int, cycle: int) -> History:
    """`asked_in_cycle` and `last_topic` in one round trip (one row)."""
    asked, last_topic = await _run_once(session, "history", _history,
                                        {"channel_pk": channel_pk, "cycle": cycle})
    return History(set(asked or ()), last_topic)


@dataclass(frozen=True)
class StatusFacts:
    """The posts side of `/qotd status`."""

    pending: bool  # a post waits to be re-sent (PostRepo.has_pending)
    latest_number: int | None  # the latest sent post (PostRepo.latest_sent) ...
    latest_reveal_error: str | None  # ... and why its reveal was not posted, if so


_STATUS = select(
    select(PostRow.id)
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.status == PENDING)
    .limit(1)
    .scalar_subquery()
    .label("pending"),
    select(PostRow.number)
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.status == SENT)
    .order_by(PostRow.posted_at.desc(), PostRow.id.desc())
    .limit(1)
    .scalar_subquery()
    .label("latest_number"),
    select(PostRow.reveal_error)
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.status == SENT)
    .order_by(PostRow.posted_at.desc(), PostRow.id.desc())
    .limit(1)
    .scalar_subquery()
    .label("latest_reveal_error"),
)


async def status_facts(session: AsyncSession, channel_pk: int) -> StatusFacts:
    """`has_pending` and `latest_sent` (number, reveal error) in one round trip."""
    connection = await session.connection()
    row = (await connection.execute(_STATUS, {"channel_pk": channel_pk})).one()
    pending, number, reveal_error = row
    return StatusFacts(pending is not None, number, reveal_error)


_DAY_TAKEN = select(PostRow.id).where(PostRow.channel_pk == bindparam("channel_pk"),
                                      PostRow.day == bindparam("day"))


async def day_taken(session: AsyncSession, channel_pk: int, day: date) -> bool:
    """Whether the channel's local `day` has a claim (`PostRepo.on_day` is not None)."""
    connection = await session.connection()
    result = await connection.execute(_DAY_TAKEN, {"channel_pk": channel_pk, "day": day})
    return result.first() is not None


@dataclass(frozen=True)
class SendFacts:
    """What sending a claimed post needs, from the post, its channel and its question."""

    status: str
    question_id: str | None
    send_token: int
    number: int | None
    claimed_at: datetime
    send_attempts: int
    channel_pk: int
    platform: str
    workspace_id: str
    channel_id: str
    reveal_hours: float | None
    answer_mode: str  # "buttons" | "reactions" (issue 16)
    data: dict[str, Any] | None  # the question's stored JSON (None: no question yet)


_SEND = (
    select(PostRow.status, PostRow.question_id, PostRow.send_token, PostRow.number,
           PostRow.claimed_at, PostRow.send_attempts, PostRow.channel_pk,
           ChannelRow.platform, ChannelRow.workspace_id, ChannelRow.channel_id,
           ChannelRow.reveal_hours, ChannelRow.answer_mode, QuestionRow.data)
    .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
    .outerjoin(QuestionRow, QuestionRow.id == PostRow.question_id)
    .where(PostRow.id == bindparam("post_id"))
)


async def send_facts(session: AsyncSession, post_id: int) -> SendFacts | None:
    """`PostRepo.get`, `ChannelRepo.by_pk` and `QuestionRepo.get` for one post, in one
    round trip (and one snapshot)."""
    connection = await session.connection()
    row = (await connection.execute(_SEND, {"post_id": post_id})).first()
    return None if row is None else SendFacts(**row._mapping)


@dataclass(frozen=True)
class StatusRead:
    """Everything `/qotd status` reads besides the channel row, in one round trip (and
    one snapshot): `asked_keys`, `status_facts`, `day_taken` of one day and the
    `question_state` of the bank cache's sentinel question."""

    asked: set[str]
    facts: StatusFacts
    day_taken: bool  # False when no day was asked about
    sentinel: str | None  # the question whose state was read (None: none asked for)
    state: QuestionState | None  # its state (None: no such question, or none asked)


def _state_column(column: Any, name: str) -> Any:
    return (select(column).where(QuestionRow.id == bindparam("sentinel"))
            .scalar_subquery().label(name))


def _status_read(dialect: str) -> Any:
    taken = (select(PostRow.id)
             .where(PostRow.channel_pk == bindparam("channel_pk"),
                    PostRow.day == bindparam("day"))
             .limit(1).scalar_subquery().label("taken"))
    state = [_state_column(column, name) for column, name in (
        (QuestionRow.status, "status"), (QuestionRow.retired, "retired"),
        (QuestionRow.group_key, "group_key"), (QuestionRow.topic, "topic"),
        (QuestionRow.difficulty, "difficulty"),
        (type_coerce(QuestionRow.synced_at, String()), "version"))]
    return select(_asked_array(dialect), *_STATUS.selected_columns, taken, *state)


async def status_read(session: AsyncSession, channel_pk: int, cycle: int, *,
                      day: date | None, sentinel: str | None) -> StatusRead:
    """`asked_keys(channel_pk, cycle)`, `status_facts(channel_pk)`, `day_taken(channel_pk,
    day)` (when `day` is given) and `question_state(sentinel)` (when given), as one
    statement."""
    row = await _run_once(session, "status", _status_read,
                          {"channel_pk": channel_pk, "cycle": cycle, "day": day,
                           "sentinel": sentinel})
    (asked, pending, number, reveal_error, taken,
     status, retired, group_key, topic, difficulty, version) = row
    state = None if sentinel is None or status is None else QuestionState(
        status, bool(retired), group_key, topic, difficulty, version)
    return StatusRead(set(asked or ()), StatusFacts(pending is not None, number, reveal_error),
                      day is not None and taken is not None, sentinel, state)


# -- the adaptive mix: the team's results on the channel's recent questions ------------

# per topic and difficulty of the channel's sent posts since `since`: the judged
# attempts (after-reveal ones left out: the answer was shown) and how many were right.
# The posts come from ix_posts_channel_status's range (channel, sent, posted_at), each
# post's question by primary key and its attempts from ix_attempts_board (post_id
# first): one GROUP BY, no attempt row reaches Python.
_TEAM_RESULTS = (
    select(QuestionRow.topic, QuestionRow.difficulty,
           func.count(AttemptRow.id).label("attempts"),
           func.coalesce(func.sum(case((AttemptRow.correct.is_(True), 1), else_=0)), 0)
           .label("correct"))
    .select_from(PostRow)
    .join(QuestionRow, QuestionRow.id == PostRow.question_id)
    .join(AttemptRow, AttemptRow.post_id == PostRow.id)
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.status == SENT,
           PostRow.posted_at >= bindparam("since", type_=UTCDateTime()),
           AttemptRow.correct.is_not(None), AttemptRow.after_reveal.is_(False))
    .group_by(QuestionRow.topic, QuestionRow.difficulty)
    .order_by(QuestionRow.topic, QuestionRow.difficulty)
)

_LATEST_POSTED = (
    select(func.max(PostRow.posted_at))
    .where(PostRow.channel_pk == bindparam("channel_pk"), PostRow.status == SENT)
)


async def team_results(session: AsyncSession, channel_pk: int, since: datetime
                       ) -> list[tuple[str, str | None, int, int]]:
    """(topic, difficulty, judged attempts, correct) of the channel's posts sent at or
    after `since`, one row per topic and difficulty, in that order."""
    connection = await session.connection()
    result = await connection.execute(_TEAM_RESULTS, {"channel_pk": channel_pk,
                                                      "since": since})
    return [(topic, difficulty, int(attempts), int(correct))
            for topic, difficulty, attempts, correct in result]


async def latest_posted_at(session: AsyncSession, channel_pk: int) -> datetime | None:
    """When the channel's latest sent post went out (the index's last entry)."""
    connection = await session.connection()
    value = (await connection.execute(_LATEST_POSTED, {"channel_pk": channel_pk})).scalar()
    return None if value is None else stored_utc(value)
