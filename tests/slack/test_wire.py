"""Adapter behaviour on the wire, both modes, with the real core behind it: who counts as
an admin, usage errors, which reactions reach the core, request authentication, rate
limits and lost responses."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.slack.emoji import emoji_for
from adapters.slack.runtime import SlackConfigError, start_slack
from adapters.slack.settings import SlackSettings
from bot.boundary import ChannelRef
from bot.ports import OutboundRouter
from tests.conftest import START, post_on
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, reaction_event
from tests.slack.harness import (
    CHANNEL,
    Mode,
    SlackDriver,
    bot_on_slack,
    real_core,
    say,
    settings_for,
)

MODES: list[Mode] = ["socket", "http"]
SCHEDULE = "schedule time:09:00 timezone:UTC days:daily"
SCHEDULE_REACTIONS = SCHEDULE + " answers:reactions"
REFUSED = "Only channel admins"


async def first_post(slack: SlackDriver, core: Any, channel: str = CHANNEL) -> dict[str, Any]:
    await say(slack, "/qotd", SCHEDULE, "UADMIN", channel)
    await core.advance_to(START.replace(hour=9, minute=5))
    [post] = slack.fake.channel_posts(channel)
    return post


@pytest.mark.parametrize("mode", MODES)
async def test_admins_are_workspace_admins_owners_and_listed_users(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_slack(tmp_path, mode, admins="ULISTED") as (_, slack):
        slack.fake.add_user("UOWNER", "olga", is_owner=True)
        slack.fake.add_user("ULISTED", "lee")
        for user, channel in (("UADMIN", "C1"), ("UOWNER", "C2"), ("ULISTED", "C3")):
            answer = await say(slack, "/qotd", SCHEDULE, user, channel)
            assert REFUSED not in answer["text"] and "Next post" in answer["text"], user
        refused = await say(slack, "/qotd", SCHEDULE, "U1", "C4")
        assert refused["response_type"] == "ephemeral" and REFUSED in refused["text"]
        status = await say(slack, "/qotd", "status", "U1", "C4")
        assert "Not set up here yet" in status["text"]
        # users.info only for an admin-only command by someone the settings do not list,
        # and cached: U1's status and second admin command ask nothing more.
        await say(slack, "/qotd", "status", "U1", "C4")
        assert REFUSED in (await say(slack, "/qotd", "pause", "U1", "C4"))["text"]
        looked_up = [c.params["user"] for c in slack.fake.calls_to("users.info")]
        assert sorted(looked_up) == sorted(["UADMIN", "UOWNER", "U1"])


@pytest.mark.parametrize("mode", MODES)
async def test_malformed_commands_get_the_usage_line_and_touch_nothing(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_slack(tmp_path, mode) as (_, slack):
        for command, text, usage in (
            ("/leaderboard", "forever", "Usage: /leaderboard [week|month|all] [channel|workspace]"),
            ("/qotd", "", "Usage: /qotd schedule | pause"),
            ("/qotd", "schedule colour:blue", "Usage: /qotd schedule time:HH:MM"),
            ("/streak", "@ana", "Usage: /streak [@user]"),
        ):
            answer = await say(slack, command, text, "UADMIN")
            assert answer["response_type"] == "ephemeral" and usage in answer["text"], text
        assert slack.fake.calls_to("users.info") == [], "the core was never asked"
        assert "Not set up here yet" in (await say(slack, "/qotd", "status", "U1"))["text"]


@pytest.mark.parametrize("mode", MODES)
async def test_only_real_votes_reach_the_core(tmp_path: Path, mode: Mode) -> None:
    async with bot_on_slack(tmp_path, mode, kind="open") as (core, slack):
        post = await first_post(slack, core)

        for user in ("U1", "U2"):  # names come with commands and presses, not events
            await say(slack, "/qotd", "status", user)

        def vote(user: str, name: str, added: bool = True) -> dict[str, Any]:
            return reaction_event(user=user, channel=CHANNEL, ts=post["ts"], name=name, added=added)

        await slack.event(vote("U1", "white_check_mark::skin-tone-2"), event_id="Ev1")
        await slack.event(vote(BOT_USER_ID, emoji_for("yes")), event_id="Ev2")  # the bot's own
        await slack.event(vote("U2", "tada"), event_id="Ev3")  # not an answer emoji
        # Taken back at once: one user's events are applied in the order Slack sent them.
        await slack.event(vote("U3", emoji_for("yes")), event_id="Ev4")
        await slack.event(vote("U3", emoji_for("yes"), added=False), event_id="Ev5")
        await slack.event(vote("U2", emoji_for("no")), event_id="Ev6")
        await slack.event(vote("U2", emoji_for("yes")), event_id="Ev7")  # changed their mind
        assert slack.running.reactions is not None
        await asyncio.wait_for(slack.running.reactions.idle(), 5)  # every vote recorded
        board = str((await say(slack, "/leaderboard", "", "U1"))["text"])
        assert "ana: 3 pts" in board and "ben: 3 pts" in board
        assert "cy" not in board and "qotd" not in board
        await core.advance_to(START.replace(hour=17, minute=30))
        [reveal] = slack.fake.thread(CHANNEL, post["ts"])
        assert "2 answered, 100% correct" in reveal["text"]


async def test_http_mode_rejects_bad_signatures_and_stale_timestamps(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "http") as (_, slack):
        at_start = [c.method for c in slack.fake.calls]
        assert at_start == ["auth.test"], "the token check at start"
        body = "command=%2Fqotd&text=schedule+09%3A00&user_id=UADMIN&team_id=T0FAKE001&channel_id=C0QOTD"
        form = "application/x-www-form-urlencoded"
        status, _ = await slack.post_signed(
            body, form, headers={"X-Slack-Signature": "v0=" + "0" * 64}
        )
        assert status == 401
        status, _ = await slack.post_signed(body, form, timestamp=int(time.time()) - 6 * 60)
        assert status == 401
        status, _ = await slack.post_signed(
            body, form, headers={"X-Slack-Request-Timestamp": "soon"}
        )
        assert status == 401
        assert [c.method for c in slack.fake.calls] == at_start and slack.fake.responses == []
        assert "Not set up here yet" in (await say(slack, "/qotd", "status", "U1"))["text"]


async def test_a_burst_of_429s_still_yields_exactly_one_post_per_channel(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "http", kind="open") as (core, slack):
        for channel in ("C1", "C2"):
            await say(slack, "/qotd", SCHEDULE_REACTIONS, "UADMIN", channel)
        slack.fake.fail("chat.postMessage", status=429, times=3)
        slack.fake.fail("reactions.add", status=429, times=1)
        await core.advance_to(START.replace(hour=9, minute=5))
        for channel in ("C1", "C2"):
            [post] = slack.fake.channel_posts(channel)
            assert [r["name"] for r in post["reactions"]] == ["white_check_mark", "x"]
        statuses = [c.status for c in slack.fake.calls_to("chat.postMessage", ok_only=False)]
        assert statuses == [429, 429, 429, 200, 200]


async def test_a_post_whose_response_was_lost_is_not_sent_twice(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "http", kind="open") as (core, slack):
        await say(slack, "/qotd", SCHEDULE_REACTIONS, "UADMIN")
        slack.fake.fail("chat.postMessage", status=500, after_effect=True)
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = slack.fake.channel_posts(CHANNEL)
        assert post["metadata"]["event_type"] == "qotd_post"
        assert len(slack.fake.calls_to("chat.postMessage", ok_only=False)) == 1
        assert len(post["reactions"]) == 2
        await core.advance_to(START.replace(hour=17, minute=30))
        assert len(slack.fake.thread(CHANNEL, post["ts"])) == 1


async def test_a_post_resent_after_a_crash_is_found_in_history_not_sent_again(
    tmp_path: Path,
) -> None:
    """Slack had the post but the core died before marking it sent: the retry after
    restart looks for the post's metadata in the channel's history and adopts it. A
    first send never reads history (rate-limited for distributed apps)."""
    async with bot_on_slack(tmp_path, "http", kind="open") as (core, slack):
        await say(slack, "/qotd", SCHEDULE, "UADMIN")
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = slack.fake.channel_posts(CHANNEL)
        assert slack.fake.calls_to("conversations.history") == []
        here = ChannelRef("slack", TEAM_ID, CHANNEL)
        async with core.db.uow() as uow:  # the crash: back to a claimed row, lease expired
            row = await post_on(uow, START.date(), here)
            row.status, row.message_id, row.send_due_at = "pending", None, core.clock.now()
            await uow.commit()
        await core.advance_to(START.replace(hour=9, minute=10))
        assert slack.fake.channel_posts(CHANNEL) == [post]
        assert len(slack.fake.calls_to("chat.postMessage")) == 1
        assert len(slack.fake.calls_to("conversations.history")) == 1
        async with core.db.uow() as uow:
            row = await post_on(uow, START.date(), here)
            assert row.status == "sent" and row.message_id == post["ts"]


async def test_incomplete_settings_are_refused_with_what_to_set_and_no_secret() -> None:
    class Core:
        router = OutboundRouter()

    core: Any = Core()
    with pytest.raises(SlackConfigError) as err:
        await start_slack(core, SlackSettings(bot_token=SecretStr("xoxb-secret-value")))
    assert "SLACK_APP_TOKEN" in str(err.value) and "xoxb-secret-value" not in str(err.value)
    assert core.router.platforms() == []


@pytest.mark.parametrize(
    ("tokens", "named"),
    [
        ({"bot_token": SecretStr("xoxb-wrong-secret")}, "SLACK_BOT_TOKEN (invalid_auth)"),
        ({"app_token": SecretStr("xapp-wrong-secret")}, "SLACK_APP_TOKEN (invalid_auth)"),
    ],
)
async def test_tokens_slack_refuses_stop_the_start_with_a_clear_message(
    tmp_path: Path, tokens: dict[str, Any], named: str
) -> None:
    async with real_core(tmp_path) as core, FakeSlack() as fake:
        with pytest.raises(SlackConfigError) as err:
            await start_slack(core, settings_for(fake, "socket", **tokens))
        assert named in str(err.value) and "wrong-secret" not in str(err.value)
        assert core.router.platforms() == []
        assert fake.unacked() == [] and not fake.envelopes


@pytest.mark.parametrize("mode", MODES)
async def test_commands_are_acknowledged_before_any_slow_work(tmp_path: Path, mode: Mode) -> None:
    async with bot_on_slack(tmp_path, mode) as (_, slack):
        # an admin-only command: its users.info is the first thing the work after the ack needs
        gate = slack.fake.hold("users.info")
        key = await slack.command("/qotd", "pause", user="U1")  # returns once acknowledged
        await slack.fake.wait_for(lambda: any(c.status == 0 for c in slack.fake.calls))
        assert not [r for r in slack.fake.responses if r["key"] == key], "acked, answer pending"
        gate.set()
        [answer] = await slack.answers(key)
        assert REFUSED in answer["text"]


async def test_http_mode_answers_slacks_url_verification_challenge(tmp_path: Path) -> None:
    async with bot_on_slack(tmp_path, "http") as (_, slack):
        body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
        status, text = await slack.post_signed(body, "application/json")
        assert status == 200 and "c-123" in text
