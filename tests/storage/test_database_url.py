"""DATABASE_URL as hosts hand it out: `postgres://` (Heroku, Render, Fly), `postgresql://`
without a driver, `sqlite:///`, and `?sslmode=require`. All run on asyncpg / aiosqlite;
other schemes are refused in one line naming the supported forms, without the password.

The sslmode test runs asyncpg against a local socket that speaks the first bytes of the
PostgreSQL protocol (SSLRequest, then StartupMessage), so it needs no server; the PG leg
migrates a real database through a `postgres://` URL."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.settings import CoreSettings
from storage.engine import make_engine, normalize_url
from storage.migrate import upgrade
from tests.conftest import drop_schema, new_schema, pg_base

SSL_REQUEST = 80877103  # PostgreSQL protocol: the code of an SSLRequest packet
PROTOCOL_3 = 196608  # a StartupMessage for protocol 3.0


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u:pw@db.example:5432/app", "postgresql+asyncpg://u:pw@db.example:5432/app"),
    ("postgresql://u:pw@db/app", "postgresql+asyncpg://u:pw@db/app"),
    ("postgresql+asyncpg://u:pw@db/app", "postgresql+asyncpg://u:pw@db/app"),
    ("POSTGRES://u@db/app?sslmode=require", "postgresql+asyncpg://u@db/app?sslmode=require"),
    ("postgres://u:p%40ss@db/app?ssl=require&schema=s1",
     "postgresql+asyncpg://u:p%40ss@db/app?sslmode=require&schema=s1"),
    ("sqlite:///./qotd.db", "sqlite+aiosqlite:///./qotd.db"),
    ("sqlite:////var/lib/qotd.db", "sqlite+aiosqlite:////var/lib/qotd.db"),
    ("sqlite+aiosqlite:///qotd.db", "sqlite+aiosqlite:///qotd.db"),
    ("sqlite://", "sqlite+aiosqlite://"),
])
def test_supported_forms_run_on_the_async_drivers(given: str, used: str) -> None:
    assert CoreSettings(database_url=given).database_url == used


@pytest.mark.parametrize("url", [
    "mysql://qotd:s3cr3t@db/qotd",
    "postgresql+psycopg2://qotd:s3cr3t@db/qotd",
    "postgresql+psycopg://qotd:s3cr3t@db/qotd",
    "sqlite+pysqlite:///qotd.db",
    "s3cr3t",
    "qotd:s3cr3t@db/qotd",
    "://s3cr3t",
])
def test_other_schemes_are_one_line_naming_the_supported_forms(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    [line] = err.splitlines()
    assert line.startswith("qotd: setting DATABASE_URL: unsupported database URL (got ")
    for form in ("postgres://", "postgresql://", "postgresql+asyncpg://", "sqlite:///",
                 "sqlite+aiosqlite:///"):
        assert form in line
    assert "s3cr3t" not in line
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_a_refused_db_option_names_the_option_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", "mysql://u:s3cr3t@h/d"]) == 2
    line = capsys.readouterr().err
    assert line.startswith("qotd: setting DATABASE_URL (or --db): unsupported database URL "
                           "(got 'mysql')")
    assert "s3cr3t" not in line


@pytest.mark.parametrize("url", ["postgres://u:s3cr3t@db/app?sslmode=always",
                                 "sqlite://host/qotd.db"])
def test_malformed_details_are_refused_with_what_to_write(url: str) -> None:
    with pytest.raises(ValueError, match=r"sslmode=|sqlite:///") as caught:
        normalize_url(url)
    assert "s3cr3t" not in str(caught.value)


def test_sqlite_without_a_driver_migrates(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, `sqlite:///` loaded pysqlite: "The asyncio extension requires an async
    driver"."""
    monkeypatch.setenv("QOTD_CONFIG", str(tmp_path / "absent.toml"))
    path = tmp_path / "plain.db"
    assert main(["db", "upgrade", "--db", f"sqlite:///{path}"]) == 0, capsys.readouterr().err
    assert path.is_file()


class FirstPackets:
    """A TCP server that records each connection's first packet, answers an SSLRequest
    with "N" (no SSL here) and closes after the StartupMessage."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.server: asyncio.Server | None = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length, code = struct.unpack("!ii", await reader.readexactly(8))
                await reader.readexactly(length - 8)
                self.codes.append(code)
                if code != SSL_REQUEST:
                    break
                writer.write(b"N")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def first_packets(url: str) -> list[int]:
    fake = FirstPackets()
    async with fake as port:
        engine = make_engine(url.format(port=port))
        try:
            with pytest.raises(Exception) as caught:
                async with engine.connect():
                    pass
            assert "sslmode" not in str(caught.value)  # not "unexpected keyword argument"
        finally:
            await engine.dispose()
    return fake.codes


async def test_sslmode_in_the_url_reaches_asyncpg() -> None:
    """asyncpg.connect() has no `sslmode` argument (it is `ssl`): passed through as
    SQLAlchemy does with query keys, the URL a host gives failed before connecting."""
    required = await first_packets("postgres://u:pw@127.0.0.1:{port}/app?sslmode=require")
    assert required == [SSL_REQUEST]  # asked for TLS and gave up when the server said no
    disabled = await first_packets("postgres://u:pw@127.0.0.1:{port}/app?sslmode=disable")
    assert disabled == [PROTOCOL_3]  # no TLS asked for


@pytest.fixture
async def pg_schema_url() -> AsyncIterator[tuple[str, str]]:
    base = pg_base()
    url = await new_schema(base, "url")
    try:
        yield base, url
    finally:
        await drop_schema(base, url)


@pytest.mark.postgres
async def test_a_heroku_style_url_migrates_on_postgresql(
    pg_schema_url: tuple[str, str],
) -> None:
    _, url = pg_schema_url
    heroku = "postgres://" + url.partition("://")[2]
    heroku += "&sslmode=prefer" if "?" in heroku else "?sslmode=prefer"
    settings = CoreSettings(database_url=heroku)
    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert version is not None
