"""The entry-point plugin: configured from the environment, started the way `qotd run`
starts adapters, stopped cleanly."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

import pytest
import yaml

from adapters.slack.plugin import SlackPlugin, plugin
from bot.plugins import AdapterPlugin, discover
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, slash_command
from tests.slack.harness import real_core

SLACK_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))


def test_the_entry_point_is_this_plugin_and_fits_the_protocol() -> None:
    checked: AdapterPlugin = plugin
    assert checked.name == "slack"
    assert any(isinstance(p, SlackPlugin) for p in discover())


def test_configured_only_when_a_credential_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plugin.is_configured() is False
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert plugin.is_configured() is True


def test_manifest_subcommand_prints_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="qotd")
    plugin.add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["slack", "manifest"])
    assert args.func(args) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["settings"]["socket_mode_enabled"] is True


async def test_start_from_the_environment_registers_the_outbound_and_stop_unregisters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with real_core(tmp_path) as core, FakeSlack() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        fake.add_user("U1", "ana")
        running = await plugin.start(core)
        try:
            await core.start()
            await fake.wait_connected()
            assert core.router.platforms() == ["slack"]
            assert fake.calls_to("apps.connections.open")[0].token == APP_TOKEN
            url = fake.response_url("k1")
            envelope = await fake.send_envelope(
                "slash_commands", slash_command("/qotd", "status", user_id="U1", response_url=url)
            )
            await fake.wait_ack(envelope)
            [answer] = await fake.wait_for(lambda: fake.responses)
            assert "Not set up here yet" in answer["text"]
        finally:
            await running.stop()
        assert core.router.platforms() == []


async def test_qotd_run_serves_slack_on_its_own_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`qotd run`'s serve() with only Slack configured: the command answers over Socket
    Mode, and cancelling the run stops the adapter (websocket closed)."""
    from bot.cli_core import serve
    from bot.settings import CoreSettings
    from tests.conftest import sample_questions, write_bank

    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, sample_questions())
    settings = CoreSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", bank_dir=str(bank)
    )
    async with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        run = asyncio.create_task(serve(settings, [plugin], install_signals=False))
        try:
            await fake.wait_connected(within=20)
            url = fake.response_url("run")
            await fake.send_envelope(
                "slash_commands", slash_command("/qotd", "status", user_id="U1", response_url=url)
            )
            [answer] = await fake.wait_for(lambda: fake.responses)
            assert "Not set up here yet" in answer["text"]
        finally:
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        await fake.wait_for(lambda: fake.connections == 0)
