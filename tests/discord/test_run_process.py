"""The real `qotd run` process against the fake Discord: it survives out-of-schema
dispatches and unreadable frames, resumes after a 4000 close, and after a 4004 (the
token was reset) exits non-zero with one line naming the adapter and the cause.

Written to the supervision contract of bot/plugins.py: `serve()` watches
`RunningDiscord.finished()` and logs `adapter discord failed: <cause>; exiting`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_malformed_frames import DISPATCH_CASES, FRAME_CASES, MARK
from tests.faults.harness import (
    DiscordSide,
    QotdProcess,
    process_env,
    wait_until,
    write_choice_bank,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[FakeDiscord, QotdProcess]]:
    side = DiscordSide()
    await side.start()
    bank = write_choice_bank(tmp_path / "bank")
    env = process_env(side, tmp_path, bank, 0.0)
    proc = QotdProcess(env, f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", tmp_path / "qotd.log")
    try:
        await proc.start()
        await wait_until(lambda: side.fake._live() or not proc.alive, within=60,
                         what="the process connected to the gateway")
        assert proc.alive, proc.log_tail()
        yield side.fake, proc
    finally:
        await proc.stop()
        await side.stop()


async def answered(fake: FakeDiscord, proc: QotdProcess, after: str) -> None:
    """A valid /qotd status gets its answer from the process."""
    await wait_until(lambda: fake._live() or not proc.alive, within=30,
                     what=f"a live gateway session after {after}")
    assert proc.alive, f"qotd run died after {after}:\n{proc.log_tail()}"
    payload = fake.slash("qotd", fake.user("probe"), subcommand="status")
    await fake.dispatch("INTERACTION_CREATE", payload)
    try:
        await fake.wait_for(lambda f: f.interaction_replies(payload), within=15)
    except TimeoutError:
        raise AssertionError(f"no answer after {after}:\n{proc.log_tail()}") from None


async def test_qotd_run_survives_bad_frames_resumes_after_4000_and_exits_after_4004(
    running: tuple[FakeDiscord, QotdProcess],
) -> None:
    fake, proc = running
    await answered(fake, proc, "start")
    post: dict[str, Any] = {"id": str(fake.new_id()), "channel_id": str(fake.channel_id)}
    for name, event, build in DISPATCH_CASES:
        await fake.send_frame(fake.frame(event, build(fake, post)))
        await answered(fake, proc, name)
    for name, send in FRAME_CASES:
        sessions = fake.connections
        await send(fake)
        await fake.wait_connected(sessions, within=30)
        await answered(fake, proc, name)

    sessions = fake.connections
    await fake.close_gateways(4000, "unknown error")
    await fake.wait_connected(sessions, within=30)
    await answered(fake, proc, "a 4000 close")
    assert len(fake.identify_payloads) == 1  # every reconnect was a resume

    old_token = fake.token
    fake.token = "the-token-after-a-reset"  # Discord now refuses the old one: 4004
    await fake.close_gateways(4000)
    status = await proc.wait_exit(within=60)
    log = proc.log_text()
    assert status != 0, log
    [line] = [x for x in log.splitlines() if "adapter discord failed:" in x]
    assert line.rstrip().endswith("; exiting"), line
    assert "4004 (authentication failed)" in line and "DISCORD_TOKEN" in line
    assert old_token not in log and fake.token not in log
    assert MARK not in log
    assert "Traceback" not in log, log
