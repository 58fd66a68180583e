"""Start-up order: migrate, sync the bank, start the adapters, then the timer. An adapter
may take events as soon as it is started, so the bank must already be in the database;
a bank file that does not parse stops `qotd run` with the line `qotd bank validate`
prints, before anything connects."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.boundary import Actor, ChannelRef, CommandInput, Reply
from bot.cli import main
from bot.cli_core import serve
from bot.plugins import AdapterPlugin, CoreHandle
from bot.settings import CoreSettings
from tests.runtime.scripted import FakeTime, Life, ScriptedPlugin

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = ChannelRef("probe", "ws1", "c1")
ADMIN = Actor("u-admin", "Ada", is_admin=True)
BROKEN = "source: [unclosed\nformat: markdown\n"


async def test_a_first_post_right_after_start_posts_a_question(
    run_settings: CoreSettings, fake_time: FakeTime
) -> None:
    """The plugin sends `/qotd post` the moment serve() starts it, on a database that
    has never seen the bank (before, it answered "No question is eligible")."""
    replies: list[Reply] = []

    async def post_at_once(core: CoreHandle) -> None:
        replies.extend(await core.handle_command(
            CommandInput(name="qotd", actor=ADMIN, channel=CHANNEL, subcommand="post")))

    probe = ScriptedPlugin("probe", [Life()], fake_time, on_start=post_at_once)
    stop = asyncio.Event()
    plugins: list[AdapterPlugin] = [probe]
    task = asyncio.create_task(serve(run_settings, plugins, install_signals=False,
                                     supervision=fake_time.policy(), stop=stop))
    await asyncio.wait_for(probe.started.wait(), 20)
    stop.set()
    assert await asyncio.wait_for(task, 20) == 0

    [reply] = replies
    assert reply.message.tone == "info", reply
    assert reply.message.body.startswith("Posted question #1"), reply
    [post] = [e for e in probe.outbound.transcript if e.kind == "post"]
    assert post.channel == CHANNEL and "Question #1" in post.text


def break_bank(settings: CoreSettings) -> Path:
    bad = Path(settings.bank_dir) / "zz_broken.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    return bad


def validate_lines(bank: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["bank", "validate", "--bank-dir", bank]) == 1
    err = capsys.readouterr().err
    return err.splitlines()


async def test_a_broken_bank_file_stops_run_with_the_validate_line_and_status_2(
    run_settings: CoreSettings, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = break_bank(run_settings)
    expected = await asyncio.to_thread(validate_lines, run_settings.bank_dir, capsys)
    assert len(expected) == 1 and expected[0].startswith(f"{bad}:")

    probe = ScriptedPlugin("probe", [Life()], fake_time)
    plugins: list[AdapterPlugin] = [probe]
    code = await asyncio.wait_for(serve(run_settings, plugins, install_signals=False,
                                        supervision=fake_time.policy()), 30)

    assert code == 2
    assert capsys.readouterr().err.splitlines() == expected
    assert probe.events == []  # nothing connected


def test_qotd_run_with_a_broken_bank_prints_one_line_and_exits_2(
    tmp_path: Path, run_settings: CoreSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real process, as an operator starts it (the console fallback)."""
    bad = break_bank(run_settings)
    [expected] = validate_lines(run_settings.bank_dir, capsys)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD", "SLACK"))}
    env.update(DATABASE_URL=run_settings.database_url, QOTD_BANK_DIR=run_settings.bank_dir,
               QOTD_CONFIG=str(tmp_path / "absent.toml"))

    done = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          stdin=subprocess.PIPE, capture_output=True, text=True, timeout=120)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == expected
    assert str(bad) in expected and "YAML syntax error" in expected
    assert "== Question" not in done.stdout  # the console never started
