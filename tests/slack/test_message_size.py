"""Slack's undocumented total-text limit (about 12,000 characters over all blocks): the
fake refuses what Slack refuses (`msg_blocks_too_long`), the renderer keeps every message
under its budget by cutting the body (with a note) and keeping the options, context and
buttons, and a ten-option question with long options and a long reveal goes out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import SHORTENED, TEXT_BUDGET, render_blocks, text_size
from bot.app import Core, build_core
from bot.boundary import OPTION_KEYS, Button, Choice, Field, OutMessage
from bot.clock import FakeClock
from bot.settings import CoreSettings
from content.model import Question
from storage.migrate import upgrade
from tests.conftest import START, q, write_bank
from tests.slack.fake_slack import BLOCKS_TEXT_LIMIT, BOT_TOKEN, FakeSlack
from tests.slack.harness import CHANNEL, SlackDriver, say, slack_running

LONG_OPTION = "an option that goes on and on about pipelines, " * 19  # ~900 characters


def big_question() -> Question:
    return q(
        "Which of these ten long-winded descriptions of a feature pipeline is right? "
        + "Context. " * 400,
        "Features",
        line=1,
        kind="choice",
        choices=tuple(f"{k}: {LONG_OPTION}" for k in OPTION_KEYS),
        correct="C",
        explanation=("Because the third one is right, and here is why at length. " * 250),
    )


def test_a_message_over_the_budget_keeps_options_context_and_buttons() -> None:
    message = OutMessage(
        tone="question",
        title="Question #9",
        body="A paragraph of context that goes on. " * 400,
        fields=(Field("Topic", "features"), Field("Difficulty", "hard")),
        choices=tuple(Choice(k, LONG_OPTION) for k in OPTION_KEYS),
        footer="React with the option's number.",
        buttons=(Button("Show answer", "answer:9"),),
    )
    blocks = render_blocks(message)
    assert text_size(blocks) <= TEXT_BUDGET < BLOCKS_TEXT_LIMIT
    shown = str(blocks)
    assert SHORTENED in shown and ":keycap_ten: *J.*" in shown
    assert "*Topic:* features" in shown and "React with the option" in shown
    assert blocks[-1]["type"] == "actions"


def test_even_oversized_options_are_clipped_rather_than_refused_by_slack() -> None:
    message = OutMessage(
        tone="question", title="Q", choices=tuple(Choice(k, "x" * 3000) for k in OPTION_KEYS)
    )
    blocks = render_blocks(message)
    assert text_size(blocks) <= TEXT_BUDGET and ":keycap_ten: *J.*" in str(blocks)


def test_a_short_message_is_left_alone() -> None:
    message = OutMessage(tone="info", title="Hi", body="short")
    assert SHORTENED not in str(render_blocks(message))


async def test_the_fake_refuses_what_slack_refuses() -> None:
    async with FakeSlack() as fake:
        web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
        with pytest.raises(SlackApiError) as err:
            await web.chat_postMessage(channel="C1", text="t", blocks=[section] * 5)
        assert err.value.response["error"] == "msg_blocks_too_long"
        ok = await web.chat_postMessage(channel="C1", text="t", blocks=[section] * 4)
        assert ok["ok"]


@asynccontextmanager
async def bot_with(tmp_path: Path, questions: list[Question]) -> AsyncIterator[tuple[Core, SlackDriver]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"
    await upgrade(url)
    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, questions)
    core = await build_core(
        CoreSettings(database_url=url, bank_dir=str(bank)),
        clock=FakeClock(START),
        use_scheduler=False,
    )
    try:
        async with FakeSlack() as fake:
            fake.add_user("UADMIN", "ada", is_admin=True)
            async with slack_running(fake, core, "http") as slack:
                await core.start()
                yield core, slack
    finally:
        await core.stop()


async def test_a_ten_option_question_and_its_long_reveal_go_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with bot_with(tmp_path, [big_question()]) as (core, slack):
        await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = slack.fake.channel_posts(CHANNEL)
        assert ":keycap_ten: *J.*" in str(post["blocks"])
        await core.advance_to(START.replace(hour=17, minute=30))
        [reveal] = slack.fake.thread(CHANNEL, post["ts"])
        assert "third one is right" in str(reveal["blocks"])
        refused = [c for c in slack.fake.calls_to("chat.postMessage") if c.status != 200]
        assert refused == [] and "msg_blocks_too_long" not in caplog.text
        # /answer shows the same question through the response URL, within the limit too.
        answer = await say(slack, "/answer", "", "UADMIN")
        assert text_size(answer["blocks"]) <= TEXT_BUDGET


async def test_a_refused_post_is_logged_with_slacks_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with bot_with(tmp_path, [big_question()]) as (core, slack):
        await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        slack.fake.fail("chat.postMessage", status=503)
        await core.advance_to(START.replace(hour=9, minute=5))
        adapter = [r.getMessage() for r in caplog.records if r.name == "adapters.slack.outbound"]
        assert any("SlackApiError: fatal_error" in m for m in adapter), adapter
