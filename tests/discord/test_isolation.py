"""One event's failure stays with that event: logged once with its kind and ids, the
user told politely where a reply is possible, and the next event served as usual.
Library noise (a command or a button qotd does not know) is one line, no traceback."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from adapters.discord.apology import FAILURE_TEXT, UNKNOWN_BUTTON_TEXT, UNKNOWN_COMMAND_TEXT
from tests.discord.conftest import Stack, choice_question, eventually, open_question
from tests.discord.fake_discord import EPHEMERAL


def text_of(reply: dict[str, Any]) -> str:
    embed = (reply.get("embeds") or [{}])[0]
    return f"{reply.get('content') or ''} {embed.get('title', '')} {embed.get('description', '')}"


def ephemeral(reply: dict[str, Any]) -> bool:
    return bool(int(reply.get("flags") or 0) & EPHEMERAL)


@contextmanager
def table_gone(stack: Stack, table: str) -> Iterator[None]:
    """The database fails for a moment (a table the core needs is not there)."""
    with sqlite3.connect(stack.tmp / "qotd.db") as db:
        db.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        yield
    finally:
        with sqlite3.connect(stack.tmp / "qotd.db") as db:
            db.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')


def ours(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("adapters.discord")
            and r.levelno >= level]


def no_library_tracebacks(caplog: pytest.LogCaptureFixture) -> bool:
    return not [r for r in caplog.records if r.name.startswith("discord") and r.exc_info]


@pytest.fixture
async def stack(make_stack: Any, caplog: pytest.LogCaptureFixture) -> Stack:
    caplog.set_level(logging.INFO)
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    return stack


async def test_a_core_failure_on_a_command_is_logged_once_and_answered(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    ann = fake.user("ann")
    payload = fake.slash("qotd", ann, subcommand="status")
    caplog.clear()
    with table_gone(stack, "channels"):
        [reply] = await stack.interact(payload)
    assert ephemeral(reply) and FAILURE_TEXT in text_of(reply)
    [line] = ours(caplog)
    text = line.getMessage()
    assert "/qotd" in text and f"guild={fake.guild_id}" in text
    assert f"channel={fake.channel_id}" in text and f"user={ann.id}" in text
    assert f"interaction={payload['id']}" in text
    assert line.exc_info is not None  # unexpected: the traceback helps
    assert no_library_tracebacks(caplog)
    assert await stack.status_answered()  # the next one is served


async def test_a_core_failure_on_a_reaction_is_logged_once_and_the_next_counts(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    post = await stack.post_question()
    bob, cy = fake.user("bob"), fake.user("cy")
    caplog.clear()
    with table_gone(stack, "attempts"):
        await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(bob, int(post["id"]), "🇧"))
        await eventually(lambda: ours(caplog), what="the reaction's failure logged")
    [line] = ours(caplog)
    text = line.getMessage()
    assert "reaction" in text and f"message={post['id']}" in text and f"user={bob.id}" in text
    assert no_library_tracebacks(caplog)
    await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(cy, int(post["id"]), "🇧"))
    await eventually(lambda: stack.count("attempts") == 1, what="the next reaction counted")


async def test_discord_refusing_the_answer_is_one_line_and_an_apology(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    payload = fake.slash("qotd", fake.user("ann"), subcommand="status")
    fake.fail("POST", rf"/interactions/{payload['id']}/.+/callback", 400, times=1)
    caplog.clear()
    [reply] = await stack.interact(payload)
    assert ephemeral(reply) and FAILURE_TEXT in text_of(reply)
    [line] = ours(caplog)
    assert "Discord answered 400 (code 50035)" in line.getMessage()
    assert line.exc_info is None  # Discord's refusal: its code says it all
    assert no_library_tracebacks(caplog)


async def test_an_unknown_command_is_one_line_without_a_traceback(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    caplog.clear()
    [reply] = await stack.interact(fake.slash("retired", fake.user("ann")))
    assert ephemeral(reply) and UNKNOWN_COMMAND_TEXT in text_of(reply)
    [line] = ours(caplog)
    assert "/retired is not a command of this version" in line.getMessage()
    assert line.exc_info is None and no_library_tracebacks(caplog)
    # an unknown subcommand too
    caplog.clear()
    [reply] = await stack.interact(fake.slash("qotd", fake.user("ann"), subcommand="nuke"))
    assert UNKNOWN_COMMAND_TEXT in text_of(reply)
    assert len(ours(caplog)) == 1 and not ours(caplog)[0].exc_info


async def test_buttons_qotd_does_not_know_are_one_line_and_answered(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    carrier = fake._message(fake.channel_id, {"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Other", "custom_id": "otherbot:vote"},
        {"type": 2, "style": 1, "label": "Ours", "custom_id": "qotd:grade:1:good"},
    ]}], "embeds": [{"description": "x"}]})
    for custom_id, message in [
        ("otherbot:vote", carrier),  # another app's button on a message we can see
        ("qotd:grade:9:good", carrier),  # ours by name, but not on that message
    ]:
        caplog.clear()
        [reply] = await stack.interact(fake.button(custom_id, message, fake.user("ann")))
        assert ephemeral(reply) and UNKNOWN_BUTTON_TEXT in text_of(reply), custom_id
        [line] = ours(caplog)
        assert "a component qotd does not handle" in line.getMessage()
        assert line.exc_info is None and no_library_tracebacks(caplog)
    # a press without the message it was on
    press = fake.button("qotd:grade:1:good", carrier, fake.user("ann"))
    del press["message"]
    [reply] = await stack.interact(press)
    assert UNKNOWN_BUTTON_TEXT in text_of(reply)


async def test_a_button_with_an_unreadable_action_is_refused_before_the_core(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    custom_id = "qotd:grade:1:gööd\t"
    carrier = fake._message(fake.channel_id, {"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "x", "custom_id": custom_id}]}],
        "embeds": [{"description": "x"}]})
    before = stack.snapshot()
    caplog.clear()
    [reply] = await stack.interact(fake.button(custom_id, carrier, fake.user("ann")))
    assert ephemeral(reply) and "cannot read" in text_of(reply)
    assert stack.snapshot() == before
    assert len(ours(caplog)) == 1 and no_library_tracebacks(caplog)


async def test_option_values_of_the_wrong_type_are_refused(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    fake = stack.fake
    before = stack.snapshot()
    number = fake.slash("answer", fake.user("ann"), options={"number": "abc"})
    number["data"]["options"][0]["type"] = 4  # an INTEGER option carrying a string
    [reply] = await stack.interact(number)
    assert ephemeral(reply) and "'abc'" in text_of(reply)  # the valid form, from the core
    schedule = fake.slash("qotd", fake.user("ada"), subcommand="schedule",
                          permissions=(1 << 5), options={"time": "09:00"})
    schedule["data"]["options"][0]["options"][0]["value"] = {"hh": 9}
    [reply] = await stack.interact(schedule)
    assert "time with a value of the wrong type" in text_of(reply)
    garbage = fake.slash("qotd", fake.user("ann"), subcommand="status")
    garbage["data"]["options"] = "not a list of options"
    [reply] = await stack.interact(garbage)
    assert "cannot read" in text_of(reply)
    assert stack.snapshot() == before
    assert no_library_tracebacks(caplog)
    assert not [r for r in ours(caplog) if r.exc_info]


async def test_qotds_own_buttons_get_exactly_one_answer(
    make_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The unknown-component check must not fire for the buttons qotd handles."""
    stack: Stack = make_stack([open_question()])
    await stack.up()
    fake = stack.fake
    await stack.post_question()
    alice = fake.user("alice")
    answer_payload = fake.slash("answer", alice)
    [answer] = await stack.interact(answer_payload)
    good = next(c for row in answer["components"] for c in row["components"]
                if c["label"] == "Good")
    [message] = fake.replies_to(answer_payload)
    caplog.clear()
    press = fake.button(good["custom_id"], message, alice)
    [graded] = await stack.interact(press)
    assert "Recorded your grade: Good" in text_of(graded)
    assert await stack.status_answered()  # everything queued before it has run
    assert len(fake.interaction_replies(press)) == 1
    assert not ours(caplog)
