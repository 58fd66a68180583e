"""A migrated-on-start SQLite file and a small bank for each in-process `serve()`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.settings import CoreSettings
from tests.conftest import sample_questions, write_bank
from tests.runtime.scripted import FakeTime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def run_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CoreSettings:
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, sample_questions())
    return CoreSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
                        bank_dir=str(bank))
