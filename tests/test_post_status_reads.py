"""`/qotd status` and `/qotd post` in fewer statements (issue 12), with the same results:

- `storage.bank_reads.status_read` gives what `asked_keys`, `status_facts`, `day_taken`
  and `question_state` give one by one, through a channel's life;
- `PostRepo.claim_day_or_extra` is `claim(day)` followed, on its conflict, by
  `claim(None)`, with the pick written in the same INSERT;
- `BankCache.view_read` is `view(checked=True)` with the sentinel's state read by the
  caller, including when the cache was refilled in between or the bank changed;
- the commands' statement counts, so that a later change cannot silently bring the
  extra round trips back.

On both backends (the PostgreSQL leg with QOTD_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update

from bot.app import Core
from bot.clock import FakeClock
from storage import bank_reads
from storage.models import ChannelRow, PostRow, QuestionRow
from storage.repositories import PENDING
from tests.conftest import CHANNEL, START, cmd


async def _channel(core: Core) -> ChannelRow:
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                     CHANNEL.channel_id)
        assert row is not None
        return row


async def _question_ids(core: Core) -> list[str]:
    async with core.db.uow() as uow:
        return sorted((await uow.session.scalars(select(QuestionRow.id))).all())


async def _same_as_one_by_one(core: Core) -> None:
    channel = await _channel(core)
    ids = await _question_ids(core)
    days: list[date | None] = [None, START.date(), START.date() + timedelta(days=1),
                               START.date() + timedelta(days=2)]
    sentinels: list[str | None] = [None, ids[0], ids[-1], "no-such-question"]
    async with core.db.uow() as uow:
        session = uow.session
        for cycle in (channel.cycle - 1, channel.cycle, channel.cycle + 1):
            for day in days:
                for sentinel in sentinels:
                    read = await bank_reads.status_read(session, channel.id, cycle,
                                                        day=day, sentinel=sentinel)
                    assert read.asked == await bank_reads.asked_keys(session, channel.id,
                                                                     cycle)
                    assert read.facts == await bank_reads.status_facts(session, channel.id)
                    assert read.day_taken == (
                        day is not None
                        and await bank_reads.day_taken(session, channel.id, day))
                    assert read.sentinel == sentinel
                    assert read.state == (None if sentinel is None else
                                          await bank_reads.question_state(session, sentinel))


async def _post(core: Core) -> str:
    [reply] = await core.handle_command(cmd("qotd", "post"))
    assert reply.message.tone != "error", reply.message.body
    return reply.message.body


async def test_status_read_is_the_four_reads(core: Core, clock: FakeClock) -> None:
    """No posts; posts over more than a cycle of the sample bank (today's claim and
    extras); a pending post, a failed reveal, a retired question and a question moved
    into another's group (asked keys are group keys)."""
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    await _same_as_one_by_one(core)
    for _ in range(8):
        await _post(core)
        clock.advance(timedelta(hours=7))
        await _same_as_one_by_one(core)
    ids = await _question_ids(core)
    async with core.db.uow() as uow:
        posts = (await uow.session.scalars(select(PostRow).order_by(PostRow.id))).all()
        posts[-1].reveal_error = "gave up after 10 attempts: timeout"
        posts[-2].status = PENDING
        moved = await uow.session.get(QuestionRow, posts[-1].question_id)
        assert moved is not None
        moved.group_key = next(i for i in ids if i != moved.id)
        await uow.session.execute(update(QuestionRow).where(QuestionRow.id == ids[0])
                                  .values(retired=True))
        await uow.commit()
    await _same_as_one_by_one(core)


async def _claim_rows(core: Core, channel_pk: int) -> list[dict[str, Any]]:
    async with core.db.uow() as uow:
        rows = (await uow.session.execute(
            select(PostRow.__table__).where(PostRow.channel_pk == channel_pk)
            .order_by(PostRow.id))).mappings().all()
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


async def test_claim_day_or_extra_is_claim_then_extra(core: Core) -> None:
    """The day when it is free, an extra post when it is taken, the same rows as the two
    `claim` calls (plus the pick) would write."""
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    channel = await _channel(core)
    ids = await _question_ids(core)
    day, slot = date(2027, 3, 2), datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    now, until = START, START + timedelta(minutes=5)
    got: list[tuple[int, bool] | None] = []
    async with core.db.uow() as uow:
        for n, question in enumerate(ids[:3], start=1):
            got.append(await uow.posts.claim_day_or_extra(
                channel.id, day, slot, now, until, number=n, cycle=1, question_id=question))
        await uow.commit()
    assert [g is not None and g[1] for g in got] == [True, False, False]
    combined = await _claim_rows(core, channel.id)

    # the same three through `claim`, on a second channel
    async with core.db.uow() as uow:
        other = await uow.channels.get_or_create("console", "ws1", "c-other", now)
        for n, question in enumerate(ids[:3], start=1):
            post_id = await uow.posts.claim(other.id, day, PENDING, now, slot_at=slot,
                                            lease_until=until)
            if post_id is None:
                post_id = await uow.posts.claim(other.id, None, PENDING, now,
                                                lease_until=until)
            assert post_id is not None
            await uow.posts.assign(post_id, n, 1, question)
        await uow.commit()
        other_pk = other.id
    separate = await _claim_rows(core, other_pk)
    assert [{**row, "channel_pk": 0} for row in combined] == [
        {**row, "channel_pk": 0} for row in separate]
    assert combined[0]["day"] == day and combined[0]["slot_at"] == slot
    assert all(row["day"] is None and row["slot_at"] is None for row in combined[1:])


async def test_post_claims_today_then_extras_and_rolls_back_the_draw(core: Core) -> None:
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    assert "(today's question, 2027-03-01)" in await _post(core)
    assert "(an extra post)" in await _post(core)
    channel = await _channel(core)
    async with core.db.uow() as uow:
        posts = (await uow.session.scalars(select(PostRow).order_by(PostRow.id))).all()
    assert [(p.number, p.cycle, p.day, p.status) for p in posts] == [
        (1, 1, date(2027, 3, 1), "sent"), (2, 1, None, "sent")]
    assert all(p.question_id for p in posts) and posts[0].question_id != posts[1].question_id
    # nothing eligible: no claim and the draw counter as it was
    async with core.db.uow() as uow:
        await uow.session.execute(update(QuestionRow).values(retired=True))
        await uow.commit()
    [reply] = await core.handle_command(cmd("qotd", "post"))
    assert reply.message.tone == "error" and "No question is eligible" in reply.message.body
    after = await _channel(core)
    assert after.draws == channel.draws
    async with core.db.uow() as uow:
        assert len((await uow.session.scalars(select(PostRow.id))).all()) == 2


async def test_view_read_is_the_checked_view(core: Core, clock: FakeClock) -> None:
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    bank = core.deps.bank
    channel = await _channel(core)
    async with core.db.uow() as uow:
        expected = await bank.view(uow.session, channel)
    fills = bank.fills
    sentinel = bank.sentinel()
    assert sentinel is not None
    async with core.db.uow() as uow:
        state = await bank_reads.question_state(uow.session, sentinel)
        view = await bank.view_read(uow.session, channel, sentinel, state)
    assert view is expected and bank.fills == fills  # checked by the given state, no read

    # a state that no longer matches (the sentinel's row changed): refills
    async with core.db.uow() as uow:
        await uow.session.execute(update(QuestionRow).where(QuestionRow.id == sentinel)
                                  .values(retired=True))
        await uow.commit()
        state = await bank_reads.question_state(uow.session, sentinel)
        view = await bank.view_read(uow.session, channel, sentinel, state)
    assert bank.fills == fills + 1 and sentinel not in view.keys

    # a sentinel read for a cache since refilled (another key first): checked afresh
    async with core.db.uow() as uow:
        await uow.session.execute(update(QuestionRow).where(QuestionRow.id == sentinel)
                                  .values(retired=False))
        await uow.commit()
        stale = await bank.view_read(uow.session, channel, sentinel, None)
        assert sentinel not in stale.keys  # the cache's first question still holds
        assert bank.fills == fills + 1
        bank.invalidate()
        assert bank.sentinel() is None
        again = await bank.view_read(uow.session, channel, None, None)
    assert sentinel in again.keys and bank.fills == fills + 2


@contextmanager
def counting(core: Core) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = core.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def test_statements_per_command(core: Core, clock: FakeClock) -> None:
    """`/qotd status`: the channel, one read of everything else. `/qotd post`: the
    channel, the draw, the history, the drawn question's check, the claim with its pick
    (commit); the send's facts; mark-sent and the strays (commit). The user's name was
    stored by the first command and has not changed: no statement (KnownNames)."""
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    await _post(core)  # today's; the next ones are extras
    await core.handle_command(cmd("qotd", "status"))
    with counting(core) as statements:
        [reply] = await core.handle_command(cmd("qotd", "status"))
    # today's 09:00 slot is taken by that post: one more read finds the next open day
    assert "Next post: Tue 2027-03-02 09:00 UTC" in reply.message.body
    assert len(statements) == 3, statements
    clock.advance(timedelta(hours=3))  # past today's slot: the next slot's day is free
    with counting(core) as statements:
        [reply] = await core.handle_command(cmd("qotd", "status"))
    assert "Next post: Tue 2027-03-02 09:00 UTC" in reply.message.body
    assert "Questions left in cycle 1: 5" in reply.message.body  # 6 pickable, 1 asked
    # three hours on, the stored name is no longer trusted (KnownNames.TTL): stored again
    assert len(statements) == 3, statements
    with counting(core) as statements:
        assert "(an extra post)" in await _post(core)
    assert len(statements) == 8, statements


async def test_claim_day_or_extra_behind_a_concurrent_claim(core: Core) -> None:
    """Another transaction claims the day first and commits while this statement waits:
    on PostgreSQL its snapshot did not see that claim, the insert meets the unique key
    and gives None (the caller then claims an extra post); SQLite's statement starts
    after the other's commit and sees the day taken."""
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    channel = await _channel(core)
    [question] = (await _question_ids(core))[:1]
    day, slot = date(2027, 3, 2), datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    until = START + timedelta(minutes=5)
    async with core.db.uow() as first, core.db.uow() as second:
        assert await first.posts.claim(channel.id, day, PENDING, START, slot_at=slot,
                                       lease_until=until) is not None
        waiting = asyncio.create_task(second.posts.claim_day_or_extra(
            channel.id, day, slot, START, until, number=1, cycle=1, question_id=question))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # behind the first claim (a row lock, or SQLite's lock)
        await first.commit()
        taken = await waiting
        if core.db.dialect == "postgresql":
            assert taken is None
        else:
            assert taken is not None and taken[1] is False
        await second.commit()
    async with core.db.uow() as uow:
        days = await uow.posts.days_from(channel.id, day)
    assert days == {day: PENDING}
