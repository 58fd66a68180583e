"""The adaptive mix through the Core: `/qotd topics adaptive:on|off` (validated, nothing
written on a refusal), `/qotd status` saying so, and the picker of a channel whose team
answers everything right drawing harder questions than the same channel without it,
with the same seed, the same every time, and only from the last four weeks' results."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ReactionInput
from bot.clock import FakeClock
from bot.rules.picking import Candidate
from bot.service.choosing import choose
from content.bank import write_bank_file
from content.model import Question
from tests.conftest import ALICE, BOB, CHANNEL, SRC, cmd, make_core, q

CAROL = Actor("u-carol", "Carol")
TOPICS = ("Serving", "Monitoring", "Training")
DIFFICULTIES = ("easy", "medium", "hard")
DRAWS = range(1000, 1240)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 9)))


def adaptive_bank() -> list[Question]:
    """27 choice questions (3 topics x 3 difficulties x 3), option A always right, with
    prompts of random words so that no two are near-duplicates."""
    rng = random.Random(14)
    out = []
    for t, topic in enumerate(TOPICS):
        for d, difficulty in enumerate(DIFFICULTIES):
            for i in range(3):
                words = " ".join(_word(rng) for _ in range(7))
                out.append(q(f"What does {words} mean?", topic, difficulty,
                             line=1 + 4 * (9 * t + 3 * d + i), kind="choice",
                             choices=(_word(rng), _word(rng), _word(rng)), correct="A"))
    return out


@pytest.fixture
async def adaptive_core(migrated_url: str, tmp_path: Path, clock: FakeClock,
                        console: ConsoleOutbound) -> AsyncIterator[Core]:
    directory = tmp_path / "bank"
    directory.mkdir()
    write_bank_file(directory / "adaptive.yaml", SRC, "markdown", adaptive_bank())
    core = await make_core(migrated_url, directory, clock, console, seed="adaptive")
    await core.start()
    try:
        yield core
    finally:
        await core.stop()


async def _adaptive_flag(core: Core) -> bool | None:
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)
        return None if row is None else row.adaptive


async def _picks(core: Core, **kw: object) -> list[Candidate]:
    """The channel's next draws as `/qotd post` would make them (the same service
    function, the same seed), without posting."""
    async with core.db.uow() as uow:
        channel = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                         CHANNEL.channel_id)
        assert channel is not None
        seed = core.deps.seed_for(channel)
        return [(await choose(uow, channel, seed, draw, core.deps.bank, **kw)).candidate  # type: ignore[arg-type]
                for draw in DRAWS]


def _hard_share(picks: list[Candidate]) -> float:
    return sum(1 for c in picks if c.difficulty == "hard") / len(picks)


async def _team_gets_everything_right(core: Core, console: ConsoleOutbound, posts: int) -> None:
    for _ in range(posts):
        replies = await core.handle_command(cmd("qotd", "post"))
        assert replies[0].message.tone == "info", replies[0].message.body
        message_id = console.posts()[-1].message_id
        for who in (ALICE, BOB, CAROL):
            assert await core.handle_reaction(
                ReactionInput(who, CHANNEL, message_id, "A", True)) == []


async def test_a_team_that_gets_everything_right_gets_harder_questions(
        adaptive_core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    core = adaptive_core
    async with core.db.uow() as uow:
        assert len(await uow.questions.topics()) == 3
    await _team_gets_everything_right(core, console, posts=9)
    assert await _adaptive_flag(core) is False  # off by default

    plain = await _picks(core)
    replies = await core.handle_command(cmd("qotd", "topics", adaptive="on"))
    assert replies[0].message.tone == "info"
    assert "Adaptive mix: on" in replies[0].message.body
    assert "70%" in replies[0].message.body
    assert await _adaptive_flag(core) is True
    adapted = await _picks(core)
    assert _hard_share(adapted) > _hard_share(plain) + 0.15
    assert await _picks(core) == adapted  # deterministic under the seed
    assert await _picks(core, now=clock.now()) == adapted  # the clock's window, same posts

    # five weeks on, the window holds none of those results: the plain mix again
    assert await _picks(core, now=clock.now() + timedelta(weeks=5)) == plain

    status = await core.handle_command(cmd("qotd", "status", actor=ALICE))
    assert "Adaptive mix: on" in status[0].message.body
    # a post still goes out through the adaptive picker
    replies = await core.handle_command(cmd("qotd", "post"))
    assert replies[0].message.tone == "info", replies[0].message.body

    replies = await core.handle_command(cmd("qotd", "topics", adaptive="off"))
    assert "Adaptive mix: off" in replies[0].message.body
    assert await _adaptive_flag(core) is False
    status = await core.handle_command(cmd("qotd", "status", actor=ALICE))
    assert "Adaptive mix" not in status[0].message.body


async def test_the_option_is_validated_and_nothing_is_written(adaptive_core: Core) -> None:
    core = adaptive_core
    replies = await core.handle_command(cmd("qotd", "topics", adaptive="sometimes"))
    assert replies[0].message.tone == "error"
    assert replies[0].visibility == "ephemeral"
    assert "adaptive must be on or off (got 'sometimes')" in replies[0].message.body
    assert await _adaptive_flag(core) is None  # the refusal did not even create the channel

    await core.handle_command(cmd("qotd", "topics", include="Serving"))
    replies = await core.handle_command(
        cmd("qotd", "topics", include="Monitoring", adaptive="maybe", difficulty="brutal"))
    body = replies[0].message.body
    assert replies[0].message.tone == "error"
    assert "2 problems; nothing was changed" in body
    assert "adaptive must be on or off" in body and "unknown difficulty" in body
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)
        assert row is not None
        assert (row.adaptive, row.include_topics, row.difficulty_weights) == (
            False, ["Serving"], None)

    # an admin only, like the other filters
    replies = await core.handle_command(cmd("qotd", "topics", actor=ALICE, adaptive="on"))
    assert replies[0].message.tone == "error"
    assert await _adaptive_flag(core) is False

    # reset:yes goes back to the plain picker, adaptive included
    await core.handle_command(cmd("qotd", "topics", adaptive="on"))
    assert await _adaptive_flag(core) is True
    replies = await core.handle_command(cmd("qotd", "topics", reset="yes"))
    assert "Adaptive mix: off" in replies[0].message.body
    assert await _adaptive_flag(core) is False
