"""Turn a channel's filters and history into the inputs of `bot.rules.picking.pick`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rules.picking import Candidate, Pick, pick, weight_of
from storage.models import ChannelRow, QuestionRow
from storage.uow import UnitOfWork


def candidates_for(channel: ChannelRow, rows: Sequence[QuestionRow]) -> list[Candidate]:
    """Pickable questions after the channel's topic filters (difficulty is a weight)."""
    include = set(channel.include_topics or [])
    exclude = set(channel.exclude_topics or [])
    out: list[Candidate] = []
    for row in rows:
        if include and row.topic not in include:
            continue
        if row.topic in exclude:
            continue
        candidate = Candidate(key=row.id, topic=row.topic, difficulty=row.difficulty)
        if weight_of(candidate, channel.difficulty_weights) > 0:
            out.append(candidate)
    return out


async def left_in_cycle(uow: UnitOfWork, channel: ChannelRow) -> int:
    candidates = candidates_for(channel, await uow.questions.pickable())
    asked = await uow.posts.asked_in_cycle(channel.id, channel.cycle)
    return sum(1 for c in candidates if c.key not in asked)


async def choose(uow: UnitOfWork, channel: ChannelRow, seed: str, draw: int) -> Pick:
    """Raises NothingToPick when the filters leave nothing."""
    candidates = candidates_for(channel, await uow.questions.pickable())
    asked = await uow.posts.asked_in_cycle(channel.id, channel.cycle)
    last_topic = await uow.posts.last_topic(channel.id)
    return pick(
        candidates,
        asked,
        last_topic,
        seed=seed,
        draw=draw,
        difficulty_weights=channel.difficulty_weights,
    )
