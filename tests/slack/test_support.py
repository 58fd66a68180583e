"""Pacing, redelivery memory, settings and the manifest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from adapters.slack.app import COMMANDS
from adapters.slack.dedup import SeenEvents
from adapters.slack.oauth import BOT_SCOPES
from adapters.slack.ordering import KeyedLocks
from adapters.slack.pacing import ChannelPacer
from adapters.slack.settings import SlackSettings
from tests.slack.harness import FakeTime

MANIFEST = Path(__file__).parents[2] / "adapters" / "slack" / "manifest.yml"


async def test_pacer_spaces_sends_per_channel_only() -> None:
    t = FakeTime()
    pacer = ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep)
    await pacer.wait_turn("C1")
    await pacer.wait_turn("C2")
    assert t.slept == []
    t.now += 0.25
    await pacer.wait_turn("C1")
    assert t.slept == [0.75]
    t.now += 5
    await pacer.wait_turn("C1")
    assert t.slept == [0.75]


async def test_concurrent_sends_to_one_channel_queue_up() -> None:
    t = FakeTime()
    pacer = ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep)
    await asyncio.gather(*(pacer.wait_turn("C1") for _ in range(3)))
    assert t.slept == [1.0, 1.0]


def test_seen_events_forget_after_ttl_and_stay_bounded() -> None:
    t = FakeTime()
    seen = SeenEvents(ttl_seconds=60, max_size=3, monotonic=t.monotonic)
    assert seen.first_time("Ev1") and not seen.first_time("Ev1")
    t.now += 61
    assert seen.first_time("Ev1")
    for i in range(2, 6):
        assert seen.first_time(f"Ev{i}")
    assert not seen.first_time("Ev5"), "recent ids are kept"
    assert seen.first_time("Ev2"), "the oldest ids made room for new ones"


def test_settings_from_env_hide_secrets_and_name_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("SLACK_ADMINS", "U1, U2,")
    monkeypatch.setenv("PATH", "/usr/bin")
    settings = SlackSettings()
    assert "xoxb-very-secret" not in repr(settings)
    assert settings.normalized_api_url == "http://127.0.0.1:9/api/"
    assert settings.admin_ids() == {"U1", "U2"}
    assert settings.path == "/slack/events"
    [problem] = settings.problems()
    assert "SLACK_APP_TOKEN" in problem and "SLACK_SIGNING_SECRET" in problem
    assert "xoxb" not in problem


def test_manifest_declares_every_command_scope_and_event_we_handle() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    commands = manifest["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(COMMANDS)
    assert all(c["should_escape"] is True for c in commands)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "reaction_added",
        "reaction_removed",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


async def test_keyed_locks_keep_one_keys_order_and_report_idle() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def work(key: str, name: str, wait: bool) -> None:
        async with locks.hold(key):
            if wait:
                await release.wait()
            order.append(name)

    first = asyncio.create_task(work("U1", "u1-first", True))
    second = asyncio.create_task(work("U1", "u1-second", False))
    other = asyncio.create_task(work("U2", "u2", False))
    await other
    assert order == ["u2"], "another user is not held up"
    idle = asyncio.create_task(locks.idle())
    await asyncio.sleep(0)
    assert not idle.done() and len(locks) == 1
    release.set()
    await asyncio.gather(first, second, idle)
    assert order == ["u2", "u1-first", "u1-second"] and len(locks) == 0
