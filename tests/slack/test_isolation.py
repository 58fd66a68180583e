"""One event's failure stays with that event: logged once with its kind and ids (never
its text or a token), a polite error for the user where a reply is possible, and the
app keeps serving. What nobody handles is acknowledged with one log line.

The core is the real one behind a switch (`Flaky`) that makes the next input of one kind
raise, as a database outage or a bug would."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.app import FAILED
from bot.app import Core
from bot.boundary import ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
from tests.conftest import START
from tests.slack.fake_slack import (
    BOT_TOKEN,
    TEAM_ID,
    FakeSlack,
    event_callback,
    reaction_event,
    slash_command,
)
from tests.slack.harness import CHANNEL, Mode, SlackDriver, real_core, say, slack_running

SECRET_TEXT = "my-secret-words"


class Flaky:
    """The real core; `boom` names the input kinds whose next call raises."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.router = core.router
        self.boom: set[str] = set()

    def _maybe(self, kind: str) -> None:
        if kind in self.boom:
            self.boom.discard(kind)
            raise RuntimeError("the database went away")

    async def handle_command(self, command: CommandInput) -> list[Reply]:
        self._maybe("command")
        return await self.core.handle_command(command)

    async def handle_reaction(self, reaction: ReactionInput) -> list[Reply]:
        self._maybe("reaction")
        return await self.core.handle_reaction(reaction)

    async def handle_button(self, button: ButtonInput) -> list[Reply]:
        self._maybe("button")
        return await self.core.handle_button(button)

    async def topic_names(self) -> list[str]:
        return await self.core.topic_names()

    async def is_scheduled(self, channel: ChannelRef) -> bool:
        return await self.core.is_scheduled(channel)


@asynccontextmanager
async def flaky_bot(tmp_path: Path, mode: Mode) -> AsyncIterator[tuple[Core, Flaky, SlackDriver]]:
    async with real_core(tmp_path, kind="open") as core, FakeSlack() as fake:
        fake.add_user("UADMIN", "ada", is_admin=True)
        fake.add_user("U1", "ana")
        flaky = Flaky(core)
        async with slack_running(fake, flaky, mode) as slack:
            await core.start()
            yield core, flaky, slack


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def assert_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + (caplog.text if record.exc_info else "")
        assert SECRET_TEXT not in text and BOT_TOKEN not in text


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_a_command_that_fails_is_logged_once_and_answered_politely(
    tmp_path: Path, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, mode) as (_, flaky, slack):
        flaky.boom.add("command")
        answer = await say(slack, "/qotd", f"topics include:{SECRET_TEXT}", "U1")
        assert FAILED in answer["text"] and answer["response_type"] == "ephemeral"
        [record] = failures(caplog)
        message = record.getMessage()
        assert message.startswith("Slack command failed (")
        for part in (f"team {TEAM_ID}", f"channel {CHANNEL}", "user U1", "/qotd topics"):
            assert part in message
        assert "RuntimeError: the database went away" in message
        assert record.exc_info is not None, "unexpected: with its traceback"
        assert_no_secrets(caplog)
        # The app keeps serving.
        assert "Not set up here yet" in (await say(slack, "/qotd", "status", "U1"))["text"]
        assert len(failures(caplog)) == 1


async def test_a_reaction_that_fails_is_logged_the_user_told_and_the_next_one_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, "socket") as (core, flaky, slack):
        await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = slack.fake.channel_posts(CHANNEL)
        await say(slack, "/qotd", "status", "U1")  # the name comes with a command
        flaky.boom.add("reaction")
        vote = reaction_event(user="U1", channel=CHANNEL, ts=post["ts"], name="white_check_mark")
        await slack.event(vote, event_id="EvBoom")
        [told] = await slack.fake.wait_for(lambda: slack.fake.ephemerals)
        assert told["user"] == "U1" and told["text"] == FAILED
        [record] = failures(caplog)
        assert record.getMessage().startswith("Slack reaction failed (")
        assert f"reaction yes on {post['ts']}" in record.getMessage()
        await slack.event(vote, event_id="EvAgain")  # the same vote, delivered anew
        assert slack.running.reactions is not None
        await asyncio.wait_for(slack.running.reactions.idle(), 5)
        board = await say(slack, "/leaderboard", "", "U1")
        assert "ana:" in board["text"], "the next reaction was recorded"


async def test_a_button_that_fails_is_answered_politely(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, "socket") as (_, flaky, slack):
        flaky.boom.add("button")
        key = await slack.press(user="U1", channel=CHANNEL, value="grade:1:good", message_ts="1.2")
        [answer] = await slack.answers(key)
        assert FAILED in answer["text"]
        [record] = failures(caplog)
        assert record.getMessage().startswith("Slack button failed (") and "qotd_button:0" in (
            record.getMessage()
        )


async def test_a_refused_answer_is_logged_with_slacks_code_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, "socket") as (_, _flaky, slack):
        slack.fake.refuse_responses(404, "expired_url")
        await slack.command("/qotd", f"stats {SECRET_TEXT}", user="U1")
        await slack.fake.wait_for(lambda: len(slack.fake.refused_responses) >= 2)
        [record] = failures(caplog)
        assert "AnswerRefused: expired_url" in record.getMessage()
        assert record.exc_info is None, "a platform error: its code, no traceback"
        assert_no_secrets(caplog)


async def test_what_nobody_handles_is_acknowledged_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, "socket") as (_, _flaky, slack):
        fake = slack.fake
        unknown = await say(slack, "/frobnicate", "now", "U1")
        assert "Unknown command `/frobnicate`" in unknown["text"]
        other: list[tuple[str, dict[str, Any]]] = [
            ("events_api", event_callback({"type": "app_home_opened", "user": "U1"})),
            ("interactive", {"type": "block_actions", "user": {"id": "U1"},
                             "actions": [{"action_id": "someone_elses", "value": "x"}],
                             "channel": {"id": CHANNEL}, "team": {"id": TEAM_ID}}),
            ("interactive", {"type": "shortcut", "callback_id": "nope", "user": {"id": "U1"}}),
        ]  # fmt: skip
        for type_, payload in other:
            envelope = await fake.send_envelope(type_, payload)
            await fake.wait_ack(envelope)
        lines = [r.getMessage() for r in caplog.records if "nobody handles" in r.getMessage()]
        assert len(lines) == 3, lines
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
        assert fake.unacked() == []


async def test_ids_of_the_wrong_type_are_dropped_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzz test: Bolt hands the payload's team id to every Web API call of
    the request's client, where a dict raises deep inside aiohttp."""
    caplog.set_level(logging.INFO)
    async with flaky_bot(tmp_path, "socket") as (_, _flaky, slack):
        url = slack.fake.response_url()
        payload = {
            **slash_command("/streak", "", user_id="U1", response_url=url),
            "team_id": {"id": 7},
        }
        envelope = await slack.fake.send_envelope("slash_commands", payload)
        await slack.fake.wait_ack(envelope)
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
            "dropped a Slack /streak request whose team_id does not look like an id"
        ]
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        assert "Not set up here yet" in (await say(slack, "/qotd", "status", "U1"))["text"]
