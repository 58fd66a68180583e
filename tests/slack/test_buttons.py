"""Answering with buttons on Slack, end to end (issue 16), in both connection modes: the
real Bolt app and slack_sdk against the fake Slack, the real core behind them.

A post in buttons mode is one request (its buttons are an `actions` block, no seed
reactions); a vote is answered privately through the press's response_url (ephemeral,
`replace_original: false`: the public post is never replaced), can be switched and
withdrawn until the reveal, and the reveal counts it as reactions were counted. Names
come from the payloads; users.info is asked only for admin-only commands, once per
person at a time, and a rate-limited lookup answers "try again in a moment" rather than
refusing an admin or calling the core.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.users import TRY_AGAIN
from bot.boundary import parse_vote_action
from content.model import Question
from tests.conftest import START, sample_questions
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import (
    CHANNEL,
    FakeTime,
    Mode,
    SlackDriver,
    bot_on_slack,
    directory_for,
    say,
)

MODES: list[Mode] = ["socket", "http"]
SCHEDULE = "schedule time:09:00 timezone:UTC days:daily"
REFUSED = "Only channel admins"
POINTS = {"easy": 1, "medium": 2, "hard": 3}


def question_for(post: dict[str, Any]) -> Question:
    body = " ".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    return next(q for q in sample_questions() if q.prompt.split("?")[0] in body)


def vote_buttons(post: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    return {e["text"]["text"]: e for e in actions["elements"]}


async def press(slack: SlackDriver, post: dict[str, Any], user: str, label: str) -> str:
    """Press a post's button (a message the channel sees); returns the private answer."""
    element = vote_buttons(post)[label]
    key = await slack.press(user=user, channel=CHANNEL, value=element["value"],
                            message_ts=post["ts"], action_id=element["action_id"],
                            ephemeral=False)
    [answer] = await slack.answers(key)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    return str(answer["text"])


@pytest.mark.parametrize("mode", MODES)
async def test_a_vote_by_button_is_private_and_changeable_until_the_reveal(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_slack(tmp_path, mode, kind="choice") as (core, slack):
        fake = slack.fake
        await say(slack, "/qotd", SCHEDULE, "UADMIN")  # buttons: the default
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = fake.channel_posts(CHANNEL)
        original = [dict(b) for b in post["blocks"]]

        # One request for the post: the buttons are in it, no reaction is seeded.
        assert fake.post_requests[post["ts"]] == {"chat.postMessage": 1}
        assert fake.calls_to("reactions.add") == [] and "reactions" not in post
        question = question_for(post)
        buttons = vote_buttons(post)
        assert list(buttons) == list(question.letters)
        for element in buttons.values():  # Block Kit's limits: action_id 255, value 2000
            assert len(element["action_id"]) <= 255 and len(element["value"]) <= 2000
            assert parse_vote_action(element["value"]) is not None
        right = question.correct or "A"
        wrong = next(k for k in question.letters if k != right)

        # Private answers; a switch counts the latest, pressing the chosen one withdraws.
        assert f"You chose *{right}*" in await press(slack, post, "U1", right)
        assert f"You chose *{wrong}*" in await press(slack, post, "U2", wrong)
        assert f"You chose *{right}*" in await press(slack, post, "U2", right)  # switched
        assert f"You chose *{wrong}*" in await press(slack, post, "U3", wrong)
        assert "withdrew" in await press(slack, post, "U3", wrong)  # taken back
        # nothing public happened: no message replaced, no thread reply, the post as it was
        assert fake.replacements == [] and fake.thread(CHANNEL, post["ts"]) == []
        assert fake.find_message(CHANNEL, post["ts"])["blocks"] == original  # type: ignore[index]

        # The reveal counts the votes as it counted reactions.
        await core.advance_to(START.replace(hour=17, minute=30))
        [reveal] = fake.thread(CHANNEL, post["ts"])
        assert "2 answered, 100% correct" in reveal["text"]
        # After it, a press changes nothing and says so, privately.
        closed = await press(slack, post, "U3", right)
        assert "closed" in closed and "nothing was changed" in closed

        # Names from the presses themselves (U1 and U2 never ran a command).
        points = POINTS[question.difficulty or "medium"]
        board = str((await say(slack, "/leaderboard", "week channel", "UADMIN"))["text"])
        assert f"ana: {points} pts" in board and f"ben: {points} pts" in board
        assert "cy" not in board and "U1" not in board
        # users.info only for the admin's schedule: presses and reads ask nothing.
        assert [c.params["user"] for c in fake.calls_to("users.info")] == ["UADMIN"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_rate_limited_lookup_asks_to_try_again_never_refuses_nor_shows_an_id(
    tmp_path: Path, mode: Mode
) -> None:
    t = FakeTime()

    def directory(fake: FakeSlack) -> Any:
        return directory_for(fake, t)

    async with bot_on_slack(tmp_path, mode, kind="choice", directory=directory) as (
        core, slack
    ):
        fake = slack.fake
        fake.fail("users.info", status=429, times=1, retry_after=30)
        answer = await say(slack, "/qotd", SCHEDULE, "UADMIN")
        assert answer["response_type"] == "ephemeral" and answer["text"] == TRY_AGAIN
        assert REFUSED not in answer["text"]
        assert "Not set up here yet" in (await say(slack, "/qotd", "status", "UADMIN"))["text"]
        # Retry-After holds every lookup: asking again at once makes no request.
        again = await say(slack, "/qotd", SCHEDULE, "UADMIN")
        assert TRY_AGAIN in again["text"]
        assert len(fake.calls_to("users.info", ok_only=False)) == 1
        t.now += 31  # past Retry-After
        assert "Next post" in (await say(slack, "/qotd", SCHEDULE, "UADMIN"))["text"]
        assert len(fake.calls_to("users.info", ok_only=False)) == 2

        # Slack refusing every lookup from now on changes nothing for anyone else.
        fake.fail("users.info", status=429, times=1000, retry_after=1)
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = fake.channel_posts(CHANNEL)
        right = question_for(post).correct or "A"
        assert "You chose" in await press(slack, post, "UADMIN", right)
        await core.advance_to(START.replace(hour=17, minute=30))
        board = str((await say(slack, "/leaderboard", "week channel", "U1"))["text"])
        assert "ada:" in board and "UADMIN" not in board
        assert len(fake.calls_to("users.info", ok_only=False)) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_twenty_commands_at_once_by_one_user_make_one_lookup(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_slack(tmp_path, mode) as (_, slack):
        fake = slack.fake
        gate = fake.hold("users.info")
        keys = await asyncio.gather(
            *(slack.command("/qotd", "pause", user="U1") for _ in range(20))
        )  # every one acknowledged while the lookup is held
        await fake.wait_for(lambda: any(c.status == 0 for c in fake.calls))
        gate.set()
        for key in keys:
            [answer] = await slack.answers(key)
            assert REFUSED in answer["text"]  # U1 is no admin: Slack said so, once
        assert len(fake.calls_to("users.info", ok_only=False)) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_reactions_mode_seeds_after_the_post_and_counts_reactions(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_slack(tmp_path, mode, kind="choice") as (core, slack):
        fake = slack.fake
        status = await say(slack, "/qotd", SCHEDULE + " answers:reactions", "UADMIN")
        assert "Next post" in status["text"]
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = fake.channel_posts(CHANNEL)
        question = question_for(post)
        assert not [b for b in post["blocks"] if b["type"] == "actions"]
        assert len(post["reactions"]) == len(question.letters)
        # the post itself is one chat.postMessage; the seeds are separate calls after it
        methods = [c.method for c in fake.calls if c.method in ("chat.postMessage",
                                                                "reactions.add")]
        assert methods == ["chat.postMessage", *["reactions.add"] * len(question.letters)]


async def test_a_burst_of_admin_commands_is_paced_not_a_429_storm(tmp_path: Path) -> None:
    """Sixty different admins at once, against users.info's enforced Tier 4: the lookups
    stay within the tier (no 429 at all); whoever's turn is too far off is asked to try
    again, and no admin is refused. Real time: the pacing's waits are the point."""

    def directory(fake: FakeSlack) -> Any:
        return directory_for(fake, None)

    async with bot_on_slack(tmp_path, "http", directory=directory) as (_, slack):
        fake = slack.fake
        fake.enforce_tier("users.info")
        admins = [f"UADM{n:03d}" for n in range(60)]
        for user in admins:
            fake.add_user(user, user.lower(), is_admin=True)
        keys = await asyncio.gather(*(
            slack.command("/qotd", "status" if n % 2 else "pause", user=user,
                          channel=f"C{n:03d}")
            for n, user in enumerate(admins)))
        texts = [str((await slack.answers(key))[0]["text"]) for key in keys]
        assert not [text for text in texts if REFUSED in text]
        asked = [t for n, t in enumerate(texts) if n % 2 == 0]  # the admin-only ones
        assert 0 < sum(TRY_AGAIN in text for text in asked) < len(asked)
        assert fake.rate_limited["users.info"] == 0
        assert len(fake.calls_to("users.info", ok_only=False)) <= 10 + 4  # burst + 2 s
