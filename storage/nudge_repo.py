"""Queries on `reminders` and `nudges`: the daily review nudge's schedule and its claims.

The due work is the reminder row: `next_at` (indexed) is when its person next needs the
engine, either their next local nudge time or, while a nudge is being sent, the expiry
of the sender's lease. So "what is due" is one range scan, a sender that dies leaves
a reminder that is due again by itself within one lease, and nothing needs a scan of
`nudges` (which grows by a row per person and day).

A nudge row is the claim for one person and local day (UNIQUE(user_pk, day)). While it
is pending, its `lease_until` is the holder's fencing token: taking the lease moves it
forward (only from a value already past), renewing and marking sent compare it, so a
holder that lost its lease can neither renew nor record its message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NudgeRow, ReminderRow, UserRow
from storage.uow import UnitOfWork

PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"


def nudge_repo(uow: UnitOfWork) -> NudgeRepo:
    """The repository on a unit of work's session."""
    return NudgeRepo(uow.session)


class NudgeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def _insert(self, model: Any) -> Any:
        table = model.__table__
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)

    # -- reminders ---------------------------------------------------------------------

    async def reminder(self, user_pk: int) -> ReminderRow | None:
        return await self.session.get(ReminderRow, user_pk, populate_existing=True)

    async def set_reminder(self, user_pk: int, local_time: str, timezone: str,
                           next_at: datetime, now: datetime) -> None:
        """Create or replace the person's reminder (one row per person)."""
        stmt = self._insert(ReminderRow).values(
            user_pk=user_pk, local_time=local_time, timezone=timezone, next_at=next_at,
            updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_pk"],
            set_={"local_time": stmt.excluded.local_time, "timezone": stmt.excluded.timezone,
                  "next_at": stmt.excluded.next_at, "updated_at": stmt.excluded.updated_at})
        await self.session.execute(stmt)

    async def delete_reminder(self, user_pk: int) -> bool:
        row = await self.session.get(ReminderRow, user_pk)
        if row is None:
            return False
        await self.session.delete(row)
        return True

    async def due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[int]:
        """People whose reminder needs the engine now: a range of ix_reminders_next_at."""
        stmt = (
            select(ReminderRow.user_pk)
            .where(ReminderRow.next_at <= now, _on(platforms))
            .order_by(ReminderRow.next_at, ReminderRow.user_pk)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def lock_due(self, user_pk: int, now: datetime) -> tuple[ReminderRow, UserRow] | None:
        """The reminder (with its person) if still due, row-locked for this transaction;
        None at once when another replica holds it (SKIP LOCKED on PostgreSQL; SQLite has
        one writer at a time anyway)."""
        stmt = (
            select(ReminderRow, UserRow)
            .join(UserRow, UserRow.id == ReminderRow.user_pk)
            .where(ReminderRow.user_pk == user_pk, ReminderRow.next_at <= now)
            .with_for_update(skip_locked=True, of=ReminderRow)
            .execution_options(populate_existing=True)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def move(self, user_pk: int, expected: datetime, following: datetime) -> bool:
        """Move the reminder's `next_at` from `expected` to `following`; False when
        someone moved it first (another replica, or a `/review remind` change)."""
        stmt = (
            update(ReminderRow)
            .where(ReminderRow.user_pk == user_pk, ReminderRow.next_at == expected)
            .values(next_at=following)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def earliest(self, platforms: Sequence[str], after: datetime) -> datetime | None:
        stmt = (
            select(ReminderRow.next_at)
            .where(ReminderRow.next_at > after, _on(platforms))
            .order_by(ReminderRow.next_at)
            .limit(1)
        )
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    # -- nudges ------------------------------------------------------------------------

    async def on_day(self, user_pk: int, day: date) -> NudgeRow | None:
        stmt = (select(NudgeRow).where(NudgeRow.user_pk == user_pk, NudgeRow.day == day)
                .execution_options(populate_existing=True))
        return (await self.session.scalars(stmt)).one_or_none()

    async def claim(self, user_pk: int, day: date, status: str,
                    lease_until: datetime | None) -> int | None:
        """Insert the day's claim; None when the (person, day) has one already."""
        stmt = (
            self._insert(NudgeRow)
            .values(user_pk=user_pk, day=day, status=status, lease_until=lease_until)
            .on_conflict_do_nothing(index_elements=["user_pk", "day"])
            .returning(NudgeRow.id)
        )
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def take(self, nudge_id: int, held: datetime | None, now: datetime,
                   until: datetime) -> bool:
        """Take over a pending claim whose lease (`held`, as read) has run out."""
        expired = (NudgeRow.lease_until.is_(None) if held is None
                   else NudgeRow.lease_until == held)
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id, NudgeRow.status == PENDING, expired)
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        if held is not None and held > now:
            return False  # someone holds it
        return _rowcount(await self.session.execute(stmt)) == 1

    async def renew(self, nudge_id: int, mine: datetime, until: datetime) -> bool:
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id, NudgeRow.status == PENDING,
                   NudgeRow.lease_until == mine)
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def mark_sent(self, nudge_id: int, mine: datetime, message_id: str,
                        now: datetime) -> bool:
        """Record the message, only for the lease's current holder."""
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id, NudgeRow.status == PENDING,
                   NudgeRow.lease_until == mine)
            .values(status=SENT, message_id=message_id, sent_at=now, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def skip(self, nudge_id: int, mine: datetime | None) -> bool:
        """Give a pending claim up (past grace, nothing due any more, reminder off)."""
        held = NudgeRow.lease_until.is_(None) if mine is None else NudgeRow.lease_until == mine
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id, NudgeRow.status == PENDING, held)
            .values(status=SKIPPED, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def day_and_stale(self, user_pk: int, day: date) -> tuple[NudgeRow | None, bool]:
        """The person's claim for `day`, and whether pending claims of earlier days are
        left (a holder died and the day passed with the bot down): one range of the
        unique (user_pk, day) index, read before anything is written (an UPDATE that
        matches nothing would still begin a write transaction on SQLite)."""
        stmt = (select(NudgeRow)
                .where(NudgeRow.user_pk == user_pk, NudgeRow.day <= day,
                       or_(NudgeRow.day == day, NudgeRow.status == PENDING))
                .order_by(NudgeRow.day.desc())
                .execution_options(populate_existing=True))
        rows = list((await self.session.scalars(stmt)).all())
        today = rows[0] if rows and rows[0].day == day else None
        return today, len(rows) > (1 if today is not None else 0)

    async def skip_stale(self, user_pk: int, before: date) -> int:
        """Pending claims of earlier days (a holder died and the day passed with the bot
        down): recorded skipped, through the unique (user_pk, day) index."""
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.user_pk == user_pk, NudgeRow.day < before,
                   NudgeRow.status == PENDING)
            .values(status=SKIPPED, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt))

    async def sent_days(self, user_pk: int) -> list[tuple[date, str]]:
        """Every claimed day of a person with its status, oldest first (tests, status)."""
        stmt = (select(NudgeRow.day, NudgeRow.status).where(NudgeRow.user_pk == user_pk)
                .order_by(NudgeRow.day))
        return [(d, s) for d, s in (await self.session.execute(stmt)).all()]

    # -- cards -------------------------------------------------------------------------


def _on(platforms: Sequence[str]) -> Any:
    """The reminder's person is on a live platform: a probe of users by primary key per
    reminder, so the planner walks ix_reminders_next_at in order and stops at the
    limit (a join lets SQLite start from users instead: every user, then a sort)."""
    return (select(UserRow.id)
            .where(UserRow.id == ReminderRow.user_pk, UserRow.platform.in_(platforms))
            .exists())


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
