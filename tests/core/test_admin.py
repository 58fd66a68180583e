"""Channel setup through the Core: permissions, schedule input, skip/pause/resume, post,
status, topic filters and cycles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, CommandInput, UserRef
from bot.clock import FakeClock
from bot.settings import CoreSettings, load_core
from tests.conftest import ALICE, CHANNEL, cmd, make_core, post_days


async def _user_known(core: Core, user_id: str) -> bool:
    async with core.db.uow() as uow:
        row = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, user_id)
    return row is not None


async def _channel_state(core: Core) -> tuple[object, ...] | None:
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)
        if row is None:
            return None
        return (row.scheduled, row.paused, row.post_time, row.timezone, row.days,
                row.include_topics, row.exclude_topics, row.difficulty_weights)


async def test_non_admin_is_refused_and_nothing_changes(core: Core,
                                                        console: ConsoleOutbound) -> None:
    await core.handle_command(cmd("qotd", "schedule", time="10:00"))
    before = await _channel_state(core)
    for sub, options in [("schedule", {"time": "11:00"}), ("pause", {}), ("skip", {}),
                         ("post", {}), ("topics", {"include": "Features"}), ("resume", {})]:
        replies = await core.handle_command(cmd("qotd", sub, actor=ALICE, **options))
        assert replies[0].visibility == "ephemeral"
        assert replies[0].message.tone == "error"
        assert f"Only channel admins can run `qotd {sub}`" in replies[0].message.body
    assert await _channel_state(core) == before
    assert console.posts() == []
    assert await post_days(core) == []
    assert not await _user_known(core, ALICE.user_id)  # a refusal writes no user row either
    status = await core.handle_command(cmd("qotd", "status", actor=ALICE))
    assert "Schedule: 10:00 UTC, mon-fri" in status[0].message.body
    assert await _user_known(core, ALICE.user_id)  # an accepted command remembers her


async def test_schedule_rejects_bad_input_with_the_valid_form(core: Core) -> None:
    cases = {
        "time": ("25:00", "time must be HH:MM"),
        "timezone": ("Mars/Olympus", "unknown timezone 'Mars/Olympus'"),
        "days": ("funday", "unknown day 'funday'"),
    }
    for option, (value, message) in cases.items():
        replies = await core.handle_command(cmd("qotd", "schedule", **{option: value}))
        assert replies[0].message.tone == "error"
        assert message in replies[0].message.body
    assert await _channel_state(core) is None


async def test_refused_commands_write_no_user_rows(core: Core) -> None:
    """Invalid options, unknown commands and a refused `[user]` target create no rows."""
    newcomer = Actor("u-new", "Newcomer", is_admin=True)
    target = UserRef("u-target", "Target")
    refused = [
        cmd("qotd", "schedule", actor=newcomer, time="25:00"),
        cmd("qotd", "topics", actor=newcomer, difficulty="impossible"),
        cmd("leaderboard", actor=newcomer, period="year"),
        cmd("qotd", "dance", actor=newcomer),
        cmd("dance", actor=newcomer),
        CommandInput("qotd", ALICE, CHANNEL, subcommand="pause", user=target),
    ]
    for command in refused:
        replies = await core.handle_command(command)
        assert replies[0].message.tone == "error", command
    for user_id in (newcomer.user_id, target.user_id, ALICE.user_id):
        assert not await _user_known(core, user_id)
    await core.handle_command(CommandInput("streak", newcomer, CHANNEL, user=target))
    assert await _user_known(core, newcomer.user_id)
    assert await _user_known(core, target.user_id)


def test_grace_must_leave_room_for_a_late_wake(monkeypatch: pytest.MonkeyPatch) -> None:
    """QOTD_GRACE_HOURS=0 used to be accepted and then marked every post missed."""
    for value in (0, 0.05, -1, float("nan")):
        with pytest.raises(ValidationError, match=r"QOTD_GRACE_HOURS must be at least 0\.1 "):
            CoreSettings(grace_hours=value)
    monkeypatch.setenv("QOTD_GRACE_HOURS", "0")
    with pytest.raises(ValidationError, match="marks every post missed"):
        load_core()
    monkeypatch.setenv("QOTD_GRACE_HOURS", "0.1")
    assert load_core().grace_hours == 0.1


async def test_smallest_grace_still_posts_when_the_job_wakes_late(
    migrated_url: str, bank_dir: Path, clock: FakeClock, console: ConsoleOutbound
) -> None:
    core = await make_core(migrated_url, bank_dir, clock, console, grace_hours=0.1)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", days="daily"))
        clock.set(datetime(2027, 3, 1, 9, 0, 30, tzinfo=UTC))  # the job wakes 30 s late
        await core.run_due()
        assert len(console.posts()) == 1
        assert await post_days(core) == [("2027-03-01", "sent")]
    finally:
        await core.stop()


async def test_schedule_defaults_and_status(core: Core, clock: FakeClock) -> None:
    replies = await core.handle_command(cmd("qotd", "schedule"))
    assert "Scheduled: 09:00 UTC, mon-fri" in replies[0].message.body
    replies = await core.handle_command(
        cmd("qotd", "schedule", time="08:30", timezone="europe/berlin", days="mon,wed,fri")
    )
    assert "Scheduled: 08:30 Europe/Berlin, mon,wed,fri" in replies[0].message.body
    status = (await core.handle_command(cmd("qotd", "status", actor=ALICE)))[0].message.body
    assert "Next post: Mon 2027-03-01 08:30 Europe/Berlin" in status
    assert "State: running" in status
    assert "Questions left in cycle 1: 6" in status
    assert "Filters: none" in status


async def test_skip_today_then_next_and_never_breaks_streak(core: Core, console: ConsoleOutbound,
                                                            clock: FakeClock) -> None:
    await core.handle_command(cmd("qotd", "schedule", days="daily"))
    first = await core.handle_command(cmd("qotd", "skip"))
    assert "Skipped the question of Mon 2027-03-01" in first[0].message.body
    second = await core.handle_command(cmd("qotd", "skip"))
    assert "Skipped the question of Tue 2027-03-02" in second[0].message.body
    await core.advance_to(datetime(2027, 3, 3, 10, 0, tzinfo=UTC))
    assert len(console.posts()) == 1
    third = await core.handle_command(cmd("qotd", "skip"))  # today posted: skips Thursday
    assert "Skipped the question of Thu 2027-03-04" in third[0].message.body
    await core.advance_to(datetime(2027, 3, 5, 10, 0, tzinfo=UTC))
    assert await post_days(core) == [
        ("2027-03-01", "skipped"), ("2027-03-02", "skipped"), ("2027-03-03", "sent"),
        ("2027-03-04", "skipped"), ("2027-03-05", "sent"),
    ]


async def test_pause_and_resume(core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    not_yet = await core.handle_command(cmd("qotd", "pause"))
    assert "no schedule yet" in not_yet[0].message.body
    await core.handle_command(cmd("qotd", "schedule", days="daily"))
    await core.handle_command(cmd("qotd", "pause"))
    await core.advance_to(datetime(2027, 3, 3, 10, 0, tzinfo=UTC))
    assert console.posts() == []
    status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "State: paused" in status and "Next post" not in status
    resumed = await core.handle_command(cmd("qotd", "resume"))
    # resumed at 10:00, after today's 09:00 slot: the next post is tomorrow, no late post
    assert "Next post Thu 2027-03-04 09:00 UTC" in resumed[0].message.body
    await core.advance_to(datetime(2027, 3, 4, 9, 0, tzinfo=UTC))
    assert len(console.posts()) == 1
    assert await post_days(core) == [("2027-03-04", "sent")]


async def test_post_now_takes_todays_claim_then_extra(core: Core, console: ConsoleOutbound,
                                                      clock: FakeClock) -> None:
    unscheduled = await core.handle_command(cmd("qotd", "post"))
    assert "Posted question #1 (an extra post)" in unscheduled[0].message.body
    await core.handle_command(cmd("qotd", "schedule", days="daily"))
    today = await core.handle_command(cmd("qotd", "post"))  # 07:00, before the 09:00 slot
    assert "Posted question #2 (today's question, 2027-03-01)" in today[0].message.body
    # Today's slot is taken: status announces tomorrow's, not a 09:00 that will not post.
    status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "Next post: Tue 2027-03-02 09:00 UTC" in status
    await core.handle_command(cmd("qotd", "skip"))  # tomorrow's, now
    status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "Next post: Wed 2027-03-03 09:00 UTC" in status
    await core.advance_to(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    assert len(console.posts()) == 2  # the 09:00 job found today claimed
    extra = await core.handle_command(cmd("qotd", "post"))
    assert "Posted question #3 (an extra post)" in extra[0].message.body


async def test_topic_filters(core: Core, console: ConsoleOutbound) -> None:
    listing = await core.handle_command(cmd("qotd", "topics"))
    assert "Topics: Deployment, Features, Monitoring" in listing[0].message.body
    unknown = await core.handle_command(cmd("qotd", "topics", include="Cooking"))
    assert ("unknown topic 'Cooking'; valid topics: Deployment, Features, Monitoring"
            in unknown[0].message.body)
    bad = await core.handle_command(cmd("qotd", "topics", difficulty="impossible"))
    assert "unknown difficulty 'impossible'" in bad[0].message.body
    assert await _channel_state(core) is None  # refused: not even the channel row
    empty = await core.handle_command(cmd("qotd", "topics", include="features",
                                          difficulty="hard"))
    assert "leave no question" in empty[0].message.body
    assert await _channel_state(core) is None
    ok = await core.handle_command(cmd("qotd", "topics", exclude="deployment",
                                       difficulty="easy=0,medium=1"))
    assert "not Deployment; difficulty easy=0,medium=1,hard=1" in ok[0].message.body
    for _ in range(2):
        await core.handle_command(cmd("qotd", "post"))
    topics = [dict((f.name, f.value) for f in p.message.fields)  # type: ignore[union-attr]
              for p in console.posts()]
    assert {(t["Topic"], t["Difficulty"]) for t in topics} == {
        ("Features", "Medium"), ("Monitoring", "Medium"),
    }
    status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "Questions left in cycle 1: 0" in status
    reset = await core.handle_command(cmd("qotd", "topics", reset="yes"))
    assert "Filters saved: none" in reset[0].message.body


async def test_cycle_rollover_without_repeats(core: Core) -> None:
    numbers = []
    for _ in range(13):
        replies = await core.handle_command(cmd("qotd", "post"))
        assert replies[0].message.tone == "info"
        numbers.append(replies[0].message.body.split("#")[1].split(" ")[0])
    assert numbers == [str(n) for n in range(1, 14)]
    async with core.db.uow() as uow:
        channel = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                         CHANNEL.channel_id)
        assert channel is not None
        posts = await uow.posts.sent([channel.id])
        assert channel.cycle == 3
    assert [p.cycle for p in posts] == [1] * 6 + [2] * 6 + [3]
    first, second = [p.question_id for p in posts[:6]], [p.question_id for p in posts[6:12]]
    assert len(set(first)) == 6 and set(first) == set(second)
    status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "Questions left in cycle 3: 5" in status
