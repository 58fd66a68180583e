"""The whole bot through Slack, in both connection modes, with the real core.

Real Bolt app + real slack_sdk clients against the fake Slack; the real core
(`build_core`, FakeClock, no scheduler, a migrated SQLite file, a small bank). Time moves
with `core.advance_to`; waits are on fake-server events with timeouts, never sleeps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.emoji import emoji_for
from content.model import Question
from tests.conftest import START, sample_questions
from tests.slack.harness import CHANNEL, Mode, bot_on_slack, say

POINTS = {"easy": 1, "medium": 2, "hard": 3}


def question_for(post: dict[str, Any]) -> Question:
    body = " ".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    return next(q for q in sample_questions() if q.prompt.split("?")[0] in body)


@pytest.mark.parametrize("kind", ["open", "choice"])
@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_a_day_of_qotd_on_slack(tmp_path: Path, mode: Mode, kind: str) -> None:
    """A channel that answers with reactions (`answers:reactions`)."""
    async with bot_on_slack(tmp_path, mode, kind=kind) as (core, slack):
        fake = slack.fake
        for user in ("U2", "U3"):  # names come with commands and presses; events carry none
            await say(slack, "/qotd", "status", user)

        # A non-admin cannot schedule, and nothing changes.
        before = await say(slack, "/qotd", "status", "U1")
        refused = await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "U1")
        assert refused["response_type"] == "ephemeral" and "Only channel admins" in refused["text"]
        assert (await say(slack, "/qotd", "status", "U1"))["text"] == before["text"]

        scheduled = await say(
            slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily answers:reactions",
            "UADMIN",
        )
        assert scheduled["response_type"] == "ephemeral" and "Next post" in scheduled["text"]
        assert fake.channel_posts(CHANNEL) == []

        # The post arrives at its time, in Block Kit, with metadata, no answer buttons;
        # the bot's seed reactions follow once it is marked sent.
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = fake.channel_posts(CHANNEL)
        assert post["blocks"][0] == {
            "type": "header",
            "text": {"type": "plain_text", "text": "Question #1", "emoji": True},
        }
        assert (
            post["metadata"]["event_type"] == "qotd_post"
            and post["metadata"]["event_payload"]["post_key"]
        )
        question = question_for(post)
        assert question.kind == kind
        if question.kind == "choice":
            keys = list(question.letters)
            right, wrong = question.correct or "A", next(k for k in keys if k != question.correct)
        else:
            keys, right, wrong = ["yes", "no"], "yes", "no"
        assert [r["name"] for r in post["reactions"]] == [emoji_for(k) for k in keys]
        assert not [b for b in post["blocks"] if b["type"] == "actions"]
        assert fake.post_requests[post["ts"]] == {"chat.postMessage": 1,
                                                  "reactions.add": len(keys)}

        # Three users react; a redelivered event counts once.
        votes = {"U1": right, "U2": right, "U3": wrong}
        for n, (user, key) in enumerate(votes.items()):
            event = {
                "type": "reaction_added",
                "user": user,
                "reaction": emoji_for(key),
                "item_user": "U0QOTDBOT",
                "item": {"type": "message", "channel": CHANNEL, "ts": post["ts"]},
                "event_ts": "1790000001.000100",
            }
            await slack.event(event, event_id=f"EvVote{n}")
            if user == "U1":
                await slack.event(event, event_id=f"EvVote{n}", retry=1)

        assert slack.running.reactions is not None
        await asyncio.wait_for(slack.running.reactions.idle(), 5)  # every vote recorded

        # /answer is ephemeral to the caller; an open question offers self-grade buttons.
        peek = await say(slack, "/answer", "", "U3")
        assert (
            peek["response_type"] == "ephemeral"
            and peek["blocks"][0]["text"]["text"] == "Question #1"
        )
        actions = [b for b in peek["blocks"] if b["type"] == "actions"]
        if question.kind == "open":
            again = next(e for e in actions[0]["elements"] if e["value"].endswith(":again"))
            key = await slack.press(
                user="U3",
                channel=CHANNEL,
                value=again["value"],
                message_ts=post["ts"],
                action_id=again["action_id"],
            )
            [graded] = await slack.answers(key)
            assert (
                graded["response_type"] == "ephemeral"
                and "Recorded your grade: Again" in graded["text"]
            )
        else:
            assert actions == []

        # The reveal lands in the thread of the post.
        await core.advance_to(START.replace(hour=17, minute=30))
        [reveal] = fake.thread(CHANNEL, post["ts"])
        assert reveal["thread_ts"] == post["ts"]
        assert reveal["blocks"][0]["text"]["text"] == "Answer to question #1"
        assert "3 answered, 67% correct" in reveal["text"]

        # Leaderboard and streak show the right figures.
        points = POINTS[question.difficulty or "medium"]
        board = await say(slack, "/leaderboard", "week channel", "U1")
        assert board["response_type"] == "in_channel"
        assert f"ana: {points} pts, streak 1 ← you" in board["text"]
        assert f"ben: {points} pts, streak 1" in board["text"]
        assert f"cy: {points} pts" not in board["text"]
        streak = await say(slack, "/streak", "<@U2>", "U1")
        assert (
            streak["response_type"] == "ephemeral"
            and "ben: current streak 1, best 1." in streak["text"]
        )

        if mode == "socket":
            assert fake.unacked() == [] and fake.unexpected_acks == []
        assert len(fake.channel_posts(CHANNEL)) == 1
