"""`qotd run` watches every adapter: a transient failure is restarted with backoff
(1 s doubling to 60 s, back to 1 s after five minutes up), a fatal one ends the process
with status 1 and one CRITICAL line, a normal end (the console's end of input) and a stop
request end it with 0. The real serve() on a real database, with scripted adapters and a
fake time, so a minute of backoff takes no time."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.cli_core import serve
from bot.plugins import AdapterPlugin
from bot.settings import CoreSettings
from tests.runtime.scripted import (
    RETURN,
    FakeTime,
    Life,
    ScriptedPlugin,
    fatal,
    transient,
)

CLI = "bot.cli_core"


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == CLI and r.levelno == level]


async def run(settings: CoreSettings, plugins: list[ScriptedPlugin], fake_time: FakeTime,
              stop: asyncio.Event | None = None) -> int:
    chosen: list[AdapterPlugin] = list(plugins)
    return await asyncio.wait_for(
        serve(settings, chosen, install_signals=False, supervision=fake_time.policy(),
              stop=stop), 30)


async def test_transient_failures_restart_with_doubling_backoff_capped_at_a_minute(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    lives = [Life(transient("probe", f"connection lost ({i})")) for i in range(8)]
    lives.append(Life(RETURN))
    probe = ScriptedPlugin("probe", lives, fake_time)

    assert await run(run_settings, [probe], fake_time) == 0

    assert fake_time.slept == [1, 2, 4, 8, 16, 32, 60, 60]
    assert probe.events == ["start", *["stop", "start"] * 8, "stop"]
    warnings = lines(caplog, logging.WARNING)
    assert warnings[0] == "adapter probe stopped: connection lost (0); restarting in 1 s"
    assert warnings[6] == "adapter probe stopped: connection lost (6); restarting in 60 s"
    assert len(warnings) == 8
    assert not lines(caplog, logging.CRITICAL)


async def test_backoff_starts_over_after_five_minutes_up(
    run_settings: CoreSettings, fake_time: FakeTime
) -> None:
    cause = transient("probe", "socket closed")
    lives = [Life(cause), Life(cause), Life(cause, up_for=299), Life(cause, up_for=300),
             Life(cause), Life(RETURN)]
    probe = ScriptedPlugin("probe", lives, fake_time)

    assert await run(run_settings, [probe], fake_time) == 0

    # 299 s up is not long enough to forget the failures before it; 300 s is
    assert fake_time.slept == [1, 2, 4, 1, 2]


async def test_any_exception_from_finished_is_transient_and_a_failing_restart_backs_off(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    lives = [Life(RuntimeError("the client's task died\nsecond line")),
             Life(start_error=transient("probe", "cannot reach the server")),
             Life(start_error=OSError("network is unreachable")),
             Life(RETURN)]
    probe = ScriptedPlugin("probe", lives, fake_time)

    assert await run(run_settings, [probe], fake_time) == 0

    assert fake_time.slept == [1, 2, 4]
    assert lines(caplog, logging.WARNING) == [
        "adapter probe stopped: RuntimeError: the client's task died; restarting in 1 s",
        "adapter probe stopped: cannot reach the server; restarting in 2 s",
        "adapter probe stopped: OSError: network is unreachable; restarting in 4 s",
    ]


async def test_fatal_failure_exits_1_with_one_critical_line_and_stops_the_others(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    cause = ("Discord closed the gateway with 4004 (authentication failed): the token was "
             "reset; set DISCORD_TOKEN to the new one")
    steady = ScriptedPlugin("steady", [Life()], fake_time)
    dying = ScriptedPlugin("dying", [Life(fatal("dying", cause), up_for=5)], fake_time)

    assert await run(run_settings, [steady, dying], fake_time) == 1

    assert lines(caplog, logging.CRITICAL) == [f"adapter dying failed: {cause}; exiting"]
    assert fake_time.slept == []  # no restart of a fatal failure
    assert steady.events == ["start", "stop"] and dying.events == ["start", "stop"]


async def test_a_restart_that_fails_fatally_ends_the_process(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    lives = [Life(transient("probe", "connection reset")),
             Life(start_error=fatal("probe", "the token was revoked; set PROBE_TOKEN"))]
    probe = ScriptedPlugin("probe", lives, fake_time)

    assert await run(run_settings, [probe], fake_time) == 1

    assert fake_time.slept == [1]
    assert lines(caplog, logging.CRITICAL) == [
        "adapter probe failed: the token was revoked; set PROBE_TOKEN; exiting"]


@pytest.mark.parametrize("error", [
    ValueError("DISCORD_GUILD_ID must be digits"),
    transient("probe", "the server did not answer"),  # at start-up a bad config must not loop
])
async def test_a_start_up_failure_is_fatal_without_a_restart(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    steady = ScriptedPlugin("steady", [Life()], fake_time)
    probe = ScriptedPlugin("probe", [Life(start_error=error)], fake_time)

    assert await run(run_settings, [steady, probe], fake_time) == 1

    [critical] = lines(caplog, logging.CRITICAL)
    assert critical.startswith("adapter probe failed: ") and critical.endswith("; exiting")
    assert "DISCORD_GUILD_ID must be digits" in critical or "did not answer" in critical
    assert probe.events == ["start"] and steady.events == ["start", "stop"]
    assert fake_time.slept == []


async def test_a_normal_end_stops_everything_with_0(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    steady = ScriptedPlugin("steady", [Life()], fake_time)
    console = ScriptedPlugin("console", [Life(RETURN, up_for=3)], fake_time)

    assert await run(run_settings, [steady, console], fake_time) == 0

    assert steady.events == ["start", "stop"] and console.events == ["start", "stop"]
    assert "stopped" in lines(caplog, logging.INFO)


async def test_a_stop_request_ends_with_0_even_during_a_backoff(
    run_settings: CoreSettings, fake_time: FakeTime
) -> None:
    fake_time.hold = asyncio.Event()  # the backoff sleep waits until the test releases it
    probe = ScriptedPlugin("probe", [Life(transient("probe", "gone"))], fake_time)
    stop = asyncio.Event()
    task = asyncio.create_task(run(run_settings, [probe], fake_time, stop))
    await asyncio.wait_for(fake_time.sleeping.wait(), 20)

    stop.set()

    assert await task == 0
    assert probe.events == ["start", "stop"]  # not started again
