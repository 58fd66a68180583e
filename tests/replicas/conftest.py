"""Fixtures for the replica tests: the fake Slack, a launcher that stops every process it
started, and databases (a private PostgreSQL schema per test, or a SQLite file).

PostgreSQL follows tests/conftest.py: skipped with a reason without
QOTD_TEST_DATABASE_URL, a failure when CI=true.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ENV, drop_schema, new_schema, pg_base
from tests.replicas.harness import Launcher, ReplicaSlack


@pytest.fixture
async def fake() -> AsyncIterator[ReplicaSlack]:
    server = ReplicaSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def launcher(fake: ReplicaSlack, tmp_path: Path, bank_dir: Path, pg_schemas: list[str],
             request: pytest.FixtureRequest) -> Iterator[Launcher]:
    """Stops every process it started; before the schemas are dropped (it depends on
    `pg_schemas`, so it is torn down first)."""
    launch = Launcher(fake, tmp_path, bank_dir)
    try:
        yield launch
    finally:
        launch.close()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(launch.logs())


@pytest.fixture
async def pg_schemas() -> AsyncIterator[list[str]]:
    """Call `await make()`-style: append urls made by new_schema; all dropped after."""
    made: list[str] = []
    yield made
    base = os.environ.get(PG_ENV, "")
    for url in made:
        await drop_schema(base, url)


@pytest.fixture
async def pg_url(pg_schemas: list[str]) -> str:
    """An empty private schema (not migrated) on the test PostgreSQL server."""
    url = await new_schema(pg_base(), "r")
    pg_schemas.append(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path,
                 pg_schemas: list[str]) -> str:
    """An empty database on each backend (a SQLite file, a private PostgreSQL schema)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"
    url = await new_schema(pg_base(), "r")
    pg_schemas.append(url)
    return url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
