"""`/streak` and `/qotd stats` on the hot path (issue 16): the member's keys in one
statement of index lookups (Queries.member_keys, no channel or user row loaded), the
streak's history in one more (Queries.user_streak_facts), and a read that writes nothing.

Checked against the reads they replace, on real data the core wrote (SQLite and
PostgreSQL): extra posts, a missed day, a second channel and a second member."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ChannelRef, CommandInput, ReactionInput, UserRef
from bot.clock import FakeClock
from tests.conftest import ALICE, BOB, CHANNEL, cmd

OTHER = ChannelRef("console", "ws1", "c2")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


async def _history(core: Core, console: ConsoleOutbound) -> None:
    """Daily posts of the easy choice question (B is right) in two channels from Monday
    1 March, an extra post on Tuesday in the first; Alice answers there Mon, Tue and the
    extra, skips Wed, answers Thu; Bob answers only in the second channel."""
    for channel in (CHANNEL, OTHER):
        await core.handle_command(cmd("qotd", "topics", channel=channel, include="Monitoring",
                                      difficulty="easy"))
        await core.handle_command(cmd("qotd", "schedule", channel=channel, days="daily"))

    async def vote(who: Actor, channel: ChannelRef) -> None:
        latest = console.posts(channel)[-1]
        await core.handle_reaction(ReactionInput(who, channel, latest.message_id, "B", True))

    for day in (1, 2, 3, 4):
        await core.advance_to(at(day, 9, 5))
        if day != 3:
            await vote(ALICE, CHANNEL)
        if day == 2:
            await core.handle_command(cmd("qotd", "post"))
            await vote(ALICE, CHANNEL)
        await vote(BOB, OTHER)


@contextmanager
def statements(core: Core) -> Iterator[list[str]]:
    """Every SQL statement the core's engine runs inside the block (observed, not faked)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = core.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _pks(core: Core, channel: ChannelRef, user_id: str) -> tuple[int, int]:
    async with core.db.uow() as uow:
        row = await uow.channels.get(channel.platform, channel.workspace_id, channel.channel_id)
        user = await uow.users.find(channel.platform, channel.workspace_id, user_id)
    assert row is not None and user is not None
    return row.id, user.id


async def test_one_statement_reads_what_the_two_reads_did(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    await _history(core, console)
    for channel, user_id in ((CHANNEL, ALICE.user_id), (OTHER, BOB.user_id),
                             (OTHER, ALICE.user_id)):
        if channel == OTHER and user_id == ALICE.user_id:
            channel_pk, _ = await _pks(core, OTHER, BOB.user_id)
            _, user_pk = await _pks(core, CHANNEL, ALICE.user_id)
        else:
            channel_pk, user_pk = await _pks(core, channel, user_id)
        async with core.db.uow() as uow:
            posts, facts = await uow.queries.user_streak_facts(channel_pk, user_pk)
            old_posts = await uow.queries.sent_posts([channel_pk])
            old_facts = await uow.queries.first_attempts([channel_pk], [user_pk])
        assert posts == old_posts
        assert sorted(facts, key=lambda f: f.post_id) == sorted(old_facts,
                                                                key=lambda f: f.post_id)
    # the extra post is there, marked unscheduled; Alice's answers only in her channel
    channel_pk, alice_pk = await _pks(core, CHANNEL, ALICE.user_id)
    async with core.db.uow() as uow:
        posts, facts = await uow.queries.user_streak_facts(channel_pk, alice_pk)
        other_pk, _ = await _pks(core, OTHER, BOB.user_id)
        _, none = await uow.queries.user_streak_facts(other_pk, alice_pk)
    assert [p.scheduled for p in posts] == [True, True, False, True, True]
    assert len(facts) == 4 and none == []


async def test_member_keys_say_what_was_never_seen(core: Core, console: ConsoleOutbound,
                                                   clock: FakeClock) -> None:
    await _history(core, console)
    channel_pk, alice_pk = await _pks(core, CHANNEL, ALICE.user_id)
    async with core.db.uow() as uow:
        found = await uow.queries.member_keys("console", "ws1", "c1", ALICE.user_id)
        stranger = await uow.queries.member_keys("console", "ws1", "c1", "u-nobody")
        nowhere = await uow.queries.member_keys("console", "ws1", "c-none", ALICE.user_id)
        other_ws = await uow.queries.member_keys("console", "ws2", "c1", ALICE.user_id)
    assert (found.channel_pk, found.user_pk, found.display_name) == (channel_pk, alice_pk,
                                                                      "Alice")
    assert (stranger.channel_pk, stranger.user_pk, stranger.display_name) == (
        channel_pk, None, None)
    assert (nowhere.channel_pk, nowhere.user_pk) == (None, alice_pk)
    assert (other_ws.channel_pk, other_ws.user_pk, other_ws.display_name) == (None, None, None)


async def test_streak_is_two_statements_and_writes_nothing(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    await _history(core, console)
    first = await core.handle_command(cmd("streak", actor=ALICE))
    # Wednesday missed, the extra post neither breaks nor extends: Thu is the current run
    assert first[0].message.body == "Alice: current streak 1, best 2."
    with statements(core) as seen:
        again = await core.handle_command(cmd("streak", actor=ALICE))
    assert again == first
    assert len(seen) == 2, seen
    assert all(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in seen), seen


async def test_streak_and_stats_of_strangers_name_them_and_count_nothing(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    await _history(core, console)
    async with core.db.uow() as uow:
        users_before = await uow.queries.member_keys("console", "ws1", "c1", "u-ghost")
    assert users_before.user_pk is None
    ghost = UserRef("u-ghost", "")
    streak = await core.handle_command(CommandInput("streak", BOB, CHANNEL, user=ghost))
    assert streak[0].message.body == "u-ghost: current streak 0, best 0."
    stats = await core.handle_command(CommandInput("qotd", BOB, CHANNEL, subcommand="stats",
                                                   user=ghost))
    assert stats[0].message.title == "Stats for u-ghost"
    assert stats[0].message.body.startswith("Attempts: 0\n")
    # a name the platform did not give is the stored one
    nameless = await core.handle_command(CommandInput("streak", Actor(ALICE.user_id, ""),
                                                      CHANNEL))
    assert nameless[0].message.body == "Alice: current streak 1, best 2."
    # a channel never set up: nothing counted, the channel not created
    elsewhere = ChannelRef("console", "ws1", "c-new")
    replies = await core.handle_command(cmd("streak", actor=ALICE, channel=elsewhere))
    assert replies[0].message.body == "Alice: current streak 0, best 0."
    async with core.db.uow() as uow:
        assert (await uow.queries.member_keys("console", "ws1", "c-new",
                                              ALICE.user_id)).channel_pk is None


async def test_stats_reads_its_streak_with_the_same_statement(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    await _history(core, console)
    replies = await core.handle_command(CommandInput("qotd", BOB, CHANNEL, subcommand="stats",
                                                     user=UserRef(ALICE.user_id, "Alice")))
    assert replies[0].message.title == "Stats for Alice"
    assert "Attempts: 4\nCorrect: 4 (100%)\nStreak: current 1, best 2" in replies[0].message.body
