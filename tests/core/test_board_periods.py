"""Week and month boards read their period's totals (migration 0005): made by the first
board of a period, kept by the triggers as members answer, the same board as summed from
attempts; and, when the writers hold the tables, summed from attempts that once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.clock import FakeClock
from storage.models import BoardPeriodRow
from tests.conftest import ALICE, BOB
from tests.core.test_standings import CAROL, _board, _setup, _vote, at


async def _periods(core: Core) -> int:
    async with core.db.uow() as uow:
        return int((await uow.session.execute(
            select(func.count()).select_from(BoardPeriodRow))).scalar_one())


async def test_first_board_makes_the_period_and_answers_keep_it(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    await _setup(core)
    await _vote(core, console, clock, ALICE, at(1, 9, 10))
    assert await _periods(core) == 0
    assert await _board(core) == "1. Alice: 1 pts, streak 1 ← you"
    assert await _periods(core) == 1
    # later answers reach the period through the triggers, not a new sum
    await _vote(core, console, clock, BOB, at(2, 9, 5))
    await _vote(core, console, clock, BOB, at(2, 9, 6), key="C")  # a switch: 0 points
    await _vote(core, console, clock, CAROL, at(3, 9, 5))
    await _vote(core, console, clock, ALICE, at(3, 9, 30))
    want = "1. Alice: 2 pts, streak 1 ← you\n2. Carol: 1 pts, streak 1\n3. Bob: 0 pts, streak 1"
    assert await _board(core) == want
    assert await _periods(core) == 1
    assert await _board(core, period="month") == want
    # the next week is a new period; the first board of it makes it
    await core.advance_to(at(8, 10))
    assert await _board(core) == "No answers in this period yet."


async def test_board_is_summed_when_the_writers_hold_the_tables(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    """PostgreSQL: a transaction holds attempts; the board's period cannot be made within
    its short lock wait, so the board is summed from attempts (the same answer) and no
    period is left half made."""
    if core.db.dialect != "postgresql":
        pytest.skip("SQLite: every command waits for the write lock (its name upsert)")
    await _setup(core)
    await _vote(core, console, clock, ALICE, at(1, 9, 10))
    await _vote(core, console, clock, BOB, at(1, 9, 20), key="C")
    async with core.db.engine.connect() as holder:
        await holder.execute(text("LOCK TABLE attempts IN ROW EXCLUSIVE MODE"))
        started = time.monotonic()
        body = await _board(core)
        waited = time.monotonic() - started
        await holder.rollback()
    assert body == "1. Alice: 1 pts, streak 1 ← you\n2. Bob: 0 pts, streak 1"
    assert waited < 5, waited
    assert await _periods(core) == 0
    assert await _board(core) == body  # made now
    assert await _periods(core) == 1
