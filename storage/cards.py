"""Review cards and their logs: the reads and writes of personal review (issue 14).

SQL only; the ratings and the FSRS replay are bot.rules.review, the order of the work is
bot.service.review.sync_user. Cards are derived from attempts on reads, never on the
reaction path: `stale_attempts` is the one statement a sync runs when nothing changed,
an anti-join from the user's attempts (ix_attempts_user) to their logs (the unique index
on review_logs.attempt_id) that returns no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from storage.models import (
    AttemptRow,
    CardRow,
    CardSyncRow,
    PostRow,
    QuestionRow,
    ReminderRow,
    ReviewLogRow,
    ReviewResetRow,
)
from storage.repositories import SENT
from storage.types import to_utc

ATTEMPT, ADDED, REVIEW = "attempt", "added", "review"
CHUNK = 200  # rows per multi-row statement (well under either backend's bind limit)


@dataclass(frozen=True)
class StaleAttempt:
    """An attempt whose review log is missing or was rated from an older version."""

    attempt_id: int
    updated_at: datetime
    first_at: datetime
    choice: str | None
    signal: str | None
    grade: str | None
    peeked_before: bool
    correct: bool | None
    question_id: str
    group_key: str
    log_id: int | None
    log_card_id: int | None


@dataclass(frozen=True)
class LogFact:
    card_id: int
    reviewed_at: datetime
    rating: int


@dataclass(frozen=True)
class Forgotten:
    cards: int
    logs: int
    reminder: bool


class CardRepo:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def _insert(self, model: Any) -> Any:
        table = model.__table__
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)

    async def synced_to(self, user_pk: int) -> datetime | None:
        """The person's card-sync watermark (CardSyncRow), None before the first sync."""
        found = await self.session.scalar(
            select(CardSyncRow.synced_to).where(CardSyncRow.user_pk == user_pk))
        return None if found is None else to_utc(found)

    async def set_synced_to(self, user_pk: int, when: datetime) -> None:
        stmt = self._insert(CardSyncRow).values(user_pk=user_pk, synced_to=when)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["user_pk"], set_={"synced_to": stmt.excluded.synced_to}))

    async def stale_attempts(self, user_pk: int, since: datetime | None = None
                             ) -> list[StaleAttempt]:
        """The user's attempts on sent posts with no log, or a log rated from another
        `updated_at`; only attempts first made after the person's last /review forget,
        and (`since`) changed at or after that instant. One statement: with `since` it
        reads the range of ix_attempts_user_updated the person changed lately (a few
        rows however long their history); without, it walks their whole range of
        ix_attempts_user, probing the unique index on review_logs.attempt_id for each."""
        log = ReviewLogRow
        forgot = (select(ReviewResetRow.forgot_at)
                  .where(ReviewResetRow.user_pk == user_pk).scalar_subquery())
        stmt = (
            select(AttemptRow.id, AttemptRow.updated_at, AttemptRow.first_at,
                   AttemptRow.choice, AttemptRow.signal, AttemptRow.grade,
                   AttemptRow.peeked_before, AttemptRow.correct, QuestionRow.id,
                   QuestionRow.group_key, log.id, log.card_id)
            .select_from(AttemptRow)
            .outerjoin(log, log.attempt_id == AttemptRow.id)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(QuestionRow, QuestionRow.id == PostRow.question_id)
            .where(AttemptRow.user_pk == user_pk, PostRow.status == SENT,
                   or_(log.id.is_(None), log.attempt_updated_at.is_(None),
                       log.attempt_updated_at != AttemptRow.updated_at),
                   or_(forgot.is_(None), AttemptRow.first_at > forgot))
            .order_by(AttemptRow.first_at, AttemptRow.id)
        )
        if since is not None:
            stmt = stmt.where(AttemptRow.updated_at >= since)
        rows = await self.session.execute(stmt)
        values: list[tuple[Any, ...]] = [tuple(row) for row in rows]
        return [StaleAttempt(*row) for row in values]

    async def cards_by_group(self, user_pk: int, group_keys: Sequence[str]) -> dict[str, CardRow]:
        if not group_keys:
            return {}
        stmt = select(CardRow).where(CardRow.user_pk == user_pk,
                                     CardRow.group_key.in_(sorted(set(group_keys))))
        return {card.group_key: card for card in await self.session.scalars(stmt)}

    async def insert_card(self, values: dict[str, Any]) -> None:
        await self.insert_cards([values])

    async def insert_cards(self, rows: Sequence[dict[str, Any]]) -> None:
        """New cards, 200 a statement; a group the person already has a card for is
        left as it is (another sync got there first)."""
        for start in range(0, len(rows), CHUNK):
            stmt = self._insert(CardRow).values(list(rows[start:start + CHUNK]))
            await self.session.execute(
                stmt.on_conflict_do_nothing(index_elements=["user_pk", "group_key"]))

    async def upsert_attempt_log(self, card_id: int, attempt_id: int, updated_at: datetime,
                                 rating: int, reviewed_at: datetime) -> None:
        await self.upsert_attempt_logs([{
            "card_id": card_id, "attempt_id": attempt_id, "attempt_updated_at": updated_at,
            "rating": rating, "reviewed_at": reviewed_at}])

    async def upsert_attempt_logs(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each attempt's one review (card_id, attempt_id, attempt_updated_at, rating,
        reviewed_at): inserted, or re-rated in place (a switched vote, a new grade) —
        never a second log for the same attempt."""
        for start in range(0, len(rows), CHUNK):
            chunk = [dict(row, source=ATTEMPT) for row in rows[start:start + CHUNK]]
            stmt = self._insert(ReviewLogRow).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["attempt_id"],
                set_={"rating": stmt.excluded.rating,
                      "attempt_updated_at": stmt.excluded.attempt_updated_at,
                      "reviewed_at": stmt.excluded.reviewed_at})
            await self.session.execute(stmt)

    async def touch_attempt_log(self, log_id: int, updated_at: datetime) -> None:
        """The attempt changed but gives no rating now: the log keeps its rating."""
        await self.session.execute(update(ReviewLogRow).where(ReviewLogRow.id == log_id)
                                   .values(attempt_updated_at=updated_at))

    async def add_review_log(self, card_id: int, rating: int, at: datetime,
                             duration_ms: int | None = None) -> None:
        self.session.add(ReviewLogRow(card_id=card_id, attempt_id=None, source=REVIEW,
                                      rating=rating, reviewed_at=at,
                                      review_duration_ms=duration_ms))
        await self.session.flush()

    async def claim_review(self, card_id: int, reviews: int) -> bool:
        """Take the right to add the card's review number `reviews + 1`: False when the
        card moved on (a double press, another session, a replica racing), so a stale
        button never adds a second review."""
        result = await self.session.execute(
            update(CardRow).where(CardRow.id == card_id, CardRow.reviews == reviews)
            .values(reviews=reviews + 1))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def store_state(self, card_id: int, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(CardRow).where(CardRow.id == card_id).values(values))

    async def store_states(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many cards' replayed states in one executemany: each row has `card_id` and
        the same set of columns."""
        if not rows:
            return
        table: Table = CardRow.__table__  # type: ignore[assignment]
        names = [name for name in rows[0] if name != "card_id"]
        stmt = (update(table).where(table.c.id == bindparam("card_id"))
                .values({name: bindparam(f"v_{name}") for name in names}))
        await self.session.execute(stmt, [
            {"card_id": row["card_id"], **{f"v_{n}": row[n] for n in names}} for row in rows])
        for row in rows:  # objects this session holds read the new state
            card = self.session.identity_map.get(identity_key(CardRow, row["card_id"]))
            if card is not None:
                self.session.expire(card)

    async def logs_of(self, card_ids: Sequence[int]) -> list[LogFact]:
        """The cards' reviews in replay order (time, then id: two logs at one instant
        replay in the order they were written)."""
        if not card_ids:
            return []
        stmt = (select(ReviewLogRow.card_id, ReviewLogRow.reviewed_at, ReviewLogRow.rating)
                .where(ReviewLogRow.card_id.in_(sorted(set(card_ids))))
                .order_by(ReviewLogRow.card_id, ReviewLogRow.reviewed_at, ReviewLogRow.id))
        return [LogFact(card_id, at, rating)
                for card_id, at, rating in await self.session.execute(stmt)]

    async def get(self, card_id: int) -> CardRow | None:
        return await self.session.get(CardRow, card_id)

    async def next_due(self, user_pk: int, now: datetime) -> CardRow | None:
        """The earliest due card (ix_cards_user_due), or None when nothing is due."""
        stmt = (select(CardRow).where(CardRow.user_pk == user_pk, CardRow.due <= now)
                .order_by(CardRow.due, CardRow.id).limit(1))
        return (await self.session.scalars(stmt)).first()

    async def first_due(self, user_pk: int) -> datetime | None:
        return await self.session.scalar(
            select(func.min(CardRow.due)).where(CardRow.user_pk == user_pk))

    async def due_count(self, user_pk: int, until: datetime) -> int:
        """How many cards are due by `until`, counted in the index range of
        ix_cards_user_due (a person with thousands due loads none of them)."""
        stmt = select(func.count()).select_from(CardRow).where(
            CardRow.user_pk == user_pk, CardRow.due <= until)
        return int((await self.session.execute(stmt)).scalar_one())


    async def with_topics(self, user_pk: int) -> list[tuple[CardRow, str]]:
        """Every card of the person with the topic of its question."""
        stmt = (select(CardRow, QuestionRow.topic)
                .outerjoin(QuestionRow, QuestionRow.id == CardRow.question_id)
                .where(CardRow.user_pk == user_pk).order_by(CardRow.id))
        return [(card, topic or "") for card, topic in await self.session.execute(stmt)]

    async def group_keys(self, user_pk: int) -> set[str]:
        stmt = select(CardRow.group_key).where(CardRow.user_pk == user_pk)
        return set(await self.session.scalars(stmt))

    async def review_times(self, user_pk: int, since: datetime) -> list[datetime]:
        stmt = (select(ReviewLogRow.reviewed_at)
                .join(CardRow, CardRow.id == ReviewLogRow.card_id)
                .where(CardRow.user_pk == user_pk, ReviewLogRow.reviewed_at >= since))
        return list(await self.session.scalars(stmt))

    async def attempt_channels(self, user_pk: int) -> list[int]:
        """The channels the person answered in (their attempts' posts)."""
        stmt = (select(PostRow.channel_pk).join(AttemptRow, AttemptRow.post_id == PostRow.id)
                .where(AttemptRow.user_pk == user_pk).distinct())
        return sorted(await self.session.scalars(stmt))

    async def reminder_zone(self, user_pk: int) -> str | None:
        return await self.session.scalar(
            select(ReminderRow.timezone).where(ReminderRow.user_pk == user_pk))

    async def forget(self, user_pk: int, now: datetime) -> Forgotten:
        """Delete the person's cards (their logs go with them), their reminder, and mark
        `now`: attempts made before it make no cards again."""
        logs = await self.session.scalar(
            select(func.count()).select_from(ReviewLogRow)
            .join(CardRow, CardRow.id == ReviewLogRow.card_id)
            .where(CardRow.user_pk == user_pk)) or 0
        await self.session.execute(delete(ReviewLogRow).where(
            ReviewLogRow.card_id.in_(select(CardRow.id).where(CardRow.user_pk == user_pk))))
        cards = await self.session.execute(delete(CardRow).where(CardRow.user_pk == user_pk))
        reminder = await self.session.execute(
            delete(ReminderRow).where(ReminderRow.user_pk == user_pk))
        stmt = self._insert(ReviewResetRow).values(user_pk=user_pk, forgot_at=now)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["user_pk"], set_={"forgot_at": stmt.excluded.forgot_at}))
        return Forgotten(cards.rowcount or 0, logs,  # type: ignore[attr-defined]
                         bool(reminder.rowcount))  # type: ignore[attr-defined]
