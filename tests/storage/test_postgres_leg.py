"""The PostgreSQL leg skips locally without a server but is required under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/storage/test_schema.py::test_upgrade_twice_is_harmless"


def _run(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QOTD_TEST_DATABASE_URL", "CI")}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_unset_url_skips_with_the_reason_locally() -> None:
    result = _run(None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "set QOTD_TEST_DATABASE_URL=postgresql+asyncpg://" in result.stdout


def test_unset_url_fails_under_ci() -> None:
    result = _run("true")
    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout
    assert "the PostgreSQL leg is required in CI" in result.stdout
