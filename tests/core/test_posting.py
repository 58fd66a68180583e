"""Posting through the Core: schedules, weekends, DST, restarts, races, failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import ChannelRef, OutMessage, ReactionInput
from bot.clock import FakeClock
from bot.service import engine
from storage.models import PostRow
from tests.conftest import (
    ALICE,
    CHANNEL,
    START,
    cmd,
    make_core,
    post_days,
    post_on,
    sample_questions,
    write_bank,
)


def local_times(outbound: ConsoleOutbound, posts_at: list[datetime], zone: str) -> list[str]:
    return [f"{t.astimezone(ZoneInfo(zone)):%a %H:%M}" for t in posts_at]


class Stamping(ConsoleOutbound):
    """Records when each post went out (the transcript does not carry time)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[datetime] = []

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        before = len(self.posts())
        message_id = await super().post(channel, message, idempotency_key=idempotency_key)
        if len(self.posts()) > before:
            self.times.append(self.clock.now())
        return message_id


async def _stamped_core(url: str, bank: Path, clock: FakeClock) -> tuple[Core, Stamping]:
    outbound = Stamping(clock)
    core = await make_core(url, bank, clock, outbound)
    await core.start()
    return core, outbound


async def test_weekdays_only_and_streak_across_weekend(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    core, out = await _stamped_core(migrated_url, bank_dir, clock)
    try:
        replies = await core.handle_command(cmd("qotd", "schedule", time="09:00", days="mon-fri"))
        assert "Next post Mon 2027-03-01 09:00 UTC" in replies[0].message.body
        answered: set[str] = set()
        for day in range(8):  # Mon 1 .. Mon 8 March, answering each post once at 10:00
            await core.advance_to(START.replace(hour=10) + timedelta(days=day))
            latest = out.posts()[-1]
            if latest.message_id not in answered:
                answered.add(latest.message_id)
                assert latest.message is not None
                # buttons mode (the default): a reaction the member adds still counts
                key = latest.message.choices[0].key if latest.message.choices else "yes"
                await core.handle_reaction(
                    ReactionInput(ALICE, CHANNEL, latest.message_id, key, True)
                )
        assert local_times(out, out.times, "UTC") == [
            "Mon 09:00", "Tue 09:00", "Wed 09:00", "Thu 09:00", "Fri 09:00", "Mon 09:00",
        ]
        titles = [p.message.title for p in out.posts() if p.message is not None]
        assert titles == [f"Question #{n}" for n in range(1, 7)]
        streak = await core.handle_command(cmd("streak", actor=ALICE))
        assert "current streak 6, best 6" in streak[0].message.body
    finally:
        await core.stop()


async def _dst_posts(url: str, bank: Path, zone: str, change: datetime) -> list[str]:
    clock = FakeClock(change - timedelta(days=3))
    core, out = await _stamped_core(url, bank, clock)
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", timezone=zone,
                                      days="daily"))
        await core.advance_to(change + timedelta(days=3))
    finally:
        await core.stop()
    return [f"{t.astimezone(ZoneInfo(zone)):%m-%d %H:%M}" for t in out.times]


async def test_dst_berlin_spring(migrated_url: str, bank_dir: Path) -> None:
    spring = await _dst_posts(migrated_url, bank_dir, "Europe/Berlin",
                              datetime(2027, 3, 28, tzinfo=UTC))
    assert spring == [f"03-{d} 09:00" for d in range(25, 31)]


async def test_dst_berlin_autumn(migrated_url: str, bank_dir: Path) -> None:
    autumn = await _dst_posts(migrated_url, bank_dir, "Europe/Berlin",
                              datetime(2027, 10, 31, tzinfo=UTC))
    assert autumn == ["10-28 09:00", "10-29 09:00", "10-30 09:00", "10-31 09:00",
                      "11-01 09:00", "11-02 09:00"]


async def test_dst_new_york_spring(migrated_url: str, bank_dir: Path) -> None:
    spring = await _dst_posts(migrated_url, bank_dir, "America/New_York",
                              datetime(2027, 3, 14, 12, tzinfo=UTC))
    # from Thu 11 08:00 EST to Wed 17 08:00 EDT
    assert spring == [f"03-{d} 09:00" for d in range(11, 17)]


async def test_dst_new_york_autumn(migrated_url: str, bank_dir: Path) -> None:
    autumn = await _dst_posts(migrated_url, bank_dir, "America/New_York",
                              datetime(2027, 11, 7, 12, tzinfo=UTC))
    # from Thu 4 08:00 EDT to Wed 10 07:00 EST
    assert autumn == [f"11-{d:02d} 09:00" for d in range(4, 10)]


async def test_restart_inside_grace_posts_outside_records_missed(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    first = await make_core(migrated_url, bank_dir, clock, ConsoleOutbound())
    await first.start()
    await first.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    await first.stop()  # the bot goes down before Monday 09:00

    clock.set(datetime(2027, 3, 1, 11, 30, tzinfo=UTC))  # 2.5 h late: inside the 3 h grace
    inside = ConsoleOutbound()
    second = await make_core(migrated_url, bank_dir, clock, inside)
    await second.start()
    assert len(inside.posts()) == 1
    await second.stop()

    clock.set(datetime(2027, 3, 4, 12, 30, tzinfo=UTC))  # Thursday, 3.5 h late: missed
    outside = ConsoleOutbound()
    third = await make_core(migrated_url, bank_dir, clock, outside)
    await third.start()
    try:
        assert outside.posts() == []
        assert await post_days(third) == [
            ("2027-03-01", "sent"), ("2027-03-02", "missed"), ("2027-03-03", "missed"),
            ("2027-03-04", "missed"),
        ]
        await third.advance_to(datetime(2027, 3, 5, 9, 0, tzinfo=UTC))
        assert len(outside.posts()) == 1  # Friday posts normally
    finally:
        await third.stop()


def _triple() -> tuple[str, str, str]:
    return (CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)


async def test_two_cores_on_one_database_post_once(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    a_out, b_out = ConsoleOutbound(), ConsoleOutbound()
    a = await make_core(migrated_url, bank_dir, clock, a_out)
    b = await make_core(migrated_url, bank_dir, clock, b_out)
    await a.start()
    await b.start()
    try:
        await a.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
        assert len(a_out.posts()) + len(b_out.posts()) == 1
        assert await post_days(a) == [("2027-03-01", "sent")]
    finally:
        await a.stop()
        await b.stop()


class FailsOnce(ConsoleOutbound):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 0
        self.resends: list[bool] = []

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        self.resends.append(resend)
        if self.failures == 0:
            self.failures += 1
            raise ConnectionError("platform unavailable")
        return await super().post(channel, message, idempotency_key=idempotency_key)

    async def reply_in_thread(self, channel: ChannelRef, parent_message_id: str,
                              message: OutMessage, *, idempotency_key: str,
                              resend: bool = False) -> str:
        self.resends.append(resend)
        if self.failures == 1:
            self.failures += 1
            raise ConnectionError("platform unavailable")
        return await super().reply_in_thread(channel, parent_message_id, message,
                                             idempotency_key=idempotency_key)


async def test_send_failure_is_retried_without_double_post(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = FailsOnce()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        await core.run_due()
        assert outbound.failures == 1 and outbound.posts() == []
        await core.run_due()  # backing off: not retried at once
        assert outbound.posts() == []
        async with core.db.uow() as uow:
            retry = (await post_on(uow, date(2027, 3, 1))).send_due_at
        assert retry is not None
        assert timedelta(seconds=2) <= retry - clock.now() <= timedelta(seconds=5)
        await core.advance_to(retry)  # the retry sends the same claim
        assert len(outbound.posts()) == 1
        assert outbound.posts()[0].message is not None
        assert outbound.posts()[0].message.title == "Question #1"
        await core.advance_to(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
        assert len(outbound.posts()) == 1
        # Only a retry tells the adapter to look for an earlier attempt first.
        assert outbound.resends == [False, True]
        await core.run_due()
        assert outbound.threads() == []  # nothing due before the reveal time
        await core.advance_to(datetime(2027, 3, 1, 17, 5, tzinfo=UTC))  # fails once, retried
        assert outbound.failures == 2 and len(outbound.threads()) == 1
        assert outbound.resends == [False, True, False, True]
    finally:
        await core.stop()


async def test_crash_between_send_and_mark_resends_with_same_key(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """The adapter saw the post (same idempotency key) but the core died before marking
    it sent: the retry after restart must not show a second message."""
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    await core.run_due()
    async with core.db.uow() as uow:  # simulate the crash: back to a claimed, leased row
        post = await post_on(uow, date(2027, 3, 1))
        post.status, post.message_id, post.send_due_at = "pending", None, clock.now()
        await uow.commit()
    await core.stop()
    clock.set(datetime(2027, 3, 1, 9, 3, tzinfo=UTC))
    again = await make_core(migrated_url, bank_dir, clock, outbound)
    await again.start()
    try:
        assert len(outbound.posts()) == 1
        async with again.db.uow() as uow:
            post = await post_on(uow, date(2027, 3, 1))
            assert post.status == "sent"
            assert post.message_id == outbound.posts()[0].message_id
    finally:
        await again.stop()


async def test_channels_keep_their_own_schedules(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    tokyo = ChannelRef("console", "ws1", "tokyo")
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="mon-fri"))
        await core.handle_command(cmd("qotd", "schedule", channel=tokyo, time="09:00",
                                      timezone="Asia/Tokyo", days="tue"))
        await core.advance_to(datetime(2027, 3, 3, 0, 0, tzinfo=UTC))  # Wed 09:00 in Tokyo
        main = [e.message_id for e in outbound.posts(CHANNEL)]
        east = [e.message_id for e in outbound.posts(tokyo)]
        assert len(main) == 2  # Mon and Tue 09:00 UTC
        assert len(east) == 1  # Tue 09:00 JST = Tue 00:00 UTC
        status = (await core.handle_command(cmd("qotd", "status", channel=tokyo)))[0]
        assert "Next post: Tue 2027-03-09 09:00 Asia/Tokyo" in status.message.body
    finally:
        await core.stop()


class AlwaysFails(ConsoleOutbound):
    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        raise ConnectionError("platform down")


async def test_send_failing_past_grace_records_missed(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    core = await make_core(migrated_url, bank_dir, clock, AlwaysFails())
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", days="daily"))
        for minutes in range(0, 240, 30):  # retried every run until the grace is over
            await core.advance_to(datetime(2027, 3, 1, 9, tzinfo=UTC) + timedelta(minutes=minutes))
        async with core.db.uow() as uow:
            post = await post_on(uow, date(2027, 3, 1))
            assert (post.status, post.question_id, post.message_id) == ("missed", None, None)
            assert await uow.posts.asked_in_cycle(post.channel_pk, 1) == set()
    finally:
        await core.stop()


async def test_platform_without_adapter_is_left_alone(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    slack = ChannelRef("slack", "T1", "C1")
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", days="daily"))
        await core.handle_command(cmd("qotd", "schedule", channel=slack, days="daily"))
        await core.advance_to(datetime(2027, 3, 1, 10, tzinfo=UTC))
        assert len(outbound.posts(CHANNEL)) == 1 and outbound.posts(slack) == []
        async with core.db.uow() as uow:
            channel = await uow.channels.get("slack", "T1", "C1")
            assert channel is not None
            assert await uow.posts.days_from(channel.id, datetime(2027, 1, 1).date()) == {}
    finally:
        await core.stop()


async def test_reveal_missed_while_down_happens_at_start(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = ConsoleOutbound()
    first = await make_core(migrated_url, bank_dir, clock, outbound)
    await first.start()
    await first.handle_command(cmd("qotd", "schedule", days="daily"))
    await first.advance_to(datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
    await first.stop()
    assert len(outbound.posts()) == 1 and outbound.threads() == []
    clock.set(datetime(2027, 3, 1, 18, 0, tzinfo=UTC))  # the 17:00 reveal passed while down
    second = await make_core(migrated_url, bank_dir, clock, outbound)
    await second.start()
    try:
        [thread] = outbound.threads()
        assert thread.parent_id == outbound.posts()[0].message_id
        assert thread.message is not None and thread.message.title == "Answer to question #1"
        assert "Nobody answered this one." in thread.message.body
    finally:
        await second.stop()


async def _all_posts(core: Core) -> list[tuple[date | None, str]]:
    async with core.db.uow() as uow:
        rows = (await uow.session.scalars(select(PostRow).order_by(PostRow.id))).all()
        return [(row.day, row.status) for row in rows]


async def test_post_with_nothing_eligible_writes_nothing(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """A refused `qotd post` leaves no claim (today's slot stays open) and no draw."""
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.handle_command(cmd("qotd", "topics", include="Deployment"))
        everything = sample_questions()
        write_bank(bank_dir, [q for q in everything if q.topic != "Deployment"])
        await core.sync_bank()  # the filters now leave nothing to post
        async with core.db.uow() as uow:
            channel = await uow.channels.get(*_triple())
            assert channel is not None
            draws = channel.draws

        [reply] = await core.handle_command(cmd("qotd", "post"))  # Mon 07:00
        assert reply.message.tone == "error" and "No question is eligible" in reply.message.body
        assert outbound.posts() == []
        assert await _all_posts(core) == []
        async with core.db.uow() as uow:
            channel = await uow.channels.get(*_triple())
            assert channel is not None and channel.draws == draws

        write_bank(bank_dir, everything)
        await core.sync_bank()  # the bank allows a post again before 09:00
        await core.advance_to(datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
        assert len(outbound.posts()) == 1  # today's scheduled post still happens, once
        assert await _all_posts(core) == [(date(2027, 3, 1), "sent")]
    finally:
        await core.stop()


class GivenUpWhileSending(ConsoleOutbound):
    """The post reaches the platform, but the send outlasted its lease and meanwhile
    another process (its clock past the grace window) took the claim over and gave up."""

    def __init__(self, other: Core) -> None:
        super().__init__()
        self.other = other

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        message_id = await super().post(channel, message, idempotency_key=idempotency_key)
        await engine.run_due(self.other.deps)
        return message_id


async def test_sender_that_lost_its_claim_deletes_its_copy(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    later = FakeClock(datetime(2027, 3, 1, 12, 1, tzinfo=UTC))  # past 09:00 + 3 h grace
    other = await make_core(migrated_url, bank_dir, later, ConsoleOutbound())
    outbound = GivenUpWhileSending(other)
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        await core.run_due()
        [sent] = outbound.posts()
        async with core.db.uow() as uow:
            post = await post_on(uow, date(2027, 3, 1))
            assert (post.status, post.question_id, post.message_id, post.reveal_at) == (
                "missed", None, None, None)
        # the copy that reached the channel is deleted: the channel converges to the
        # database's view (no post that day), and no reveal is ever planned for it
        assert [(e.kind, e.message_id) for e in outbound.transcript if e.kind == "delete"] == [
            ("delete", sent.message_id)]
        await core.advance_to(datetime(2027, 3, 1, 18, 0, tzinfo=UTC))
        assert outbound.threads() == []
    finally:
        await core.stop()
        await other.stop()
