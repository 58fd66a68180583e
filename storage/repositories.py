"""Repositories: the only place that writes SQL. Each takes the unit of work's session,
so everything one command changes commits or rolls back together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AttemptRow,
    ChannelRow,
    GradeRow,
    PeekRow,
    PostRow,
    QuestionRow,
    ReactionRow,
    UserRow,
)

PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"
MISSED = "missed"
FAILED = "failed"  # an extra post that could not be sent within the grace window


class _Repo:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def _insert(self, model: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT DO NOTHING / DO UPDATE on both."""
        return pg_insert(model) if self.dialect == "postgresql" else sqlite_insert(model)


class ChannelRepo(_Repo):
    async def get(self, platform: str, workspace_id: str, channel_id: str) -> ChannelRow | None:
        stmt = select(ChannelRow).where(
            ChannelRow.platform == platform,
            ChannelRow.workspace_id == workspace_id,
            ChannelRow.channel_id == channel_id,
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_or_create(
        self, platform: str, workspace_id: str, channel_id: str, now: datetime
    ) -> ChannelRow:
        """Race-free: two first commands in a new channel create one row."""
        stmt = (
            self._insert(ChannelRow)
            .values(
                platform=platform,
                workspace_id=workspace_id,
                channel_id=channel_id,
                scheduled=False,
                paused=False,
                post_time="09:00",
                timezone="UTC",
                days="mon,tue,wed,thu,fri",
                cycle=1,
                draws=0,
                include_topics=[],
                exclude_topics=[],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "channel_id"])
        )
        await self.session.execute(stmt)
        row = await self.get(platform, workspace_id, channel_id)
        assert row is not None
        return row

    async def by_pk(self, pk: int) -> ChannelRow | None:
        return await self.session.get(ChannelRow, pk)

    async def scheduled(self) -> Sequence[ChannelRow]:
        stmt = select(ChannelRow).where(ChannelRow.scheduled.is_(True)).order_by(ChannelRow.id)
        return (await self.session.scalars(stmt)).all()

    async def next_draw(self, pk: int) -> int:
        """Bump the channel's draw counter atomically (a row lock on PostgreSQL, the write
        lock on SQLite), which also serialises concurrent picks in one channel."""
        stmt = (
            update(ChannelRow)
            .where(ChannelRow.id == pk)
            .values(draws=ChannelRow.draws + 1)
            .returning(ChannelRow.draws)
        )
        value = (await self.session.execute(stmt)).scalar_one()
        await self.session.refresh(await self._row(pk))
        return int(value)

    async def _row(self, pk: int) -> ChannelRow:
        row = await self.session.get(ChannelRow, pk)
        assert row is not None
        return row


class QuestionRepo(_Repo):
    async def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        for chunk_start in range(0, len(rows), 200):
            chunk = rows[chunk_start : chunk_start + 200]
            stmt = self._insert(QuestionRow).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    name: getattr(stmt.excluded, name)
                    for name in (
                        "status", "topic", "difficulty", "kind", "group_key", "retired",
                        "data", "synced_at",
                    )
                },
            )
            await self.session.execute(stmt)

    async def retire_except(self, keep: Iterable[str]) -> int:
        """Mark questions no longer in the bank retired (never delete: posts refer to them)."""
        ids = set(keep)
        existing = (await self.session.scalars(select(QuestionRow.id))).all()
        gone = [q for q in existing if q not in ids]
        if gone:
            await self.session.execute(
                update(QuestionRow).where(QuestionRow.id.in_(gone)).values(retired=True)
            )
        return len(gone)

    async def get(self, question_id: str) -> QuestionRow | None:
        return await self.session.get(QuestionRow, question_id)

    async def pickable(self) -> Sequence[QuestionRow]:
        """Ready, current, canonical questions (a near-duplicate group counts once)."""
        stmt = select(QuestionRow).where(
            QuestionRow.status == "ready",
            QuestionRow.retired.is_(False),
            QuestionRow.id == QuestionRow.group_key,
        )
        return (await self.session.scalars(stmt)).all()

    async def group(self, group_key: str) -> Sequence[QuestionRow]:
        stmt = (
            select(QuestionRow)
            .where(QuestionRow.group_key == group_key, QuestionRow.retired.is_(False))
            .order_by(QuestionRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def topics(self) -> list[str]:
        stmt = (
            select(QuestionRow.topic)
            .where(QuestionRow.status == "ready", QuestionRow.retired.is_(False))
            .distinct()
        )
        return sorted(t for t in (await self.session.scalars(stmt)).all() if t)


class PostRepo(_Repo):
    async def claim(
        self,
        channel_pk: int,
        day: date | None,
        status: str,
        now: datetime,
        *,
        slot_at: datetime | None = None,
        lease_until: datetime | None = None,
    ) -> int | None:
        """Insert a claim; None when the (channel, day) already has one (someone else won).
        Extra posts (day None) never conflict."""
        stmt = (
            self._insert(PostRow)
            .values(
                channel_pk=channel_pk,
                day=day,
                status=status,
                slot_at=slot_at,
                claimed_at=now,
                send_lease_until=lease_until,
            )
            .on_conflict_do_nothing(index_elements=["channel_pk", "day"])
            .returning(PostRow.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, post_id: int) -> PostRow | None:
        return await self.session.get(PostRow, post_id)

    async def on_day(self, channel_pk: int, day: date) -> PostRow | None:
        stmt = select(PostRow).where(PostRow.channel_pk == channel_pk, PostRow.day == day)
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_message(self, channel_pk: int, message_id: str) -> PostRow | None:
        stmt = select(PostRow).where(
            PostRow.channel_pk == channel_pk, PostRow.message_id == message_id
        )
        return (await self.session.scalars(stmt)).first()

    async def by_number(self, channel_pk: int, number: int) -> PostRow | None:
        stmt = select(PostRow).where(
            PostRow.channel_pk == channel_pk, PostRow.number == number, PostRow.status == SENT
        )
        return (await self.session.scalars(stmt)).first()

    async def latest_sent(self, channel_pk: int) -> PostRow | None:
        stmt = (
            select(PostRow)
            .where(PostRow.channel_pk == channel_pk, PostRow.status == SENT)
            .order_by(PostRow.posted_at.desc(), PostRow.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def sent(self, channel_pks: Sequence[int]) -> Sequence[PostRow]:
        stmt = (
            select(PostRow)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .order_by(PostRow.posted_at, PostRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def asked_in_cycle(self, channel_pk: int, cycle: int) -> set[str]:
        stmt = (
            select(QuestionRow.group_key)
            .join(PostRow, PostRow.question_id == QuestionRow.id)
            .where(PostRow.channel_pk == channel_pk, PostRow.cycle == cycle)
        )
        return set((await self.session.scalars(stmt)).all())

    async def last_topic(self, channel_pk: int) -> str | None:
        stmt = (
            select(QuestionRow.topic)
            .join(PostRow, PostRow.question_id == QuestionRow.id)
            .where(PostRow.channel_pk == channel_pk)
            .order_by(PostRow.number.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def unsent(self, now: datetime) -> Sequence[PostRow]:
        """Claims with a question whose send failed or whose sender died (lease expired)."""
        stmt = (
            select(PostRow)
            .where(
                PostRow.status == PENDING,
                PostRow.question_id.is_not(None),
                (PostRow.send_lease_until.is_(None)) | (PostRow.send_lease_until <= now),
            )
            .order_by(PostRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def has_pending(self, channel_pk: int) -> bool:
        stmt = select(PostRow.id).where(
            PostRow.channel_pk == channel_pk, PostRow.status == PENDING
        ).limit(1)
        return (await self.session.scalars(stmt)).first() is not None

    async def mark_sent(self, post_id: int, message_id: str, now: datetime,
                        reveal_at: datetime) -> bool:
        """Record the platform's message id, only while the claim is still pending:
        another process may meanwhile have given up on it (past grace) or sent it."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == PENDING)
            .values(status=SENT, message_id=message_id, posted_at=now, reveal_at=reveal_at,
                    send_lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def take_send_lease(self, post_id: int, now: datetime, until: datetime) -> bool:
        """Only one process may send a claim at a time; the lease expires if it dies."""
        stmt = (
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.status == PENDING,
                (PostRow.send_lease_until.is_(None)) | (PostRow.send_lease_until <= now),
            )
            .values(send_lease_until=until)
        )
        result = await self.session.execute(stmt)
        return _rowcount(result) == 1

    async def due_reveals(self, now: datetime) -> Sequence[PostRow]:
        stmt = (
            select(PostRow)
            .where(
                PostRow.status == SENT,
                PostRow.revealed_at.is_(None),
                PostRow.reveal_at <= now,
                (PostRow.reveal_lease_until.is_(None)) | (PostRow.reveal_lease_until <= now),
            )
            .order_by(PostRow.reveal_at, PostRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def take_reveal_lease(self, post_id: int, now: datetime, until: datetime) -> bool:
        stmt = (
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.revealed_at.is_(None),
                (PostRow.reveal_lease_until.is_(None)) | (PostRow.reveal_lease_until <= now),
            )
            .values(reveal_lease_until=until)
        )
        result = await self.session.execute(stmt)
        return _rowcount(result) == 1

    async def pending_reveals(self) -> Sequence[PostRow]:
        stmt = select(PostRow).where(PostRow.status == SENT, PostRow.revealed_at.is_(None))
        return (await self.session.scalars(stmt)).all()

    async def next_reveal_after(self, when: datetime) -> datetime | None:
        stmt = select(func.min(PostRow.reveal_at)).where(
            PostRow.status == SENT, PostRow.revealed_at.is_(None), PostRow.reveal_at > when
        )
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    async def days_from(self, channel_pk: int, first: date) -> dict[date, str]:
        stmt = select(PostRow.day, PostRow.status).where(
            PostRow.channel_pk == channel_pk, PostRow.day >= first
        )
        return {d: s for d, s in (await self.session.execute(stmt)).all() if d is not None}


class UserRepo(_Repo):
    async def upsert(
        self, platform: str, workspace_id: str, user_id: str, display_name: str, now: datetime
    ) -> int:
        """Keep the latest display name (it arrives with most inputs). An empty name means
        the platform did not say (Discord's reaction-removed event carries no member): it
        never replaces a known one, and a new user is shown by their id until it is known."""
        stmt = self._insert(UserRow).values(
            platform=platform,
            workspace_id=workspace_id,
            user_id=user_id,
            display_name=display_name or user_id,
            updated_at=now,
        )
        changes: dict[str, Any] = {"updated_at": now}
        if display_name:
            changes["display_name"] = stmt.excluded.display_name
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"], set_=changes
        ).returning(UserRow.id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def find(self, platform: str, workspace_id: str, user_id: str) -> UserRow | None:
        stmt = select(UserRow).where(
            UserRow.platform == platform,
            UserRow.workspace_id == workspace_id,
            UserRow.user_id == user_id,
        )
        return (await self.session.scalars(stmt)).one_or_none()


class AnswerRepo(_Repo):
    async def add_reaction(self, post_id: int, user_pk: int, key: str, now: datetime) -> None:
        stmt = (
            self._insert(ReactionRow)
            .values(post_id=post_id, user_pk=user_pk, key=key, added_at=now)
            .on_conflict_do_nothing(index_elements=["post_id", "user_pk", "key"])
        )
        await self.session.execute(stmt)

    async def remove_reaction(self, post_id: int, user_pk: int, key: str) -> None:
        await self.session.execute(
            delete(ReactionRow).where(
                ReactionRow.post_id == post_id,
                ReactionRow.user_pk == user_pk,
                ReactionRow.key == key,
            )
        )

    async def reactions(self, post_id: int, user_pk: int) -> Sequence[ReactionRow]:
        """The user's present reactions on a post, oldest first."""
        stmt = (
            select(ReactionRow)
            .where(ReactionRow.post_id == post_id, ReactionRow.user_pk == user_pk)
            .order_by(ReactionRow.added_at, ReactionRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def peek(self, post_id: int, user_pk: int, now: datetime) -> None:
        stmt = (
            self._insert(PeekRow)
            .values(post_id=post_id, user_pk=user_pk, peeked_at=now)
            .on_conflict_do_nothing(index_elements=["post_id", "user_pk"])
        )
        await self.session.execute(stmt)

    async def peeked_at(self, post_id: int, user_pk: int) -> datetime | None:
        stmt = select(PeekRow.peeked_at).where(
            PeekRow.post_id == post_id, PeekRow.user_pk == user_pk
        )
        return (await self.session.scalars(stmt)).first()

    async def add_grade(
        self, post_id: int, user_pk: int, question_id: str, grade: str, now: datetime
    ) -> None:
        self.session.add(
            GradeRow(
                post_id=post_id, user_pk=user_pk, question_id=question_id, grade=grade,
                graded_at=now,
            )
        )
        await self.session.flush()

    async def attempt(self, post_id: int, user_pk: int) -> AttemptRow | None:
        stmt = select(AttemptRow).where(
            AttemptRow.post_id == post_id, AttemptRow.user_pk == user_pk
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def save_attempt(self, row: AttemptRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def delete_attempt(self, row: AttemptRow) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def attempts_for_post(self, post_id: int) -> Sequence[tuple[AttemptRow, UserRow]]:
        stmt = (
            select(AttemptRow, UserRow)
            .join(UserRow, UserRow.id == AttemptRow.user_pk)
            .where(AttemptRow.post_id == post_id)
            .order_by(AttemptRow.first_at, AttemptRow.id)
        )
        return [(a, u) for a, u in (await self.session.execute(stmt)).all()]


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
