"""The caller's place below the top ten inside a large tie on points: the members tied
with them are ordered by streak, then by the earlier first answer, on every board (the
week's sums and the all-time totals, channel and workspace). The streaks of those tied
members are only compared with the caller's, never shown, so this pins that comparing
is enough."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ReactionInput
from bot.clock import FakeClock
from tests.conftest import ALICE, CHANNEL, cmd

TOP = [Actor(f"u-top{i}", f"Top {i}") for i in range(1, 11)]
AHEAD_STREAK_3 = Actor("u-x1", "Xena")  # 1 point, answered every post
AHEAD_STREAK_2 = Actor("u-x5", "Yuri")  # 1 point, answered the last two
AHEAD_EARLIER = Actor("u-x2", "Zoe")  # 1 point, streak 1 like Alice, answered before her
BEHIND_LATER = Actor("u-x3", "Walt")  # 1 point, streak 1, answered after Alice
BEHIND_NO_STREAK = Actor("u-x4", "Vera")  # 1 point on the first day, then nothing


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


async def _vote(core: Core, console: ConsoleOutbound, who: Actor, when: datetime,
                key: str = "B") -> None:
    await core.advance_to(when)
    latest = console.posts(CHANNEL)[-1]
    await core.handle_reaction(ReactionInput(who, CHANNEL, latest.message_id, key, True))


async def _board(core: Core, who: Actor, period: str, scope: str) -> list[str]:
    replies = await core.handle_command(cmd("leaderboard", actor=who, period=period,
                                            scope=scope))
    return replies[0].message.body.splitlines()


@pytest.mark.parametrize("period", ["week", "all"])
@pytest.mark.parametrize("scope", ["channel", "workspace"])
async def test_the_callers_tie_group_below_the_top_orders_by_streak_then_first_answer(
    core: Core, console: ConsoleOutbound, clock: FakeClock, period: str, scope: str
) -> None:
    # only the easy choice question (B is right, 1 point), daily at 09:00 UTC, Monday on
    await core.handle_command(cmd("qotd", "topics", include="Monitoring", difficulty="easy"))
    await core.handle_command(cmd("qotd", "schedule", days="daily"))
    others = {
        1: [(AHEAD_STREAK_3, "A"), (BEHIND_NO_STREAK, "B")],
        2: [(AHEAD_STREAK_3, "B"), (AHEAD_STREAK_2, "A")],
        3: [(AHEAD_STREAK_3, "A"), (AHEAD_STREAK_2, "B"), (AHEAD_EARLIER, "B"), (ALICE, "B"),
            (BEHIND_LATER, "B")],
    }
    for day in (1, 2, 3):
        for minute, member in enumerate(TOP, start=1):
            await _vote(core, console, member, at(day, 9, minute))
        for minute, (member, key) in enumerate(others[day], start=20):
            await _vote(core, console, member, at(day, 9, minute), key)
    lines = await _board(core, ALICE, period, scope)
    assert len(lines) == 12 and lines[10] == "…"
    assert all(line.split(": ")[1].startswith("3 pts") for line in lines[:10]), lines
    # ahead of Alice in the 1-point group: streak 3, streak 2, streak 1 answered earlier
    assert lines[11] == "14. Alice: 1 pts, streak 1 ← you"
    assert (await _board(core, BEHIND_LATER, period, scope))[11] == "15. Walt: 1 pts, streak 1 ← you"
    assert (await _board(core, AHEAD_STREAK_3, period, scope))[11] == \
        "11. Xena: 1 pts, streak 3 ← you"
    # the earliest first answer of the group, but no current streak: last of it
    assert (await _board(core, BEHIND_NO_STREAK, period, scope))[11] == "16. Vera: 1 pts ← you"
