"""The entry-point plugin as `qotd run` uses it: configured by the environment, starting
on the running loop, registering and unregistering its Outbound."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Any

import pytest

from adapters.discord.plugin import plugin
from bot.plugins import AdapterFailed, AdapterPlugin
from tests.discord.conftest import Stack, choice_question, plugin_env


def test_the_entry_point_is_this_plugin() -> None:
    [ep] = [e for e in entry_points(group="qotd.adapters") if e.name == "discord"]
    assert ep.load() is plugin
    checked: AdapterPlugin = plugin  # satisfies the protocol (mypy checks this line)
    assert checked.name == "discord"


def test_configured_only_with_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("QOTD_CONFIG", "/nonexistent/qotd.toml")
    assert plugin.is_configured() is False
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    assert plugin.is_configured() is True
    # Broken shard settings still count as configured, so that start says what is wrong.
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0")
    assert plugin.is_configured() is True


def test_importing_the_plugin_does_not_import_discord() -> None:
    import subprocess

    code = "import adapters.discord.plugin, sys; print('discord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


async def test_start_registers_the_outbound_and_stop_removes_it(
    make_stack: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    monkeypatch.setenv("QOTD_CONFIG", "/nonexistent/qotd.toml")
    for key, value in {
        **plugin_env(fake),
        "DISCORD_GUILD_ID": str(fake.guild_id),
    }.items():
        monkeypatch.setenv(key, value)
    await stack.up(use_plugin=True)
    assert stack.core is not None and stack.discord is not None
    assert stack.core.router.platforms() == ["discord"]
    # DISCORD_GUILD_ID: the automatic sync registered in that server only.
    assert fake.find("PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands")
    assert not fake.find("PUT", rf"/applications/{fake.application_id}/commands")
    await stack.discord.stop()
    assert stack.core.router.platforms() == []
    assert stack.discord.client.is_closed()
    stack.discord = None


async def test_a_refused_token_fails_start_as_fatal(
    make_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qotd run` ends the process on a fatal start failure instead of retrying: a new
    attempt cannot make a reset token valid."""
    stack: Stack = make_stack([choice_question()])
    with pytest.raises(AdapterFailed, match="refused the token") as info:
        await stack.up(token="not-the-right-one")
    assert info.value.fatal and info.value.adapter == "discord"
    assert "DISCORD_TOKEN" in info.value.cause
    assert "not-the-right-one" not in str(info.value)


async def test_a_missing_token_fails_start_as_fatal(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    with pytest.raises(AdapterFailed, match="DISCORD_TOKEN is not set") as info:
        await stack.up(token="  ")
    assert info.value.fatal


async def test_a_failed_command_sync_does_not_stop_the_bot(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    fake = stack.fake
    fake.fail("PUT", r"/applications/\d+/commands", 403)
    await stack.up()
    assert not fake.find("PUT", r"/applications/\d+/commands")  # refused, not recorded as 2xx
    [status] = await stack.interact(fake.slash("qotd", fake.user("ann"), subcommand="status"))
    assert "Not set up here yet" in str(status["embeds"][0]["description"])
    await stack.down()
    await stack.up()  # nothing was registered, so the next start tries again
    assert len(fake.find("PUT", r"/applications/\d+/commands")) == 1
