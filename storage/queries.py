"""Read models for results, leaderboards and stats: plain rows, no ORM objects, so the
service can hand them to the pure rules as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AttemptRow, ChannelRow, PostRow, QuestionRow, UserRow
from storage.repositories import SENT


@dataclass(frozen=True)
class UserTotal:
    user_pk: int
    user_id: str
    display_name: str
    points: float
    first_answer_at: datetime


@dataclass(frozen=True)
class AttemptFact:
    post_id: int
    user_pk: int
    first_at: datetime
    correct: bool | None
    topic: str


class Queries:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def workspace_channels(self, platform: str, workspace_id: str) -> list[int]:
        stmt = select(ChannelRow.id).where(
            ChannelRow.platform == platform, ChannelRow.workspace_id == workspace_id
        )
        return list((await self.session.scalars(stmt)).all())

    async def totals(self, channel_pks: Sequence[int], since: datetime | None) -> list[UserTotal]:
        """Points per user over posts in these channels, attempts first made since `since`."""
        stmt = (
            select(
                UserRow.id,
                UserRow.user_id,
                UserRow.display_name,
                func.sum(AttemptRow.points),
                func.min(AttemptRow.first_at),
            )
            .join(AttemptRow, AttemptRow.user_pk == UserRow.id)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .group_by(UserRow.id, UserRow.user_id, UserRow.display_name)
        )
        if since is not None:
            stmt = stmt.where(AttemptRow.first_at >= since)
        rows = (await self.session.execute(stmt)).all()
        return [
            UserTotal(
                user_pk=pk,
                user_id=uid,
                display_name=name,
                points=float(points or 0.0),
                first_answer_at=_aware(first),
            )
            for pk, uid, name, points, first in rows
        ]

    async def attempt_facts(
        self, channel_pks: Sequence[int], user_pk: int | None = None
    ) -> list[AttemptFact]:
        stmt = (
            select(
                AttemptRow.post_id,
                AttemptRow.user_pk,
                AttemptRow.first_at,
                AttemptRow.correct,
                QuestionRow.topic,
            )
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(QuestionRow, QuestionRow.id == PostRow.question_id)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
        )
        if user_pk is not None:
            stmt = stmt.where(AttemptRow.user_pk == user_pk)
        rows = (await self.session.execute(stmt)).all()
        return [
            AttemptFact(post_id=p, user_pk=u, first_at=_aware(f), correct=c, topic=t)
            for p, u, f, c, t in rows
        ]


def _aware(value: datetime | str) -> datetime:
    """Aggregates (min) bypass the column's TypeDecorator on SQLite: normalise here."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
