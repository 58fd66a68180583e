"""Leaderboards (periods, ties, the caller's rank, scopes), streaks and stats."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ChannelRef, CommandInput, ReactionInput, UserRef
from bot.clock import FakeClock
from tests.conftest import ALICE, BOB, CHANNEL, cmd

DAVE = Actor("u-dave", "Dave")
ERIN = Actor("u-erin", "Erin")
CAROL = Actor("u-carol", "Carol")
ALICE_REF = UserRef(ALICE.user_id, ALICE.display_name)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


async def _setup(core: Core, channel: ChannelRef = CHANNEL) -> None:
    """Only the easy choice question (B is right, 1 point), posted daily at 09:00 UTC."""
    await core.handle_command(cmd("qotd", "topics", channel=channel, include="Monitoring",
                                  difficulty="easy"))
    await core.handle_command(cmd("qotd", "schedule", channel=channel, days="daily"))


async def _vote(core: Core, console: ConsoleOutbound, clock: FakeClock, who: Actor, when: datetime,
                key: str = "B", channel: ChannelRef = CHANNEL) -> None:
    await core.advance_to(when)
    latest = console.posts(channel)[-1]
    await core.handle_reaction(ReactionInput(who, channel, latest.message_id, key, True))


async def _board(core: Core, who: Actor = ALICE, **options: str) -> str:
    replies = await core.handle_command(cmd("leaderboard", actor=who, **options))
    assert replies[0].visibility == "public"
    return replies[0].message.body


async def test_points_ties_by_streak_then_first_answer(core: Core, console: ConsoleOutbound,
                                                      clock: FakeClock) -> None:
    await _setup(core)
    await _vote(core, console, clock, ALICE, at(1, 9, 10))
    await _vote(core, console, clock, BOB, at(1, 9, 20))
    await _vote(core, console, clock, CAROL, at(1, 9, 30), key="A")
    await _vote(core, console, clock, BOB, at(2, 9, 5))
    assert await _board(core) == "1. Bob: 2 pts, streak 2\n2. Alice: 1 pts, streak 1 ← you\n" \
        "3. Carol: 0 pts, streak 1"
    await _vote(core, console, clock, DAVE, at(3, 9, 1))
    await _vote(core, console, clock, ERIN, at(3, 9, 2))
    await _vote(core, console, clock, ALICE, at(3, 9, 3))
    # Alice and Bob tie on 2 points: Bob's current streak (2) beats Alice's (1, she missed
    # Tuesday); Dave and Erin tie on points and streak: Dave answered first.
    assert await _board(core) == (
        "1. Bob: 2 pts, streak 2\n2. Alice: 2 pts, streak 1 ← you\n"
        "3. Dave: 1 pts, streak 1\n4. Erin: 1 pts, streak 1\n5. Carol: 0 pts"
    )


async def test_periods_follow_the_calendar(core: Core, console: ConsoleOutbound,
                                          clock: FakeClock) -> None:
    await _setup(core)
    await _vote(core, console, clock, ALICE, at(5, 9, 10))  # Friday 5 March
    await core.advance_to(at(8, 10))  # the next Monday
    assert await _board(core) == "No answers in this period yet."
    assert await _board(core, period="month") == "1. Alice: 1 pts ← you"
    await _vote(core, console, clock, BOB, datetime(2027, 4, 1, 9, 30, tzinfo=UTC))
    month = await _board(core, period="month")
    assert month == "1. Bob: 1 pts, streak 1"
    everything = await _board(core, period="all")
    assert everything.splitlines()[0].startswith("1. ")
    assert {line.split(". ")[1].split(":")[0] for line in everything.splitlines()} == {
        "Alice", "Bob",
    }
    bad = await core.handle_command(cmd("leaderboard", period="year"))
    assert bad[0].message.tone == "error"
    assert "period must be one of week, month, all" in bad[0].message.body


async def test_caller_outside_top_ten_and_workspace_scope(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    other = ChannelRef("console", CHANNEL.workspace_id, "c2")
    await _setup(core)
    await _setup(core, other)
    await core.advance_to(at(1, 9, 0))
    for n in range(11):
        await _vote(core, console, clock, Actor(f"u{n:02d}", f"Player {n:02d}"),
                    at(1, 9, 1 + n))
    await _vote(core, console, clock, ALICE, at(1, 9, 30), key="C")
    board = (await _board(core)).splitlines()
    assert len(board) == 12 and board[10] == "…"
    assert board[0] == "1. Player 00: 1 pts, streak 1"
    assert board[11] == "12. Alice: 0 pts, streak 1 ← you"
    await _vote(core, console, clock, BOB, at(1, 10, 0), channel=other)
    channel_only = await _board(core, who=BOB)
    assert "Bob" not in channel_only
    workspace = await _board(core, who=BOB, scope="workspace")
    assert "12. Bob: 1 pts, streak 1 ← you" in workspace


async def test_stats_and_streak_for_another_user(core: Core, console: ConsoleOutbound,
                                                 clock: FakeClock) -> None:
    await _setup(core)
    await _vote(core, console, clock, ALICE, at(1, 9, 10))
    await _vote(core, console, clock, ALICE, at(2, 9, 10), key="C")
    await core.advance_to(at(3, 10))  # Wednesday's post is still open
    replies = await core.handle_command(
        CommandInput("qotd", BOB, CHANNEL, subcommand="stats", user=ALICE_REF)
    )
    body = replies[0].message.body
    assert replies[0].visibility == "ephemeral"
    assert replies[0].message.title == "Stats for Alice"
    assert "Attempts: 2\nCorrect: 1 (50%)\nStreak: current 2, best 2" in body
    assert "- Monitoring: 1/2" in body
    await core.advance_to(at(4, 10))  # Wednesday went unanswered: the run ends
    streak = await core.handle_command(CommandInput("streak", BOB, CHANNEL, user=ALICE_REF))
    assert streak[0].message.body == "Alice: current streak 0, best 2."



async def test_extra_posts_neither_break_nor_extend_streaks(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    """Streaks follow scheduled posts only (issue 3). An admin's extra `qotd post` between
    Monday's and Tuesday's: ignoring it breaks nothing, answering it scores points but
    adds no streak, and Monday's question stays open for the streak until Tuesday's."""
    await _setup(core)
    await core.advance_to(at(1, 11))
    extra = await core.handle_command(cmd("qotd", "post"))
    assert "Posted question #2 (an extra post)" in extra[0].message.body
    monday, extra_post = console.posts()
    await core.advance_to(at(1, 12))  # Monday's #1 answered after the extra #2 went out
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, monday.message_id, "B", True))
    await core.handle_reaction(ReactionInput(BOB, CHANNEL, extra_post.message_id, "B", True))
    await _vote(core, console, clock, ALICE, at(2, 9, 30))  # Tuesday's #3
    await _vote(core, console, clock, BOB, at(2, 9, 40))

    async def streak_of(who: Actor) -> str:
        replies = await core.handle_command(cmd("streak", actor=who))
        return replies[0].message.body

    assert await streak_of(ALICE) == "Alice: current streak 2, best 2."
    assert await streak_of(BOB) == "Bob: current streak 1, best 1."  # missed Monday's
    # the extra post still scored Bob's point; ties on points go to the longer streak
    assert await _board(core) == "1. Alice: 2 pts, streak 2 ← you\n2. Bob: 2 pts, streak 1"
    # a `qotd post` that takes a scheduled day's claim is that day's scheduled post
    await core.advance_to(at(3, 7))
    wednesday = await core.handle_command(cmd("qotd", "post"))
    assert "(today's question, 2027-03-03)" in wednesday[0].message.body
    await _vote(core, console, clock, ALICE, at(3, 7, 30))
    assert await streak_of(ALICE) == "Alice: current streak 3, best 3."
