"""Fixtures: a running fake Discord per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.discord.fake_discord import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
