"""GET /health on a running serve() (real HTTP on a real port) and `qotd status --health`
asking it: 200 when every adapter is connected, 503 (and exit 1) when one is not, or is
being restarted; "not answering" (exit 1) when nothing listens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.cli_core import serve
from bot.plugins import AdapterPlugin
from bot.settings import CoreSettings
from tests.runtime.conftest import free_port
from tests.runtime.scripted import FakeTime, Life, ScriptedPlugin, transient


@asynccontextmanager
async def serving(settings: CoreSettings, plugins: list[ScriptedPlugin],
                  fake_time: FakeTime) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    chosen: list[AdapterPlugin] = list(plugins)
    task = asyncio.create_task(serve(settings, chosen, install_signals=False,
                                     supervision=fake_time.policy(), stop=stop))
    try:
        for plugin in plugins:
            await asyncio.wait_for(plugin.started.wait(), 20)
        yield stop
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 20) == 0


async def get_health(port: int) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{port}/health") as response:
        return response.status, await response.json()


def status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["status", *args])
    out, err = capsys.readouterr()
    return code, out + err


async def test_health_is_200_while_every_adapter_is_connected_else_503(
    run_settings: CoreSettings, fake_time: FakeTime, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    settings = run_settings.model_copy(update={"health_port": port})
    discord = ScriptedPlugin("discord", [Life()], fake_time)
    slack = ScriptedPlugin("slack", [Life()], fake_time)
    monkeypatch.setenv("QOTD_HEALTH_PORT", str(port))  # what `qotd status` reads
    async with serving(settings, [discord, slack], fake_time):
        assert await get_health(port) == (
            200, {"status": "ok", "adapters": {"discord": True, "slack": True}})
        code, line = await asyncio.to_thread(status, capsys, "--health")
        assert code == 0
        assert line == (f"healthy: discord connected, slack connected "
                        f"(http://127.0.0.1:{port}/health)\n")

        slack.up = False  # e.g. Socket Mode lost its connection
        assert await get_health(port) == (
            503, {"status": "degraded", "adapters": {"discord": True, "slack": False}})
        code, line = await asyncio.to_thread(status, capsys, "--health")
        assert code == 1
        assert line.startswith("degraded: discord connected, slack NOT connected")
        assert line.count("\n") == 1


async def test_an_adapter_being_restarted_is_not_connected(
    run_settings: CoreSettings, fake_time: FakeTime
) -> None:
    port = free_port()
    settings = run_settings.model_copy(update={"health_port": port})
    fake_time.hold = asyncio.Event()
    flaky = ScriptedPlugin("flaky", [Life(transient("flaky", "connection lost"))], fake_time)
    async with serving(settings, [flaky], fake_time):
        await asyncio.wait_for(fake_time.sleeping.wait(), 20)  # inside the backoff
        assert await get_health(port) == (
            503, {"status": "degraded", "adapters": {"flaky": False}})
        fake_time.hold.set()
        for _ in range(200):  # started again: connected
            if flaky.events.count("start") == 2:
                break
            await asyncio.sleep(0.01)
        assert await get_health(port) == (200, {"status": "ok", "adapters": {"flaky": True}})


async def test_status_says_not_answering_when_nothing_listens(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    port = free_port()
    code, line = await asyncio.to_thread(status, capsys, "--health", "--port", str(port))
    assert code == 1
    assert line.startswith(f"not answering: http://127.0.0.1:{port}/health: ")
    assert line.count("\n") == 1 and "Traceback" not in line


def test_status_without_a_port_says_which_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("QOTD_HEALTH_PORT", raising=False)
    code, line = status(capsys, "--health")
    assert code == 2 and "QOTD_HEALTH_PORT" in line


async def test_a_health_port_in_use_is_a_start_up_failure(
    run_settings: CoreSettings, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        settings = run_settings.model_copy(update={"health_port": port})
        probe = ScriptedPlugin("probe", [Life()], fake_time)
        plugins: list[AdapterPlugin] = [probe]
        code = await asyncio.wait_for(serve(settings, plugins, install_signals=False,
                                            supervision=fake_time.policy()), 30)
    finally:
        blocker.close()
        await blocker.wait_closed()
    assert code == 1
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert line.startswith(f"the health check cannot listen on 127.0.0.1:{port}: ")
    assert probe.events == []
