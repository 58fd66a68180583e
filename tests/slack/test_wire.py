"""The adapter on the wire, both modes, with a core that records what reaches it.

These pin the translation itself (what Slack sends -> which core input; which reply ->
which Slack call). The end-to-end behaviour with the real core is in test_end_to_end.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from adapters.slack.runtime import SlackConfigError, start_slack
from adapters.slack.settings import SlackSettings
from bot.boundary import (
    ButtonInput,
    ChannelRef,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
)
from bot.ports import OutboundRouter
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, reaction_event
from tests.slack.harness import Mode, slack_running

MODES: list[Mode] = ["socket", "http"]


class RecordingCore:
    """Records inputs and answers each with a fixed reply (a stand-in until the wire is
    proven; the behaviour of the real core is tested end to end elsewhere)."""

    def __init__(self) -> None:
        self.router = OutboundRouter()
        self.inputs: list[Any] = []

    async def handle_command(self, command: CommandInput) -> list[Reply]:
        self.inputs.append(command)
        return [Reply("ephemeral", OutMessage("info", body=f"got {command.name}"))]

    async def handle_reaction(self, reaction: ReactionInput) -> list[Reply]:
        self.inputs.append(reaction)
        return []

    async def handle_button(self, button: ButtonInput) -> list[Reply]:
        self.inputs.append(button)
        return [Reply("ephemeral", OutMessage("info", body="graded"))]

    async def topic_names(self) -> list[str]:
        return []


@pytest.mark.parametrize("mode", MODES)
async def test_command_reaches_the_core_with_admin_resolved_and_answer_is_ephemeral(
    mode: Mode,
) -> None:
    core = RecordingCore()
    async with FakeSlack() as fake:
        fake.add_user("UADMIN", "boss", is_admin=True)
        fake.add_user("ULISTED", "lee")
        fake.add_user("UPLAIN", "pat")
        async with slack_running(fake, core, mode, admins="ULISTED") as slack:
            key = await slack.command(
                "/qotd", "schedule time:09:00 timezone:UTC days:daily", user="UADMIN"
            )
            [answer] = await slack.answers(key)
            assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
            assert "got qotd" in answer["text"]
            await slack.answers(await slack.command("/qotd", "status", user="ULISTED"))
            await slack.answers(await slack.command("/streak", "<@UADMIN|boss>", user="UPLAIN"))
    first, second, third = core.inputs
    assert first.channel == ChannelRef("slack", TEAM_ID, "C0QOTD")
    assert (first.subcommand, dict(first.options)) == (
        "schedule",
        {"time": "09:00", "timezone": "UTC", "days": "daily"},
    )
    assert (first.actor.user_id, first.actor.display_name, first.actor.is_admin) == (
        "UADMIN",
        "boss",
        True,
    )
    assert second.actor.is_admin is True, "listed in SLACK_ADMINS"
    assert (
        third.actor.is_admin is False and third.name == "streak" and third.user.user_id == "UADMIN"
    )


@pytest.mark.parametrize("mode", MODES)
async def test_malformed_command_gets_usage_and_never_reaches_the_core(mode: Mode) -> None:
    core = RecordingCore()
    async with FakeSlack() as fake, slack_running(fake, core, mode) as slack:
        [answer] = await slack.answers(await slack.command("/leaderboard", "forever", user="U1"))
        assert answer["response_type"] == "ephemeral"
        assert "Usage: /leaderboard [week|month|all] [channel|workspace]" in answer["text"]
    assert core.inputs == []


@pytest.mark.parametrize("mode", MODES)
async def test_reactions_map_to_keys_retries_count_once_and_own_and_foreign_emoji_are_dropped(
    mode: Mode,
) -> None:
    core = RecordingCore()
    async with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        async with slack_running(fake, core, mode) as slack:
            added = reaction_event(user="U1", channel="C1", ts="1790000000.000100", name="two")
            await slack.event(added, event_id="Ev1")
            await slack.event(added, event_id="Ev1", retry=1)
            await slack.event(added, event_id="Ev1", retry=2)
            await slack.event(
                reaction_event(user=BOT_USER_ID, channel="C1", ts="1.2", name="one"), event_id="Ev2"
            )
            await slack.event(
                reaction_event(user="U1", channel="C1", ts="1.2", name="tada"), event_id="Ev3"
            )
            removed = reaction_event(
                user="U1", channel="C1", ts="1790000000.000100", name="two", added=False
            )
            await slack.event(removed, event_id="Ev4")
            await fake.wait_for(lambda: len(core.inputs) >= 2)
            if mode == "socket":
                assert fake.unacked() == []
    assert core.inputs == [
        ReactionInput(
            core.inputs[0].actor, ChannelRef("slack", TEAM_ID, "C1"), "1790000000.000100", "B", True
        ),
        ReactionInput(
            core.inputs[0].actor,
            ChannelRef("slack", TEAM_ID, "C1"),
            "1790000000.000100",
            "B",
            False,
        ),
    ]
    assert core.inputs[0].actor.display_name == "ana"


@pytest.mark.parametrize("mode", MODES)
async def test_button_value_is_the_core_action(mode: Mode) -> None:
    core = RecordingCore()
    async with FakeSlack() as fake, slack_running(fake, core, mode) as slack:
        fake.add_user("U1", "ana")
        key = await slack.press(
            user="U1", channel="C1", value="grade:42:good", message_ts="1790000000.000200"
        )
        [answer] = await slack.answers(key)
        assert answer["text"] == "graded" and answer["response_type"] == "ephemeral"
    [button] = core.inputs
    assert button.action == "grade:42:good" and button.message_id == "1790000000.000200"
    assert button.channel == ChannelRef("slack", TEAM_ID, "C1")


async def test_http_mode_rejects_bad_signatures_and_stale_timestamps_and_records_nothing() -> None:
    core = RecordingCore()
    async with FakeSlack() as fake, slack_running(fake, core, "http") as slack:
        body = "command=%2Fqotd&text=pause&user_id=U1&team_id=T0FAKE001&channel_id=C1"
        form = "application/x-www-form-urlencoded"
        forged = {"X-Slack-Signature": "v0=" + "0" * 64}
        status, _ = await slack.post_signed(body, form, headers=forged)
        assert status == 401
        status, _ = await slack.post_signed(body, form, timestamp=int(time.time()) - 6 * 60)
        assert status == 401
    assert core.inputs == []
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []
    assert fake.responses == []


async def test_a_burst_of_429s_still_yields_one_post_per_channel_and_retries_do_not_duplicate() -> (
    None
):
    core = RecordingCore()
    async with FakeSlack() as fake, slack_running(fake, core, "http") as slack:
        fake.fail("chat.postMessage", status=429, times=4)
        fake.fail("conversations.history", status=429, times=1)
        outbound = core.router.for_channel(ChannelRef("slack", TEAM_ID, "C1"))
        message = OutMessage("question", title="Question #1", body="Why?", reactions=("yes", "no"))
        for channel in ("C1", "C2"):
            ts = await outbound.post(
                ChannelRef("slack", TEAM_ID, channel), message, idempotency_key=f"post:{channel}"
            )
            again = await outbound.post(
                ChannelRef("slack", TEAM_ID, channel), message, idempotency_key=f"post:{channel}"
            )
            assert again == ts
        for channel in ("C1", "C2"):
            [post] = fake.channel_posts(channel)
            assert post["metadata"] == {
                "event_type": "qotd_post",
                "event_payload": {"post_key": f"post:{channel}"},
            }
            assert [r["name"] for r in post["reactions"]] == ["white_check_mark", "x"]
        assert len(fake.calls_to("chat.postMessage", ok_only=False)) == 6
        assert slack.running is not None


async def test_incomplete_settings_are_refused_with_what_to_set_and_no_secret() -> None:
    core = RecordingCore()
    with pytest.raises(SlackConfigError) as err:
        await start_slack(core, SlackSettings(bot_token="xoxb-secret-value"))
    assert "SLACK_APP_TOKEN" in str(err.value) and "xoxb-secret-value" not in str(err.value)
    assert core.router.platforms() == []
