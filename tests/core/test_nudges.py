"""The daily review nudge through the real Core on a FakeClock (never sleeping): one DM
at the person's local time on days cards are due, none when nothing is due, one per
local day across restarts, a crash after the claim and the DST changes; late within
the grace window, let go past it; `/review remind` validation and `off`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import NO, Actor, DirectRef, OutMessage, ReactionInput, Reply
from bot.clock import FakeClock
from bot.service import nudges
from storage.models import CardRow, NudgeRow, ReminderRow
from storage.nudge_repo import nudge_repo
from tests.conftest import ALICE, BOB, CHANNEL, cmd, make_core

BERLIN = "Europe/Berlin"


class Recording(ConsoleOutbound):
    """The console outbound, remembering when each DM was asked for and how (`resend`),
    every call, including the ones the key de-duplicates. `platform` may be shared by
    two of them: a DM that reached it once is adopted by a later resend with its key,
    as the real adapters do."""

    def __init__(self, platform: dict[str, str] | None = None, *, clock: FakeClock,
                 fail_after_send: int = 0) -> None:
        super().__init__()
        self.clock = clock
        self.platform = platform if platform is not None else {}
        self.calls: list[tuple[datetime, str, str, bool]] = []  # (at, user, key, resend)
        self.fail_after_send = fail_after_send

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        self.calls.append((self.clock.now(), person.user_id, idempotency_key, resend))
        if idempotency_key in self.platform:
            return self.platform[idempotency_key]
        message_id = await super().send_direct(person, message,
                                               idempotency_key=idempotency_key, resend=resend)
        self.platform[idempotency_key] = message_id
        if self.fail_after_send > 0:  # the DM landed, the answer never came back
            self.fail_after_send -= 1
            raise ConnectionError("connection reset after the request was sent")
        return message_id

    def dm_times(self, user_id: str) -> list[datetime]:
        """When each DM that reached the person was first sent."""
        first: dict[str, datetime] = {}
        for at, user, key, _ in self.calls:
            if user == user_id:
                first.setdefault(key, at)
        return sorted(first.values())


async def remind(core: Core, actor: Actor = ALICE, **options: str) -> Reply:
    replies = await nudges.remind(core.deps, cmd("review", "remind", actor=actor, **options))
    assert len(replies) == 1
    return replies[0]


async def user_pk(core: Core, actor: Actor = ALICE) -> int:
    async with core.db.uow() as uow:
        user = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, actor.user_id)
        assert user is not None
        return user.id


async def add_card(core: Core, actor: Actor, due: datetime, group: str = "g1") -> None:
    """A card in the person's queue due at `due` (as `/review add` leaves one)."""
    pk = await user_pk(core, actor)
    async with core.db.uow() as uow:
        question = (await uow.questions.pickable())[0]
        await uow.session.execute(insert(CardRow).values(
            user_pk=pk, group_key=group, question_id=question.id, state=1, step=0,
            stability=None, difficulty=None, due=due, last_review=None, reviews=0,
            lapses=0, created_at=due, source="added"))
        await uow.commit()


async def days(core: Core, actor: Actor = ALICE) -> list[tuple[str, str]]:
    pk = await user_pk(core, actor)
    async with core.db.uow() as uow:
        return [(str(d), s) for d, s in await nudge_repo(uow).sent_days(pk)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2027-03-01T07:00"))  # a Monday, 08:00 in Berlin


@pytest.fixture
async def rec_core(migrated_url: str, bank_dir: Path, clock: FakeClock):  # type: ignore[no-untyped-def]
    outbound = Recording(clock=clock)
    core = await make_core(migrated_url, bank_dir, clock, outbound)
    await core.start()
    try:
        yield core, outbound
    finally:
        await core.stop()


async def test_the_dm_arrives_once_at_0830_local_and_says_what_to_do(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    reply = await remind(core, time="08:30", timezone=BERLIN)
    assert reply.message.tone == "info", reply.message.body
    assert "08:30 Europe/Berlin" in reply.message.body
    assert "Mon 01 Mar 08:30" in reply.message.body  # the next one, in the person's zone
    await add_card(core, ALICE, at("2027-02-28T12:00"))
    await add_card(core, ALICE, at("2027-03-01T06:00"), group="g2")
    await core.advance_to(at("2027-03-01T07:29:59"))
    assert out.directs() == []
    await core.advance_to(at("2027-03-01T23:00"))
    assert out.dm_times("u-alice") == [at("2027-03-01T07:30")]  # 08:30 CET
    [dm] = out.directs("u-alice")
    assert dm.message is not None
    assert "2 cards are due" in dm.message.body and "`/review`" in dm.message.body
    assert "@" not in dm.text.replace("@u-alice", "")  # no pings of any kind
    assert await days(core) == [("2027-03-01", "sent")]
    await core.advance_to(at("2027-03-03T12:00"))  # the cards stay due: one a day
    assert out.dm_times("u-alice") == [at("2027-03-01T07:30"), at("2027-03-02T07:30"),
                                       at("2027-03-03T07:30")]
    assert len(out.calls) == 3


async def test_no_dm_when_nothing_is_due_and_the_day_is_recorded_skipped(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    await remind(core, time="08:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-03-02T09:00"))  # due after Tuesday's 08:30
    await core.advance_to(at("2027-03-02T23:00"))
    assert out.calls == []
    assert await days(core) == [("2027-03-01", "skipped"), ("2027-03-02", "skipped")]
    await core.advance_to(at("2027-03-03T08:00"))  # due since Tuesday 09:00
    assert out.dm_times("u-alice") == [at("2027-03-03T07:30")]


async def test_todays_answers_make_the_cards_the_nudge_counts(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    """No card staged: Bob's wrong vote on Monday's question (rated Again) is due again
    within a day, so Tuesday's nudge counts it; Alice, who never answered, gets none."""
    core, out = rec_core
    await core.handle_command(cmd("qotd", "topics", include="Monitoring"))
    await core.handle_command(cmd("qotd", "schedule", time="08:00", timezone="UTC",
                                  days="daily"))
    await remind(core, BOB, time="07:00", timezone="UTC")
    await remind(core, ALICE, time="07:00", timezone="UTC")
    await core.advance_to(at("2027-03-01T08:01"))
    post = out.posts()[-1]
    assert post.message is not None
    # a wrong choice, or ❌ "not yet" on an open question: Again either way
    wrong = next((c.key for c in post.message.choices if c.key != "B"), NO)
    assert await core.handle_reaction(ReactionInput(BOB, CHANNEL, post.message_id, wrong,
                                                    True)) == []
    await core.advance_to(at("2027-03-02T07:30"))
    assert out.dm_times("u-bob") == [at("2027-03-02T07:00")]
    assert out.dm_times("u-alice") == []
    [dm] = out.directs("u-bob")
    assert dm.message is not None and "1 card is due" in dm.message.body


async def test_one_per_local_day_across_a_restart(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    platform: dict[str, str] = {}
    first = Recording(platform, clock=clock)
    core = await make_core(migrated_url, bank_dir, clock, first)
    await core.start()
    try:
        await remind(core, time="08:30", timezone=BERLIN)
        await add_card(core, ALICE, at("2027-02-28T12:00"))
        await core.advance_to(at("2027-03-01T08:00"))
    finally:
        await core.stop()
    assert first.dm_times("u-alice") == [at("2027-03-01T07:30")]
    clock.set(at("2027-03-01T09:00"))  # restarted later the same day, within grace
    second = Recording(platform, clock=clock)
    core = await make_core(migrated_url, bank_dir, clock, second)
    await core.start()
    try:
        await core.advance_to(at("2027-03-01T23:59"))
        assert second.calls == []
        await core.advance_to(at("2027-03-02T08:00"))
        assert second.dm_times("u-alice") == [at("2027-03-02T07:30")]
    finally:
        await core.stop()


async def test_a_crash_after_the_send_resends_with_the_same_key_and_one_dm_lands(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """The DM reached the platform but its answer never came back (the process then
    died): the claim stays pending with its lease; after a restart, once the lease has
    run out, the new process sends again with resend=True and the same key, and the
    platform's copy is adopted: one DM, recorded sent."""
    platform: dict[str, str] = {}
    first = Recording(platform, clock=clock, fail_after_send=1)
    core = await make_core(migrated_url, bank_dir, clock, first)
    await core.start()
    try:
        await remind(core, time="08:30", timezone=BERLIN)
        await add_card(core, ALICE, at("2027-02-28T12:00"))
        clock.set(at("2027-03-01T07:30"))
        await core.run_due()
        assert await days(core) == [("2027-03-01", "pending")]
    finally:
        await core.stop()
    clock.set(at("2027-03-01T07:30:10"))  # back before the lease (30 s) ran out
    second = Recording(platform, clock=clock)
    core = await make_core(migrated_url, bank_dir, clock, second)
    await core.start()
    try:
        assert second.calls == []  # the lease is still the dead holder's
        await core.advance_to(at("2027-03-01T12:00"))
        [(when, _user, key, resend)] = second.calls
        assert when == at("2027-03-01T07:30:30") and resend
        assert key == first.calls[0][2] == f"nudge:{await user_pk(core)}:2027-03-01"
        assert len(platform) == 1
        assert await days(core) == [("2027-03-01", "sent")]
        async with core.db.uow() as uow:
            reminder = await uow.session.get(ReminderRow, await user_pk(core))
            assert reminder is not None and reminder.next_at == at("2027-03-02T07:30")
    finally:
        await core.stop()


async def test_berlin_clock_changes_keep_0830_local_and_one_a_day(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    clock.set(at("2027-03-26T12:00"))
    await remind(core, time="08:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-03-01T12:00"))
    await core.advance_to(at("2027-03-30T12:00"))
    assert out.dm_times("u-alice") == [
        at("2027-03-27T07:30"),  # Saturday, CET
        at("2027-03-28T06:30"),  # Sunday: clocks went forward at 02:00, now CEST
        at("2027-03-29T06:30"), at("2027-03-30T06:30"),
    ]
    clock.set(at("2027-10-29T12:00"))
    await core.advance_to(at("2027-11-01T12:00"))
    assert out.dm_times("u-alice")[4:] == [
        at("2027-10-30T06:30"),  # Saturday, CEST
        at("2027-10-31T07:30"),  # Sunday: clocks went back at 03:00, now CET
        at("2027-11-01T07:30"),
    ]


async def test_a_time_the_change_skips_or_repeats_nudges_once_that_day(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    clock.set(at("2027-03-27T12:00"))
    await remind(core, time="02:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-03-01T12:00"))
    await core.advance_to(at("2027-03-29T12:00"))
    # 02:30 does not exist on the 28th: once, at the instant it would have been in CET
    assert out.dm_times("u-alice") == [at("2027-03-28T01:30"), at("2027-03-29T00:30")]
    clock.set(at("2027-10-30T12:00"))
    await core.advance_to(at("2027-11-01T12:00"))
    # 02:30 happens twice on the 31st: once, the first time (CEST)
    assert out.dm_times("u-alice")[2:] == [at("2027-10-31T00:30"), at("2027-11-01T01:30")]
    assert [d for d, _ in await days(core)] == [
        "2027-03-28", "2027-03-29", "2027-10-31", "2027-11-01"]


async def test_a_missed_time_sends_late_within_grace_and_lets_the_day_go_past_it(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    await remind(core, time="08:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-02-28T12:00"))
    clock.set(at("2027-03-01T10:00"))  # down over 07:30 UTC; 2.5 h late (grace 3 h)
    await core.run_due()
    assert out.dm_times("u-alice") == [at("2027-03-01T10:00")]
    clock.set(at("2027-03-02T11:00"))  # 3.5 h late: past grace
    await core.run_due()
    assert len(out.calls) == 1
    assert await days(core) == [("2027-03-01", "sent")]
    await core.advance_to(at("2027-03-03T08:00"))
    assert out.dm_times("u-alice")[1:] == [at("2027-03-03T07:30")]


async def test_off_stops_them_and_on_again_resumes(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    await remind(core, time="08:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-02-28T12:00"))
    await core.advance_to(at("2027-03-01T08:00"))
    reply = await remind(core, time="off")
    assert reply.message.tone == "info" and "off" in reply.message.body
    await core.advance_to(at("2027-03-04T12:00"))
    assert len(out.calls) == 1
    async with core.db.uow() as uow:
        assert (await uow.session.scalars(select(ReminderRow))).all() == []
    again = await remind(core, time="off")
    assert "nothing to turn off" in again.message.body
    await remind(core, time="9:15")  # the zone: the channel is unscheduled, so UTC
    await core.advance_to(at("2027-03-05T10:00"))
    assert out.dm_times("u-alice")[1:] == [at("2027-03-05T09:15")]


async def test_changing_the_time_after_todays_nudge_never_sends_a_second_today(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, out = rec_core
    await remind(core, time="08:30", timezone=BERLIN)
    await add_card(core, ALICE, at("2027-02-28T12:00"))
    await core.advance_to(at("2027-03-01T08:00"))
    reply = await remind(core, time="18:00")  # the zone stays Berlin
    assert "18:00 Europe/Berlin" in reply.message.body
    assert "Tue 02 Mar 18:00" in reply.message.body
    await core.advance_to(at("2027-03-02T18:00"))
    assert out.dm_times("u-alice") == [at("2027-03-01T07:30"), at("2027-03-02T17:00")]


async def test_a_new_reminder_takes_the_channels_zone_when_none_is_given(
    rec_core: tuple[Core, Recording]
) -> None:
    core, _ = rec_core
    await core.handle_command(cmd("qotd", "schedule", time="09:00", timezone="Asia/Tokyo"))
    reply = await remind(core, time="07:00")
    assert "07:00 Asia/Tokyo (the channel zone" in reply.message.body


@pytest.mark.parametrize(("options", "expected"), [
    ({"time": "25:00", "timezone": BERLIN}, ["HH:MM", "e.g. /review remind time:08:30"]),
    ({"time": "8.30", "timezone": BERLIN}, ["HH:MM", "'8.30'"]),
    ({"time": "08:30", "timezone": "Europe/Berln"}, ["unknown timezone", "Europe/Berlin"]),
    ({"time": "08:30", "timezone": "EST"}, ["America/New_York"]),
    ({"timezone": BERLIN}, ["say when", "time:08:30"]),
    ({"time": "xx", "timezone": "Nowhere/Land"}, ["2 problems", "HH:MM", "unknown timezone"]),
    ({"time": "off", "timezone": BERLIN}, ["takes no timezone"]),
])
async def test_bad_input_is_refused_with_the_form_and_nothing_is_written(
    rec_core: tuple[Core, Recording], options: dict[str, str], expected: list[str]
) -> None:
    core, _ = rec_core
    reply = await remind(core, **options)
    assert reply.message.tone == "error" and reply.visibility == "ephemeral"
    for text in expected:
        assert text in reply.message.body, reply.message.body
    problems = await nudges.remind_problems(core.deps, cmd("review", "remind", actor=ALICE,
                                                           **options))
    assert problems and all(p in reply.message.body for p in problems)
    async with core.db.uow() as uow:
        assert (await uow.session.scalars(select(ReminderRow))).all() == []
        assert (await uow.session.scalars(select(NudgeRow))).all() == []


async def test_remind_alone_says_what_is_set(rec_core: tuple[Core, Recording]) -> None:
    core, _ = rec_core
    assert "No daily review nudge" in (await remind(core)).message.body
    await remind(core, time="08:30", timezone=BERLIN)
    body = (await remind(core)).message.body
    assert "08:30 Europe/Berlin" in body and "Mon 01 Mar 08:30" in body


async def test_next_due_includes_the_earliest_reminder(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    core, _ = rec_core
    await remind(core, time="08:30", timezone=BERLIN)
    await remind(core, BOB, time="07:10", timezone="UTC")
    assert await nudges.next_nudge_due(core.deps, clock.now()) == at("2027-03-01T07:10")
    from bot.service import engine

    assert await engine.next_due(core.deps, clock.now()) == at("2027-03-01T07:10")
    assert await nudges.next_nudge_due(core.deps, at("2027-03-01T07:10")) == \
        at("2027-03-01T07:30")


def test_nudge_day_key_is_the_local_day() -> None:
    from bot.rules.reminders import nudge_day, reminder_of

    late = reminder_of("00:30", "Pacific/Auckland")
    assert nudge_day(late, at("2027-03-01T11:30")) == date(2027, 3, 2)


ZONES = ["Europe/Berlin", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe",
         "America/Havana", "America/Santiago", "Asia/Kolkata", "UTC"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("local", ["00:00", "00:30", "01:59", "02:00", "02:30", "03:00",
                                   "08:30", "23:30"])
def test_one_nudge_instant_on_every_local_day_of_a_year(zone: str, local: str) -> None:
    """Across both changes of each zone (the skipped and the repeated hour; Lord Howe's
    half hour; Havana and Santiago change at midnight): one instant per local day, on
    that day, at the wall time when it exists, else as far past it as the gap is long."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.rules.reminders import latest_nudge, next_nudge, nudge_day, reminder_of

    reminder, tz = reminder_of(local, zone), ZoneInfo(zone)
    moment, seen = at("2026-12-30T00:00"), []
    while moment < at("2028-01-01T00:00"):
        following = next_nudge(reminder, moment)
        assert following > moment
        assert latest_nudge(reminder, following) == following
        assert latest_nudge(reminder, following - timedelta(microseconds=1)) <= moment
        wall = following.astimezone(tz)
        assert nudge_day(reminder, following) == wall.date()
        gap = wall.utcoffset() - (following - timedelta(hours=3)).astimezone(tz).utcoffset()
        assert wall.time() == reminder.at or (
            gap > timedelta(0) and (wall - gap).time() == reminder.at), wall
        seen.append(wall.date())
        moment = following
    days = [d for d in seen if d.year == 2027]
    assert days == [date(2027, 1, 1) + timedelta(days=i) for i in range(365)]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("local", ["00:00", "00:30", "01:59", "02:00", "02:30", "03:00",
                                   "08:30", "23:30"])
def test_nudge_instants_agree_with_the_channel_slot_maths(zone: str, local: str) -> None:
    """The same instants as bot.rules.schedule's next_slot for a daily schedule, for
    every time the test above walks, including those before the change hour on the
    spring-forward day (which the channel slot maths once skipped a day after)."""
    from bot.rules.reminders import next_nudge, reminder_of
    from bot.rules.schedule import next_slot

    reminder = reminder_of(local, zone)
    moment = at("2027-01-01T00:00")
    while moment < at("2028-01-01T00:00"):
        following = next_nudge(reminder, moment)
        assert following == next_slot(reminder.schedule, moment), moment
        moment = following


async def test_a_claim_left_pending_by_a_dead_holder_is_let_go_the_next_day(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """Monday's DM never got its answer and the bot stayed down past grace: Tuesday
    records Monday skipped (no late second copy) and sends Tuesday's."""
    platform: dict[str, str] = {}
    first = Recording(platform, clock=clock, fail_after_send=1)
    core = await make_core(migrated_url, bank_dir, clock, first)
    await core.start()
    try:
        await remind(core, time="08:30", timezone=BERLIN)
        await add_card(core, ALICE, at("2027-02-28T12:00"))
        clock.set(at("2027-03-01T07:30"))
        await core.run_due()
    finally:
        await core.stop()
    clock.set(at("2027-03-02T07:00"))
    second = Recording(platform, clock=clock)
    core = await make_core(migrated_url, bank_dir, clock, second)
    await core.start()
    try:
        await core.advance_to(at("2027-03-02T08:00"))
        assert [(u, k.endswith("2027-03-02"), r) for _, u, k, r in second.calls] == [
            ("u-alice", True, False)]
        assert await days(core) == [("2027-03-01", "skipped"), ("2027-03-02", "sent")]
    finally:
        await core.stop()


async def test_review_remind_through_the_command_router(
    rec_core: tuple[Core, Recording], clock: FakeClock
) -> None:
    """`/review remind` as the adapters send it (bot.service.commands → review → nudges):
    set, refused with every problem in one reply, off."""
    core, out = rec_core
    [ok] = await core.handle_command(cmd("review", "remind", actor=ALICE, time="08:30",
                                         timezone=BERLIN))
    assert ok.visibility == "ephemeral" and ok.message.tone == "info", ok.message.body
    assert "08:30 Europe/Berlin" in ok.message.body
    [bad] = await core.handle_command(cmd("review", "remind", actor=BOB, time="8h",
                                          timezone="Mars/Olympus", days="daily"))
    assert bad.message.tone == "error"
    for text in ("HH:MM", "unknown timezone", "days"):
        assert text in bad.message.body, bad.message.body
    await add_card(core, ALICE, at("2027-02-28T12:00"))
    await core.advance_to(at("2027-03-01T08:00"))
    assert out.dm_times("u-alice") == [at("2027-03-01T07:30")]
    [off] = await core.handle_command(cmd("review", "remind", actor=ALICE, time="off"))
    assert off.message.tone == "info" and "off" in off.message.body
    await core.advance_to(at("2027-03-03T08:00"))
    assert len(out.calls) == 1
