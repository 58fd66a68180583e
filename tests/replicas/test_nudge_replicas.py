"""Two replicas (two Cores, each with its own engine and pool) on one database send each
daily review nudge once: PostgreSQL when QOTD_TEST_DATABASE_URL is set (a private
schema), a SQLite file otherwise. In-process, on fake clocks: the claim under test is
the database's (row lock, compare-and-set, UNIQUE(user_pk, day), the lease), which is
the same whether the replicas are processes or not; tests/replicas/test_replicas.py
covers real `qotd run` processes for posts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import Core
from bot.boundary import Actor, DirectRef, OutMessage
from bot.clock import FakeClock
from bot.service import nudges
from storage.migrate import upgrade
from storage.models import NudgeRow
from tests.conftest import cmd, make_core
from tests.core.test_nudges import Recording, add_card

MONDAY_0830_BERLIN = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)
PEOPLE = [Actor(f"u-{i:03d}", f"Person {i}") for i in range(40)]


async def _two(db_url: str, bank_dir: Path, platform: dict[str, str],
               first: Recording | None = None) -> tuple[tuple[Core, Recording, FakeClock], ...]:
    await upgrade(db_url)
    made = []
    for outbound in (first, None):
        clock = FakeClock(datetime(2027, 3, 1, 7, 0, tzinfo=UTC))
        out = outbound or Recording(platform, clock=clock)
        out.clock = clock
        core = await make_core(db_url, bank_dir, clock, out)
        await core.start()
        made.append((core, out, clock))
    return tuple(made)


async def _people_with_cards(core: Core) -> None:
    for person in PEOPLE:
        replies = await nudges.remind(core.deps, cmd("review", "remind", actor=person,
                                                     time="08:30", timezone="Europe/Berlin"))
        assert replies[0].message.tone == "info", replies[0].message.body
        await add_card(core, person, datetime(2027, 2, 28, tzinfo=UTC))


async def _statuses(core: Core) -> list[str]:
    async with core.db.uow() as uow:
        return list((await uow.session.scalars(select(NudgeRow.status))).all())


async def test_two_replicas_due_at_once_send_every_nudge_once(
    db_url: str, bank_dir: Path
) -> None:
    platform: dict[str, str] = {}
    (a, out_a, clock_a), (b, out_b, clock_b) = await _two(db_url, bank_dir, platform)
    try:
        await _people_with_cards(a)
        for clock in (clock_a, clock_b):
            clock.set(MONDAY_0830_BERLIN)
        await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
        calls = out_a.calls + out_b.calls
        assert sorted(user for _, user, _, _ in calls) == [p.user_id for p in PEOPLE]
        assert len(platform) == len(PEOPLE)
        assert await _statuses(a) == ["sent"] * len(PEOPLE)
        for clock in (clock_a, clock_b):
            clock.set(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
        await asyncio.gather(a.run_due(), b.run_due())
        assert len(out_a.calls + out_b.calls) == len(PEOPLE)
    finally:
        await a.stop()
        await b.stop()


class Frozen(Recording):
    """A replica whose DM request hangs (a frozen process) until released."""

    def __init__(self, platform: dict[str, str], clock: FakeClock) -> None:
        super().__init__(platform, clock=clock)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        self.entered.set()
        await self.release.wait()
        return await super().send_direct(person, message, idempotency_key=idempotency_key,
                                         resend=resend)


async def test_a_frozen_holder_loses_its_lease_and_the_other_replica_sends_once(
    db_url: str, bank_dir: Path
) -> None:
    platform: dict[str, str] = {}
    frozen = Frozen(platform, FakeClock(datetime(2027, 3, 1, 7, 0, tzinfo=UTC)))
    (a, _, clock_a), (b, out_b, clock_b) = await _two(db_url, bank_dir, platform, frozen)
    try:
        await add_card_person(a)
        clock_a.set(MONDAY_0830_BERLIN)
        clock_b.set(MONDAY_0830_BERLIN)
        stuck = asyncio.create_task(a.run_due())
        await asyncio.wait_for(frozen.entered.wait(), 10)
        await b.run_due()  # A's lease (30 s) holds: B leaves it
        assert out_b.calls == []
        clock_b.set(datetime(2027, 3, 1, 7, 31, tzinfo=UTC))  # A's lease has run out
        await b.run_due()
        [(_, _, key, resend)] = out_b.calls
        assert resend and key.endswith(":2027-03-01")
        frozen.release.set()  # A's request lands late, under the same key
        await asyncio.wait_for(stuck, 10)
        assert len(platform) == 1  # one DM: the platform's copy, adopted
        assert await _statuses(a) == ["sent"]
        async with a.db.uow() as uow:
            row = (await uow.session.scalars(select(NudgeRow))).one()
        assert row.message_id == platform[key]
    finally:
        await a.stop()
        await b.stop()


async def add_card_person(core: Core) -> None:
    person = PEOPLE[0]
    await nudges.remind(core.deps, cmd("review", "remind", actor=person, time="08:30",
                                       timezone="Europe/Berlin"))
    await add_card(core, person, datetime(2027, 2, 28, tzinfo=UTC))
