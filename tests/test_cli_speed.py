"""The command line parses its arguments before importing the database, the core or a
platform: `qotd --help` and the help of each command import none of them.

A behaviour test, not a timing test (the figures are in bench/cli.py): it reads which
modules a fresh `python -X importtime -m bot ...` imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What `--help` must never pay for: the database layer, migrations, the core, the HTTP
# stack and the platform clients.
HEAVY = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", "discord", "slack_bolt",
         "slack_sdk", "aiohttp", "apscheduler", "prompt_toolkit", "bot.app", "storage")


def imported(*args: str) -> tuple[set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QOTD_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    modules.discard("imported package")  # the header line
    return modules, done.stdout


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["import", "--help"],
        ["run", "--help"],
        ["console", "--help"],
        ["db", "upgrade", "--help"],
        ["status", "--help"],
        ["bank", "stats", "--help"],
        ["discord", "--help"],
        ["slack", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help_imports_no_database_core_or_platform(args: list[str]) -> None:
    modules, out = imported(*args)
    assert "bot.cli" in modules  # the listing is real: the command line itself is in it
    assert out.startswith("usage: qotd")
    assert heavy_in(modules) == []


def test_a_database_command_still_imports_the_database(tmp_path: Path) -> None:
    """The control: the listing does show what a command that needs them imports."""
    modules, out = imported("db", "upgrade", "--db", f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    assert "latest schema" in out
    assert {"sqlalchemy", "alembic", "storage.migrate"} <= set(heavy_in(modules))
