"""The posting engine through the Core on a FakeClock: fan-out, isolation of failures,
misses found past grace, reactions before mark-sent, reveals that keep failing, and the
copy a sender that lost its claim leaves behind."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import ChannelRef, OutMessage, ReactionInput
from bot.clock import FakeClock
from bot.service import engine
from bot.service.posting import REVEAL_MAX_ATTEMPTS
from storage.models import AttemptRow, PostRow
from tests.conftest import ALICE, BOB, CHANNEL, cmd, make_core, post_on

MONDAY_9 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def channels(n: int) -> list[ChannelRef]:
    return [ChannelRef("console", "ws1", f"fan{i:03d}") for i in range(n)]


async def test_many_channels_due_at_once_each_post_once(
    migrated_url: str, bank_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A fan-out runs the channels concurrently; on SQLite too, concurrent writers wait
    for each other instead of failing (no step failure logged)."""
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound, send_concurrency=16)
    await core.start()
    try:
        refs = channels(40)
        for ref in refs:
            await core.handle_command(cmd("qotd", "schedule", channel=ref, time="09:00",
                                          days="daily"))
        with caplog.at_level(logging.WARNING, logger="bot"):
            await core.advance_to(MONDAY_9 + timedelta(minutes=1))
        assert sorted(p.channel.channel_id for p in outbound.posts()) == sorted(
            r.channel_id for r in refs)
        assert [r.message for r in caplog.records if "failed" in r.message] == []
        await core.advance_to(MONDAY_9 + timedelta(days=1, minutes=1))
        assert len(outbound.posts()) == 80
        assert len(outbound.threads()) == 40  # each Monday post revealed once
    finally:
        await core.stop()


class BrokenChannel(ConsoleOutbound):
    """Every call for one channel raises, as a deleted channel or a failing render does."""

    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken
        self.attempts = 0

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        if channel.channel_id == self.broken:
            self.attempts += 1
            raise RuntimeError("channel_not_found")
        return await super().post(channel, message, idempotency_key=idempotency_key)


async def test_one_failing_channel_never_stops_the_others_and_backs_off(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    refs = channels(5)
    outbound = BrokenChannel(refs[2].channel_id)
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        for ref in refs:
            await core.handle_command(cmd("qotd", "schedule", channel=ref, time="09:00",
                                          days="daily"))
        await core.advance_to(MONDAY_9)
        assert len(outbound.posts()) == 4 and outbound.attempts == 1
        # exponential backoff: the attempts in the grace window thin out over time
        await core.advance_to(MONDAY_9 + timedelta(minutes=10))
        early = outbound.attempts
        await core.advance_to(MONDAY_9 + timedelta(hours=3, minutes=1))
        assert 4 <= early <= 10 and outbound.attempts - early <= 30
        async with core.db.uow() as uow:
            post = await post_on(uow, date(2027, 3, 1), refs[2])
            assert post.status == "missed"  # given up at the end of grace, recorded
        assert len(outbound.posts()) == 4
    finally:
        await core.stop()


async def test_slot_found_past_grace_is_recorded_and_the_admin_told_once(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """The process was stopped across the slot and the grace window (SIGSTOP, a
    suspended laptop): the pass that finds it records the miss and tells the admin."""
    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        clock.set(MONDAY_9 + timedelta(hours=3, minutes=30))  # no pass ran in between
        await core.run_due()
        await core.run_due()
        assert outbound.posts() == []
        async with core.db.uow() as uow:
            assert (await post_on(uow, date(2027, 3, 1))).status == "missed"
        [notice] = [e for e in outbound.transcript if e.kind == "ephemeral"]
        assert notice.user_id == "u-admin" and notice.message is not None
        assert "Mon 2027-03-01" in notice.message.body and "3 h" in notice.message.body
        await core.advance_to(datetime(2027, 3, 2, 9, 1, tzinfo=UTC))
        assert len(outbound.posts()) == 1  # the next day posts as usual
    finally:
        await core.stop()


class LosesTheMarkOnce(ConsoleOutbound):
    """The post lands, then the sender 'dies' before marking it sent (raises after the
    message exists): members react to the visible post before any resend."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        self.calls += 1
        message_id = await super().post(channel, message, idempotency_key=idempotency_key)
        if self.calls == 1:
            raise TimeoutError("the answer never came")
        return message_id


async def test_reactions_before_mark_sent_are_counted(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = LosesTheMarkOnce()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.advance_to(MONDAY_9)
        [post] = outbound.posts()  # visible, but the database does not know its id
        for actor in (ALICE, BOB):
            await core.handle_reaction(ReactionInput(actor, CHANNEL, post.message_id, "yes",
                                                     True))
        await core.handle_reaction(ReactionInput(BOB, CHANNEL, post.message_id, "yes", False))
        await core.handle_reaction(ReactionInput(BOB, CHANNEL, post.message_id, "no", True))
        await core.advance_to(MONDAY_9 + timedelta(minutes=5))  # the resend adopts it
        async with core.db.uow() as uow:
            row = await post_on(uow, date(2027, 3, 1))
            assert (row.status, row.message_id) == ("sent", post.message_id)
            attempts = (await uow.session.scalars(
                select(AttemptRow).where(AttemptRow.post_id == row.id)
                .order_by(AttemptRow.user_pk))).all()
        assert [(a.signal, a.first_at) for a in attempts] == [
            ("yes", MONDAY_9), ("no", MONDAY_9)]
        assert len(outbound.posts()) == 1
    finally:
        await core.stop()


class RevealAlwaysFails(ConsoleOutbound):
    def __init__(self) -> None:
        super().__init__()
        self.reveals = 0

    async def reply_in_thread(self, channel: ChannelRef, parent_message_id: str,
                              message: OutMessage, *, idempotency_key: str,
                              resend: bool = False) -> str:
        self.reveals += 1
        raise RuntimeError("thread_locked")


async def test_a_reveal_that_keeps_failing_backs_off_then_gives_up_and_closes(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = RevealAlwaysFails()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.advance_to(MONDAY_9)
        [post] = outbound.posts()
        # still open while the reveal is stuck: points close when it is actually posted
        await core.advance_to(MONDAY_9 + timedelta(hours=8, minutes=1))
        await core.handle_reaction(ReactionInput(ALICE, CHANNEL, post.message_id, "yes", True))
        await core.advance_to(MONDAY_9 + timedelta(hours=20))
        assert outbound.reveals == REVEAL_MAX_ATTEMPTS
        async with core.db.uow() as uow:
            row = await post_on(uow, date(2027, 3, 1))
            assert row.revealed_at is not None and row.reveal_error is not None
            assert "thread_locked" in row.reveal_error
            [attempt] = (await uow.session.scalars(
                select(AttemptRow).where(AttemptRow.post_id == row.id))).all()
        assert attempt.points > 0 and not attempt.after_reveal
        [status] = await core.handle_command(cmd("qotd", "status"))
        assert "thread_locked" in status.message.body
    finally:
        await core.stop()


class TakenOverMidRequest(ConsoleOutbound):
    """While this sender's request is in flight its lease runs out: another process
    (`other`, once set) runs its pass first and sends its own copy (its history look
    found nothing yet); this request then lands as a distinct copy."""

    def __init__(self, other: Core | None = None) -> None:
        super().__init__()
        self.other = other

    async def _taken_over(self, key: str) -> None:
        if self.other is not None:
            other, self.other = self.other, None
            await engine.run_due(other.deps)
        self._sent.pop(key, None)

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        await self._taken_over(idempotency_key)
        return await super().post(channel, message, idempotency_key=idempotency_key)

    async def reply_in_thread(self, channel: ChannelRef, parent_message_id: str,
                              message: OutMessage, *, idempotency_key: str,
                              resend: bool = False) -> str:
        await self._taken_over(idempotency_key)
        return await super().reply_in_thread(channel, parent_message_id, message,
                                             idempotency_key=idempotency_key)


async def test_a_sender_whose_lease_was_taken_deletes_its_own_copy(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    later = FakeClock(MONDAY_9 + timedelta(minutes=2))  # past this sender's lease
    other_out = ConsoleOutbound()
    other_out._ids = itertools.count(100)  # the platform gives each copy its own id
    other = await make_core(migrated_url, bank_dir, later, other_out)
    outbound = TakenOverMidRequest(other)
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.advance_to(MONDAY_9)
        [theirs] = other_out.posts()
        [mine] = outbound.posts()
        async with core.db.uow() as uow:
            row = await post_on(uow, date(2027, 3, 1))
            assert (row.status, row.message_id) == ("sent", theirs.message_id)
        assert [(e.kind, e.message_id) for e in outbound.transcript if e.kind == "delete"] == [
            ("delete", mine.message_id)]
    finally:
        await core.stop()
        await other.stop()


async def test_database_error_in_one_step_is_isolated_and_retried(
    migrated_url: str, bank_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error inside one channel's step (a lock, a dropped connection) fails
    that step alone; it is retried with backoff and posts within grace."""
    from bot.service import posting

    outbound = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    refs = channels(3)
    real = posting.post_slot
    failures = {"left": 3}

    async def flaky(deps: object, pk: int, now: datetime) -> None:
        if pk == first_pk and failures["left"] > 0:
            failures["left"] -= 1
            from sqlalchemy.exc import OperationalError

            raise OperationalError("UPDATE channels", {}, Exception("database is locked"))
        await real(deps, pk, now)  # type: ignore[arg-type]

    try:
        for ref in refs:
            await core.handle_command(cmd("qotd", "schedule", channel=ref, time="09:00",
                                          days="daily"))
        async with core.db.uow() as uow:
            found = await uow.channels.get("console", "ws1", refs[0].channel_id)
            assert found is not None
            first_pk = found.id
        monkeypatch.setattr(posting, "post_slot", flaky)
        await core.advance_to(MONDAY_9)
        assert len(outbound.posts()) == 2
        await core.advance_to(MONDAY_9 + timedelta(minutes=5))
        assert len(outbound.posts()) == 3 and failures["left"] == 0
        async with core.db.uow() as uow:
            rows = (await uow.session.scalars(select(PostRow))).all()
        assert sorted(r.status for r in rows) == ["sent"] * 3
    finally:
        await core.stop()


async def test_a_reveal_whose_lease_was_taken_deletes_its_own_reply(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = TakenOverMidRequest()
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    later = FakeClock(MONDAY_9 + timedelta(hours=8, minutes=2))
    other_out = ConsoleOutbound()
    other_out._ids = itertools.count(100)
    other = await make_core(migrated_url, bank_dir, later, other_out)
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.advance_to(MONDAY_9)
        [post] = outbound.posts()
        outbound.other = other
        await core.advance_to(MONDAY_9 + timedelta(hours=8, minutes=1))
        [theirs] = other_out.threads()
        [mine] = outbound.threads()
        async with core.db.uow() as uow:
            row = await post_on(uow, date(2027, 3, 1))
            assert row.reveal_message_id == theirs.message_id
        deletes = [(e.message_id, e.parent_id) for e in outbound.transcript if e.kind == "delete"]
        assert deletes == [(mine.message_id, post.message_id)]
    finally:
        await core.stop()
        await other.stop()


class HangsOnce(ConsoleOutbound):
    """The first create never answers (a request held open by the platform or a dead
    network path); later ones work."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bool] = []

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        self.calls.append(resend)
        if len(self.calls) == 1:
            await asyncio.Event().wait()
        return await super().post(channel, message, idempotency_key=idempotency_key)


async def test_a_request_held_open_is_abandoned_and_resent(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    outbound = HangsOnce()
    core = await make_core(migrated_url, bank_dir, clock, outbound, send_timeout_seconds=1)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await core.advance_to(MONDAY_9)  # waits out the 1 s timeout (real time)
        assert outbound.posts() == [] and outbound.calls == [False]
        await core.advance_to(MONDAY_9 + timedelta(minutes=1))
        assert len(outbound.posts()) == 1 and outbound.calls == [False, True]
    finally:
        await core.stop()
