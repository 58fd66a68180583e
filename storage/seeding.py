"""Reactions mode's seeding marker (issue 16): `posts.seed_due_at`.

Set in the transaction that marks a reactions-mode post sent, cleared once the bot's own
reactions are on it. A process that dies in between leaves it set, and the next start
finds those posts here (one range scan of ix_posts_seed_due_at) and seeds them again:
adding a reaction that is already there changes nothing on either platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelRow, PostRow, QuestionRow


async def seed_due(session: AsyncSession, post_id: int, now: datetime) -> None:
    await session.execute(update(PostRow).where(PostRow.id == post_id)
                          .values(seed_due_at=now))


async def seeded(session: AsyncSession, post_ids: Sequence[int]) -> None:
    """The posts' seeds are on the platform (or no longer worth adding): clear them."""
    if post_ids:
        await session.execute(update(PostRow).where(PostRow.id.in_(post_ids))
                              .values(seed_due_at=None))


@dataclass(frozen=True)
class Unseeded:
    post_id: int
    platform: str
    workspace_id: str
    channel_id: str
    message_id: str | None
    due_at: datetime  # when the post was marked sent
    data: dict[str, Any] | None  # the question's stored JSON


async def unseeded(session: AsyncSession, platforms: Sequence[str], limit: int
                   ) -> list[Unseeded]:
    """Posts whose seeding was cut short, oldest first, on the given platforms."""
    stmt = (
        select(PostRow.id, ChannelRow.platform, ChannelRow.workspace_id, ChannelRow.channel_id,
               PostRow.message_id, PostRow.seed_due_at, QuestionRow.data)
        .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
        .outerjoin(QuestionRow, QuestionRow.id == PostRow.question_id)
        .where(PostRow.seed_due_at.is_not(None), ChannelRow.platform.in_(platforms))
        .order_by(PostRow.seed_due_at)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Unseeded(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
