"""`qotd discord sync` and `qotd discord invite-url`, against the fake for the parts that
talk to Discord."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.discord import cli
from adapters.discord.settings import DiscordSettings
from adapters.discord.translate import BOT_PERMISSIONS
from tests.discord.fake_discord import FakeDiscord


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qotd")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    return parser


def test_invite_url_with_a_client_id_needs_no_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    args = _parser().parse_args(["discord", "invite-url", "--client-id", "42"])
    assert args.func(args) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        "https://discord.com/oauth2/authorize?client_id=42"
        f"&scope=bot+applications.commands&permissions={BOT_PERMISSIONS}"
    )


def test_sync_without_a_token_fails_with_an_actionable_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    args = _parser().parse_args(["discord", "sync", "--guild", "7"])
    assert args.func(args) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


def test_a_bad_client_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["discord", "invite-url", "--client-id", "abc"])
    assert args.func(args) == 2
    assert "numeric application id" in capsys.readouterr().err


async def test_sync_registers_in_one_guild_and_writes_no_file(
    fake: FakeDiscord, tmp_path: Path, restore_endpoints: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = DiscordSettings(token=SecretStr(fake.token), api_base=fake.api_base)
    count = await cli._do_sync(settings, fake.guild_id)
    assert count == 6
    [put] = fake.find("PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands")
    names = sorted(c["name"] for c in put.json)
    assert names == ["answer", "leaderboard", "mastery", "qotd", "review", "streak"]
    qotd = next(c for c in put.json if c["name"] == "qotd")
    subs = sorted(o["name"] for o in qotd["options"])
    assert subs == ["pause", "post", "resume", "schedule", "skip", "stats", "status", "topics"]
    schedule = next(o for o in qotd["options"] if o["name"] == "schedule")
    days = next(o for o in schedule["options"] if o["name"] == "days")
    assert [c["value"] for c in days["choices"]][:2] == ["mon-fri", "daily"]
    timezone = next(o for o in schedule["options"] if o["name"] == "timezone")
    assert timezone["autocomplete"] is True
    assert os.listdir(tmp_path) == []  # nothing kept in the working directory
    # No gateway connection for a sync.
    assert fake.identify_payloads == []


async def test_invite_url_asks_discord_for_the_application_id(
    fake: FakeDiscord, restore_endpoints: None
) -> None:
    settings = DiscordSettings(token=SecretStr(fake.token), api_base=fake.api_base)
    assert await cli._application_id(settings) == fake.application_id


async def test_a_refused_token_is_reported_without_the_token(
    fake: FakeDiscord, restore_endpoints: None
) -> None:
    settings = DiscordSettings(token=SecretStr("wrong-secret"), api_base=fake.api_base)
    with pytest.raises(RuntimeError) as info:
        await cli._application_id(settings)
    assert "check DISCORD_TOKEN" in str(info.value)
    assert "wrong-secret" not in str(info.value)


async def test_command_options_match_the_core_command_table(
    fake: FakeDiscord, tmp_path: Path, restore_endpoints: None
) -> None:
    """The option names are what the core reads (docs/architecture.md, command table)."""
    settings = DiscordSettings(token=SecretStr(fake.token), api_base=fake.api_base)
    await cli._do_sync(settings, None)
    [put] = fake.find("PUT", rf"/applications/{fake.application_id}/commands")

    def names(options: list[dict[str, object]]) -> set[str]:
        return {str(o["name"]) for o in options}

    by_name = {c["name"]: c for c in put.json}
    subs = {o["name"]: o.get("options", []) for o in by_name["qotd"]["options"]}
    assert names(subs["schedule"]) == {"time", "timezone", "days", "reveal", "answers"}
    [answers] = [o for o in subs["schedule"] if o["name"] == "answers"]
    assert [c["value"] for c in answers["choices"]] == ["buttons", "reactions"]
    assert names(subs["topics"]) == {"include", "exclude", "difficulty", "reset", "adaptive"}
    assert names(subs["stats"]) == {"user"}
    for bare in ("pause", "resume", "skip", "post", "status"):
        assert subs[bare] == []
    assert names(by_name["answer"]["options"]) == {"number"}
    assert names(by_name["leaderboard"]["options"]) == {"period", "scope"}
    assert names(by_name["streak"]["options"]) == {"user"}
    review = {o["name"]: o.get("options", []) for o in by_name["review"]["options"]}
    assert set(review) == {"start", "status", "add", "remind", "forget"}
    assert names(review["add"]) == {"topic", "count"}
    assert names(review["remind"]) == {"time", "timezone"}
    count = next(o for o in review["add"] if o["name"] == "count")
    assert (count["min_value"], count["max_value"]) == (1, 20)
    assert by_name["mastery"].get("options", []) == []
    period = next(o for o in by_name["leaderboard"]["options"] if o["name"] == "period")
    assert [c["value"] for c in period["choices"]] == ["week", "month", "all"]
    # Every command works in servers only: none is offered in DMs.
    assert all(c.get("dm_permission") is False or c.get("contexts") == [0] for c in put.json)


async def test_a_global_sync_clears_the_server_copies_a_guild_sync_left(
    fake: FakeDiscord, tmp_path: Path, restore_endpoints: None
) -> None:
    """`sync --guild` while testing, then a global sync: without clearing, that server
    would list every command twice (its own copy and the global one). The copies are
    found by asking Discord (the bot's servers, then each one's commands), so a copy
    left by another machine or a deleted state file is found too; a server without
    copies is left alone."""
    settings = DiscordSettings(token=SecretStr(fake.token), api_base=fake.api_base)
    await cli._do_sync(settings, fake.guild_id)
    assert len(fake.commands[str(fake.guild_id)]) == 6
    await cli._do_sync(settings, None)
    assert fake.commands[str(fake.guild_id)] == []
    assert len(fake.commands["global"]) == 6
    assert fake.find("GET", r"/users/@me/guilds")
    assert len(fake.find("PUT", rf"/applications/\d+/guilds/{fake.guild_id}/commands")) == 2
    await cli._do_sync(settings, None)  # nothing left to clear: no PUT to the server
    assert len(fake.find("PUT", rf"/applications/\d+/guilds/{fake.guild_id}/commands")) == 2


def test_an_unreachable_discord_is_one_line_without_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    restore_endpoints: None,
) -> None:
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DISCORD_TOKEN", "a-secret-token-value")
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    args = _parser().parse_args(["discord", "sync"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "could not reach Discord at http://127.0.0.1:9" in err
    assert "a-secret-token-value" not in err and "Traceback" not in err
