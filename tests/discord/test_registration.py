"""Slash-command registration: one GET at start, a PUT only when Discord's copy differs,
per application and scope, and no file anywhere."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import registration
from tests.discord.conftest import Stack, choice_question
from tests.discord.fake_discord import FakeDiscord


def _puts(fake: FakeDiscord, guild: int | None = None) -> int:
    scope = f"/guilds/{guild}" if guild is not None else ""
    return len(fake.find("PUT", rf"/applications/{fake.application_id}{scope}/commands"))


def _gets(fake: FakeDiscord, guild: int | None = None) -> int:
    scope = f"/guilds/{guild}" if guild is not None else ""
    return len(fake.find("GET", rf"/applications/{fake.application_id}{scope}/commands"))


async def test_registers_once_then_only_compares(
    make_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    await stack.up()
    assert (_gets(fake), _puts(fake)) == (1, 1)
    [get] = fake.find("GET", rf"/applications/{fake.application_id}/commands")
    assert get.query.get("with_localizations") == "true"
    for _ in range(2):
        await stack.down()
        await stack.up()
    assert (_gets(fake), _puts(fake)) == (3, 1)  # Discord's copy matched: no PUT
    # the working directory holds the test's bank and database, nothing about commands
    assert not [name for name in os.listdir(tmp_path)
                if not (name == "bank" or name.startswith("qotd.db"))]


async def test_a_fresh_application_gets_the_commands_after_another_got_them(
    make_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same machine, same working directory: a bot pointed at another application
    registers there too (a state file would have said "already done")."""
    monkeypatch.chdir(tmp_path)
    first: Stack = make_stack([choice_question()])
    await first.up()
    assert _puts(first.fake) == 1
    await first.down()
    other = FakeDiscord()
    await other.start()
    try:
        (tmp_path / "second").mkdir()
        second = Stack(other, tmp_path / "second", [choice_question()])
        try:
            await second.up()
            assert _puts(other) == 1
            assert len(other.commands["global"]) == 6
            assert await second.status_answered()
        finally:
            await second.down()
    finally:
        await other.stop()


async def test_commands_that_discord_lost_or_that_differ_are_registered_again(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    await stack.up()
    await stack.down()
    fake.commands.clear()  # e.g. removed in the developer portal
    await stack.up()
    assert _puts(fake) == 2
    await stack.down()
    answer = next(c for c in fake.commands["global"] if c["name"] == "answer")
    answer["options"][0]["description"] = "an older wording"
    await stack.up()
    assert _puts(fake) == 3


async def test_a_guild_scope_is_compared_with_the_guilds_commands(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    await stack.up(guild_id=fake.guild_id)
    assert (_gets(fake, fake.guild_id), _puts(fake, fake.guild_id)) == (1, 1)
    assert _gets(fake) == 0 and _puts(fake) == 0
    await stack.down()
    await stack.up(guild_id=fake.guild_id)
    assert (_gets(fake, fake.guild_id), _puts(fake, fake.guild_id)) == (2, 1)
    # The global scope is its own: nothing registered there yet.
    await stack.down()
    await stack.up()
    assert _puts(fake) == 1


async def test_when_the_get_fails_it_registers_anyway(
    make_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    fake.fail("GET", r"/applications/\d+/commands", 403)
    await stack.up()
    assert _puts(fake) == 1
    assert "could not read the registered slash commands (403" in caplog.text


def _ours() -> list[dict[str, Any]]:
    return [{
        "name": "answer", "description": "See the answer", "type": 1, "nsfw": False,
        "dm_permission": False, "default_member_permissions": None, "contexts": [0],
        "integration_types": None,
        "options": [{"type": 4, "name": "number", "description": "Question number",
                     "required": False, "min_value": 1},
                    {"type": 3, "name": "period", "description": "Time window",
                     "required": False, "choices": [{"name": "week", "value": "week"}]}],
    }]


def _as_discord_lists_it() -> list[dict[str, Any]]:
    """The same command as GET returns it: ids and version, defaults filled in,
    `required: false` left out, localisations null, integration types set."""
    return [{
        "id": "1", "application_id": "2", "version": "3", "type": 1, "name": "answer",
        "description": "See the answer", "default_member_permissions": None,
        "dm_permission": False, "contexts": [0], "integration_types": [0], "nsfw": False,
        "name_localizations": None, "description_localizations": None,
        "options": [{"type": 4, "name": "number", "description": "Question number",
                     "min_value": 1},
                    {"type": 3, "name": "period", "description": "Time window",
                     "choices": [{"name": "week", "value": "week", "name_localizations": None}]}],
    }]


def test_discords_echo_of_our_definitions_matches() -> None:
    assert not registration.differs(_ours(), _as_discord_lists_it(), global_scope=True)
    old_style = _as_discord_lists_it()
    old_style[0]["contexts"] = None  # a command registered before `contexts` existed
    assert not registration.differs(_ours(), old_style, global_scope=True)


@pytest.mark.parametrize("change", [
    lambda c: c[0].update(description="other"),
    lambda c: c[0]["options"][1]["choices"].append({"name": "month", "value": "month"}),
    lambda c: c[0]["options"][0].update(min_value=2),
    lambda c: c[0]["options"][0].update(required=True),
    lambda c: c[0].update(default_member_permissions="32"),
    lambda c: c[0].update(contexts=[0, 1, 2], dm_permission=True),
    lambda c: c.append({**c[0], "name": "extra"}),
    lambda c: c.clear(),
])
def test_a_difference_that_users_would_see_is_found(change: Any) -> None:
    theirs = _as_discord_lists_it()
    change(theirs)
    assert registration.differs(_ours(), theirs, global_scope=True)


def test_contexts_do_not_count_in_a_guild_scope() -> None:
    theirs = _as_discord_lists_it()
    theirs[0]["contexts"] = None
    theirs[0]["dm_permission"] = True
    assert not registration.differs(_ours(), theirs, global_scope=False)
