"""The one-round reaction writer (storage.answer_writes): concurrent reactions count as
sequential ones do, a failing reaction in a group commit fails alone, and a question
edited by a bank sync is judged by its new key at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ReactionInput
from bot.clock import FakeClock
from storage.answer_writes import (
    AttemptWrite,
    Outcome,
    ReactionEvent,
    ReactionTarget,
    StoredAttempt,
    StoredReaction,
)
from tests.conftest import CHANNEL, cmd, sample_questions, write_bank


async def _post_choice(core: Core, console: ConsoleOutbound) -> str:
    """Posts the easy Monitoring choice question (key B, 1 point)."""
    replies = await core.handle_command(cmd("qotd", "topics", include="Monitoring",
                                            difficulty="easy"))
    assert replies[0].message.tone == "info", replies[0].message.body
    replies = await core.handle_command(cmd("qotd", "post"))
    assert replies[0].message.tone == "info", replies[0].message.body
    return console.posts()[-1].message_id


async def _attempts(core: Core) -> dict[str, tuple[str | None, float, datetime]]:
    async with core.db.uow() as uow:
        channel = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                         CHANNEL.channel_id)
        assert channel is not None
        post = await uow.posts.by_number(channel.id, 1)
        assert post is not None
        return {user.user_id: (attempt.choice, attempt.points, attempt.first_at)
                for attempt, user in await uow.answers.attempts_for_post(post.id)}


async def test_concurrent_reactions_count_as_sequential_ones(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    message_id = await _post_choice(core, console)
    members = [Actor(f"u-{i}", f"Member {i}") for i in range(40)]
    keys = ["B" if i % 3 else "A" for i in range(40)]
    clock.advance(timedelta(minutes=5))
    await asyncio.gather(*(core.handle_reaction(ReactionInput(m, CHANNEL, message_id, k, True))
                           for m, k in zip(members, keys, strict=True)))
    # then half of them withdraw, concurrently too: nothing is left of their attempt
    await asyncio.gather(*(core.handle_reaction(ReactionInput(m, CHANNEL, message_id, k, False))
                           for m, k in list(zip(members, keys, strict=True))[::2]))
    got = await _attempts(core)
    expected = {m.user_id: (k, 1.0 if k == "B" else 0.0)
                for m, k in list(zip(members, keys, strict=True))[1::2]}
    assert {u: (c, p) for u, (c, p, _) in got.items()} == expected
    assert {at for _, _, at in got.values()} == {clock.now()}
    async with core.db.uow() as uow:
        names = {u: (await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, u))
                 for u in expected}
    assert {u: row.display_name for u, row in names.items() if row} == {
        u: f"Member {u[2:]}" for u in expected}


async def test_an_edited_question_is_judged_by_its_new_key(
    core: Core, console: ConsoleOutbound, bank_dir: Path
) -> None:
    message_id = await _post_choice(core, console)
    await core.handle_reaction(ReactionInput(Actor("u-1", "One"), CHANNEL, message_id, "B",
                                             True))
    edited = [q if q.kind != "choice" or q.topic != "Monitoring" else
              q.model_copy(update={"correct": "C"}) for q in sample_questions()]
    write_bank(bank_dir, edited)
    await core.sync_bank()
    await core.handle_reaction(ReactionInput(Actor("u-2", "Two"), CHANNEL, message_id, "C",
                                             True))
    got = await _attempts(core)
    assert got["u-1"][:2] == ("B", 1.0)  # stored when B was the key (recomputed on change)
    assert got["u-2"][:2] == ("C", 1.0)


class _Rules:
    """Counts every reaction as the choice it is, 1 point; can hold the writer thread
    inside the reaction it judges."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.hold = hold
        self.entered = threading.Event()

    def accepts(self, target: ReactionTarget, question_data: Callable[[], dict[str, Any]]
                ) -> bool:
        self.entered.set()
        if self.hold is not None:
            assert self.hold.wait(10)
        return True

    def decide(self, target: ReactionTarget, stored: StoredAttempt | None,
               present: Sequence[StoredReaction], peeked_at: datetime | None) -> AttemptWrite:
        assert present
        now = present[-1].added_at
        return StoredAttempt(present[-1].key, None, None, None, False, False, True, 1.0,
                             now, now)


def _event(message_id: str, user: str, at: datetime) -> ReactionEvent:
    return ReactionEvent(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id,
                         message_id, user, user.title(), "B", True, at)


async def test_a_failing_reaction_in_a_group_commit_fails_alone(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    if core.db.reactions.mode != "writer thread":
        pytest.skip("group commit is the SQLite writer thread's")
    message_id = await _post_choice(core, console)
    now = clock.now()
    hold = threading.Event()
    holding = _Rules(hold=hold)
    first = asyncio.ensure_future(core.db.reactions.record(_event(message_id, "u-0", now),
                                                           holding))
    assert await asyncio.to_thread(holding.entered.wait, 10)
    # the writer is busy inside u-0's reaction: these five queue and commit as one group
    good = _Rules()

    class Boom(RuntimeError):
        pass

    def boom(*_: object) -> AttemptWrite:
        raise Boom("judging failed")

    bad = _Rules()
    bad.decide = boom  # type: ignore[method-assign]
    batch = [core.db.reactions.record(_event(message_id, f"u-{i}", now),
                                      bad if i == 3 else good) for i in range(1, 6)]
    tasks = [asyncio.ensure_future(c) for c in batch]
    await asyncio.sleep(0)
    hold.set()
    assert await first == Outcome.RECORDED
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r) for r in results] == [Outcome, Outcome, Boom, Outcome, Outcome]
    got = await _attempts(core)
    assert sorted(got) == ["u-0", "u-1", "u-2", "u-4", "u-5"]


async def test_a_reaction_survives_its_pooled_connection_dying(
    core: Core, console: ConsoleOutbound
) -> None:
    """PostgreSQL: the reactions' pool does not pre-ping; a connection the server ended
    while idle (failover, pg_terminate_backend) costs one retry, not the reaction."""
    if core.db.dialect != "postgresql":
        pytest.skip("the reactions' own pool is PostgreSQL's")
    from sqlalchemy import text

    message_id = await _post_choice(core, console)
    await core.handle_reaction(ReactionInput(Actor("u-1", "One"), CHANNEL, message_id, "B",
                                             True))
    engine = core.db.reactions.engine
    async with engine.connect() as conn:  # the one pooled connection the reaction used
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    assert engine.pool.checkedin() == 1
    async with core.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await core.handle_reaction(ReactionInput(Actor("u-2", "Two"), CHANNEL, message_id, "B",
                                             True))
    got = await _attempts(core)
    assert {u: (c, p) for u, (c, p, _) in got.items()} == {"u-1": ("B", 1.0),
                                                           "u-2": ("B", 1.0)}


async def test_one_members_concurrent_switches_end_in_their_latest_vote(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    """A vote switch arrives as two events at once (the new reaction added, the old one
    removed), handled concurrently: on PostgreSQL two transactions for the same member
    and post, neither seeing the other's write. Whatever the interleaving, the attempt
    must be the one the stored reactions make."""
    message_id = await _post_choice(core, console)
    member = Actor("u-switch", "Switcher")
    keys = ["A", "B", "C"]
    current = "A"
    await core.handle_reaction(ReactionInput(member, CHANNEL, message_id, current, True))
    for round_ in range(30):
        clock.advance(timedelta(seconds=1))
        new = keys[(keys.index(current) + 1 + round_ % 2) % 3]
        await asyncio.gather(
            core.handle_reaction(ReactionInput(member, CHANNEL, message_id, new, True)),
            core.handle_reaction(ReactionInput(member, CHANNEL, message_id, current, False)),
        )
        current = new
        got = await _attempts(core)
        assert got.get("u-switch", (None, 0.0, None))[:2] == (
            current, 1.0 if current == "B" else 0.0), (round_, got)
