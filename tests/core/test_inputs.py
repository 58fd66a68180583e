"""Hostile and mistaken input through the Core: numbers, options, time zones, names.

Each refusal is one error naming the valid form, and writes nothing (every table is
compared before and after)."""

from __future__ import annotations

import pytest

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ButtonInput, ChannelRef, CommandInput, ReactionInput, UserRef
from bot.text import NAME_LIMIT
from tests.conftest import ADMIN, ALICE, CHANNEL, cmd
from tests.dbstate import snapshot


async def _refused(core: Core, command: CommandInput) -> str:
    before = await snapshot(core)
    replies = await core.handle_command(command)
    assert len(replies) == 1 and replies[0].message.tone == "error", replies
    assert await snapshot(core) == before
    return replies[0].message.body


async def _post_open(core: Core, console: ConsoleOutbound) -> tuple[str, list[str]]:
    """An open question posted; its message id and Alice's grade button actions."""
    await core.handle_command(cmd("qotd", "topics", include="Deployment", difficulty="hard"))
    await core.handle_command(cmd("qotd", "post"))
    replies = await core.handle_command(cmd("answer", actor=ALICE))
    return console.posts()[-1].message_id, [b.action for b in replies[0].message.buttons]


# -- numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["99999999999999999999", "²", "١", "𝟙", "0", "-1",
                                    "2000000001", "9" * 190])
async def test_answer_numbers_are_ascii_digits_in_range(core: Core, console: ConsoleOutbound,
                                                        number: str) -> None:
    """`/answer 99999999999999999999` overflowed the integer column, `/answer ²` raised
    ValueError in int(), `/answer ١` answered question #1."""
    await _post_open(core, console)
    body = await _refused(core, cmd("answer", actor=ALICE, number=number))
    assert "number must be a question number like 12 (digits 0-9, from 1 to 2,000,000,000" \
        in body


async def test_grade_buttons_with_forged_ids_are_refused(core: Core,
                                                         console: ConsoleOutbound) -> None:
    _, actions = await _post_open(core, console)
    post_id = actions[0].split(":")[1]
    for action in ["grade:99999999999999999999:good", "grade:²:good", f"grade:{post_id}²:good",
                   "grade:١:good", "grade:0:good", "grade:-1:good", f"grade:{'9' * 5000}:good",
                   "grade::good", "grade:1", "other:1:good"]:
        before = await snapshot(core)
        replies = await core.handle_button(ButtonInput(ALICE, CHANNEL, action))
        assert [r.message.body for r in replies] == [
            "That button is not one of mine (or is from an older version)."
        ], action
        assert await snapshot(core) == before
    ok = await core.handle_button(ButtonInput(ALICE, CHANNEL, actions[2]))
    assert "Recorded your grade: Good" in ok[0].message.body


@pytest.mark.parametrize("reveal", ["²", "99999999999999999999999", "0", "24", "1.5", "٣"])
async def test_reveal_hours_are_ascii_digits_in_range(core: Core, reveal: str) -> None:
    body = await _refused(core, cmd("qotd", "schedule", reveal=reveal))
    assert "reveal must be a whole number of hours from 1 to 23" in body


async def test_difficulty_weights_are_bounded(core: Core) -> None:
    """A weight of 190 nines was read as 1e190 and saved (400 nines: infinity)."""
    for weights in ["easy=" + "9" * 190, "easy=1e9", "easy=١", "easy=101", "easy=-1"]:
        body = await _refused(core, cmd("qotd", "topics", difficulty=weights))
        assert "each weight from 0 to 100" in body


# -- options ------------------------------------------------------------------------------

async def test_unknown_options_are_refused_with_the_valid_ones(core: Core) -> None:
    """`tiem:10:00` used to be ignored, and the schedule saved at the default 09:00."""
    body = await _refused(core, cmd("qotd", "schedule", tiem="10:00"))
    assert body == ("unknown option 'tiem' for `qotd schedule`: "
                    "use time, timezone, days, reveal or answers")
    body = await _refused(core, cmd("qotd", "pause", now="yes"))
    assert body == "`qotd pause` takes no options (got 'now')"
    body = await _refused(core, cmd("leaderboard", actor=ALICE, period="week", sort="points"))
    assert "unknown option 'sort' for `leaderboard`: use period or scope" in body
    target = UserRef("u-bob", "Bob")
    body = await _refused(core, CommandInput("leaderboard", ALICE, CHANNEL, user=target))
    assert body == "`leaderboard` takes no user"


async def test_every_bad_option_of_a_schedule_is_reported_at_once(core: Core) -> None:
    body = await _refused(core, cmd("qotd", "schedule", time="25:00", timezone="EST",
                                    days="funday", reveal="99", color="red"))
    lines = body.splitlines()
    assert lines[0] == "5 problems; nothing was changed:"
    assert lines[1].startswith("- unknown option 'color' for `qotd schedule`")
    assert lines[2].startswith("- time must be HH:MM (24-hour), e.g. 09:00 (got '25:00')")
    assert lines[3].startswith("- EST is a fixed UTC-5 offset without daylight saving; "
                               "use America/New_York")
    assert lines[4].startswith("- unknown day 'funday'")
    assert lines[5].startswith("- reveal must be a whole number of hours from 1 to 23")


async def test_every_bad_option_of_topics_and_leaderboard_is_reported(core: Core) -> None:
    body = await _refused(core, cmd("qotd", "topics", include="Cooking,Knitting",
                                    exclude="Gardening", difficulty="impossible", reset="no"))
    assert body.splitlines() == [
        "4 problems; nothing was changed:",
        "- reset must be yes (got 'no')",
        "- unknown topics 'Cooking', 'Knitting'; valid topics: Deployment, Features, "
        "Monitoring",
        "- unknown topic 'Gardening'; valid topics: Deployment, Features, Monitoring",
        "- unknown difficulty 'impossible': difficulty must be a list like easy,medium or "
        "weights like easy=2,medium=1,hard=0 (difficulties: easy, medium, hard)",
    ]
    body = await _refused(core, cmd("leaderboard", actor=ALICE, period="year", scope="galaxy"))
    assert body.splitlines() == [
        "2 problems; nothing was changed:",
        "- period must be one of week, month, all (got 'year')",
        "- scope must be one of channel, workspace (got 'galaxy')",
    ]


async def test_text_options_are_length_limited(core: Core) -> None:
    body = await _refused(core, cmd("qotd", "schedule", timezone="Europe/" + "x" * 300))
    assert body == "timezone is 307 characters long; the limit is 200"
    body = await _refused(core, cmd("answer", number="9" * 5000))
    assert body == "number is 5000 characters long; the limit is 200"
    many = ",".join(["Features"] * 26)
    body = await _refused(core, cmd("qotd", "topics", include=many))
    assert body == "include names 26 topics; the limit is 25"
    body = await _refused(core, cmd("qotd", "topics", exclude="x" * 1001, difficulty="wat"))
    assert "exclude is 1001 characters long; the limit is 1000" in body
    assert "unknown difficulty 'wat'" in body  # the readable options are still checked


async def test_a_non_admin_hears_about_permissions_not_options(core: Core) -> None:
    body = await _refused(core, cmd("qotd", "schedule", actor=ALICE, tiem="x"))
    assert body.startswith("Only channel admins can run `qotd schedule`")


# -- time zones ---------------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "use"), [
    ("EST", "America/New_York"), ("PST8PDT", "America/Los_Angeles"),
    ("Etc/GMT+5", "Area/City"), ("GMT", "Europe/London"), ("hst", "Pacific/Honolulu"),
])
async def test_legacy_zones_are_refused(core: Core, zone: str, use: str) -> None:
    """`timezone:EST` was accepted silently: 09:00 became 10:00 in New York each summer."""
    body = await _refused(core, cmd("qotd", "schedule", timezone=zone))
    assert use in body


async def test_status_flags_a_legacy_zone_saved_by_an_older_version(core: Core) -> None:
    await core.handle_command(cmd("qotd", "schedule", time="10:00"))
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)
        assert row is not None
        row.timezone = "EST"
        await uow.commit()
    body = (await core.handle_command(cmd("qotd", "status")))[0].message.body
    assert "Schedule: 10:00 EST, mon-fri" in body
    assert ("Time zone: EST is a fixed UTC-5 offset without daylight saving; use "
            "America/New_York") in body


async def test_aliases_are_stored_as_their_area_city_name(core: Core) -> None:
    replies = await core.handle_command(cmd("qotd", "schedule", timezone="US/Eastern"))
    assert "Scheduled: 09:00 America/New_York, mon-fri" in replies[0].message.body
    replies = await core.handle_command(cmd("qotd", "schedule", timezone="etc/utc"))
    assert "Scheduled: 09:00 UTC, mon-fri" in replies[0].message.body


# -- names and ids ------------------------------------------------------------------------

async def _stored_name(core: Core, user_id: str) -> str | None:
    async with core.db.uow() as uow:
        row = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, user_id)
    return None if row is None else row.display_name


async def test_display_names_are_cleaned_before_storage(core: Core,
                                                        console: ConsoleOutbound) -> None:
    message_id, _ = await _post_open(core, console)
    sneaky = Actor("u-eve", "\u202eevE\u200b\x1b[31m\u2066")
    await core.handle_command(cmd("qotd", "status", actor=sneaky))
    assert await _stored_name(core, "u-eve") == "evE[31m"
    await core.handle_reaction(ReactionInput(Actor("u-eve", "\u200b\u200d"), CHANNEL,
                                             message_id, "yes", True))
    assert await _stored_name(core, "u-eve") == "evE[31m"  # nothing visible: name kept
    long = Actor("u-long", "L" * 500)
    await core.handle_reaction(ReactionInput(long, CHANNEL, message_id, "yes", True))
    assert await _stored_name(core, "u-long") == "L" * NAME_LIMIT
    ghost = Actor("u-ghost", "\u3164\u200b")
    await core.handle_button(ButtonInput(ghost, CHANNEL, "grade:1:good"))
    assert await _stored_name(core, "u-ghost") == "u-ghost"  # a new user: shown by id


async def test_names_stored_by_older_versions_cannot_reverse_a_board(
        core: Core, console: ConsoleOutbound) -> None:
    message_id, _ = await _post_open(core, console)
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, message_id, "yes", True))
    async with core.db.uow() as uow:  # what an older version stored as it came
        await uow.users.upsert(CHANNEL.platform, CHANNEL.workspace_id, ALICE.user_id,
                               "\u202eecilA\u2067", core.clock.now())
        await uow.commit()
    body = (await core.handle_command(cmd("leaderboard", actor=ADMIN)))[0].message.body
    assert body == "1. ecilA: 3 pts"
    streak = await core.handle_command(
        CommandInput("streak", ADMIN, CHANNEL, user=UserRef(ALICE.user_id, "\u200b"))
    )
    assert streak[0].message.body == "ecilA: current streak 0, best 0."


async def test_user_option_names_are_cleaned(core: Core) -> None:
    target = UserRef("u-bob", "B\u202eob\u0000")
    await core.handle_command(CommandInput("streak", ALICE, CHANNEL, user=target))
    assert await _stored_name(core, "u-bob") == "Bob"


@pytest.mark.parametrize(("channel", "actor"), [
    (ChannelRef("console", "ws1", "c" * 65), ADMIN),
    (ChannelRef("console", "ws\x00", "c1"), ADMIN),
    (ChannelRef("console", "ws1", "c1"), Actor("u" * 65, "Long", is_admin=True)),
    (ChannelRef("console", "w" * 65, "c1"), ADMIN),
    (ChannelRef("console", "ws1", ""), ADMIN),
])
async def test_malformed_ids_never_reach_the_database(core: Core, channel: ChannelRef,
                                                      actor: Actor) -> None:
    """PostgreSQL refuses a NUL byte and an id longer than its column with an error."""
    body = await _refused(core, CommandInput("qotd", actor, channel, subcommand="status"))
    assert "an id the platform sent is malformed" in body
    before = await snapshot(core)
    assert await core.handle_reaction(ReactionInput(actor, channel, "m1", "A", True)) == []
    replies = await core.handle_button(ButtonInput(actor, channel, "grade:1:good"))
    assert "malformed" in replies[0].message.body
    assert await snapshot(core) == before


async def test_reactions_with_junk_keys_or_ids_store_nothing(core: Core,
                                                             console: ConsoleOutbound) -> None:
    message_id, _ = await _post_open(core, console)
    before = await snapshot(core)
    for key, target in [("yes" * 10, message_id), ("\u202eyes", message_id),
                        ("yes", "m" * 65), ("yes", "m\x00")]:
        assert await core.handle_reaction(ReactionInput(ALICE, CHANNEL, target, key, True)) == []
    assert await snapshot(core) == before


async def test_option_keys_and_values_are_read_clean(core: Core) -> None:
    """Keys in any case, values with invisible characters: read as typed visibly."""
    command = CommandInput("qotd", ADMIN, CHANNEL, subcommand=" Schedule ",
                           options={"TIME": "10:\u200b00", "Timezone": "\u202aEurope/Berlin"})
    replies = await core.handle_command(command)
    assert replies[0].message.tone == "info", replies
    assert "Scheduled: 10:00 Europe/Berlin, mon-fri" in replies[0].message.body
    twice = CommandInput("qotd", ADMIN, CHANNEL, subcommand="schedule",
                         options={"time": "10:00", "TIME": "11:00"})
    assert "option 'time' is given twice" in await _refused(core, twice)
