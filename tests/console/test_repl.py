"""Where the console's lines come from (prompt_toolkit at a terminal, a pipe otherwise),
and the console as `qotd run` supervises it: finished() at the end of input, on a broken
terminal, and connected() meanwhile."""

from __future__ import annotations

import asyncio
import errno
import io
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.patch_stdout import StdoutProxy

from adapters.console import repl
from adapters.console.plugin import plugin
from adapters.console.repl import PipedLines, PromptLines, history_path, interact
from bot.app import Core
from bot.boundary import Actor, CommandInput
from bot.plugins import AdapterFailed
from tests.console.conftest import DEMO_BANK, console_session


class BrokenInput:
    """A terminal that went away: every read fails with EIO."""

    def isatty(self) -> bool:
        return False

    def __iter__(self) -> Any:
        raise OSError(errno.EIO, "Input/output error")


async def test_a_restarted_repl_reads_on_where_the_last_one_stopped() -> None:
    stream = io.StringIO("first\nsecond\n")
    assert await PipedLines(stream).next("") == "first\n"
    assert await PipedLines(stream).next("") == "second\n"  # one reader per stream
    assert await PipedLines(stream).next("") is None
    assert await PipedLines(stream).next("") is None  # the end stays the end


async def test_undecodable_bytes_are_a_line_not_the_end() -> None:
    raw = io.TextIOWrapper(io.BytesIO(b"\xff\xfe bad\nnow\n"), encoding="utf-8")
    lines = PipedLines(raw)
    assert await lines.next("") == "\ufffd\ufffd bad\n"
    assert await lines.next("") == "now\n"


async def test_the_prompt_reads_lines_keeps_history_and_ends_at_ctrl_d(
    tmp_path: Path,
) -> None:
    history = FileHistory(str(tmp_path / "history"))
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        with create_pipe_input() as keys:
            keys.send_text("now\rhelp\r\x04")
            out = io.StringIO()
            await interact(session, out=out,
                           lines=PromptLines(history, input=keys, output=DummyOutput()))
    text = out.getvalue()
    assert "now: Mon 2027-01-04 07:00 UTC" in text and "Type what a chat user" in text
    assert "> now" not in text  # the prompt shows what is typed; no echo
    assert list(history.load_history_strings()) == ["help", "now"]


async def test_posts_and_logs_go_above_an_open_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the prompt waits for a line, a scheduled post and a log line are written
    through patch_stdout's proxy (above the prompt), not over it."""
    monkeypatch.setattr(repl, "TICK_SECONDS", 0.01)
    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(handler)
    seen: dict[str, Any] = {}
    try:
        async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
            with create_pipe_input() as keys:
                source = PromptLines(InMemoryHistory(), input=keys, output=DummyOutput())
                repl_task = asyncio.ensure_future(interact(session, lines=source))
                await asyncio.sleep(0.05)  # the prompt is open, nothing typed
                seen["stdout"], seen["log stream"] = sys.stdout, handler.stream
                core = session.core
                assert isinstance(core, Core)
                await core.handle_command(CommandInput(
                    "qotd", Actor("alice", "alice", is_admin=True), session.channel, "post"))
                for _ in range(100):
                    if session._seen:  # the ticker printed the post
                        break
                    await asyncio.sleep(0.01)
                keys.send_text("\x04")
                await repl_task
    finally:
        logging.getLogger().removeHandler(handler)
    assert isinstance(seen["stdout"], StdoutProxy)
    assert seen["log stream"] is seen["stdout"]
    assert handler.stream is sys.stderr  # given back when the prompt closed
    assert session._seen == len(session.outbound.transcript) > 0


def test_the_history_lives_in_the_users_state_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == tmp_path / "qotd" / "console_history"
    history = repl.default_history()
    assert isinstance(history, FileHistory) and history_path().exists()
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/not-writable")
    assert isinstance(repl.default_history(), InMemoryHistory)


async def test_finished_returns_at_the_end_of_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        monkeypatch.setattr(sys, "stdin", io.StringIO("/qotd status\nbogus\nnow\n"))
        running = await plugin.start(session.core)
        assert running.connected()
        await running.finished()
        assert not running.connected()
        await running.stop()
    out = capsys.readouterr().out
    assert "== Question #1 ==" in out  # the first run
    assert 'unknown command "bogus"' in out and "\n> now\nnow: " in out


async def test_a_broken_terminal_is_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        monkeypatch.setattr(sys, "stdin", BrokenInput())
        running = await plugin.start(session.core)
        with pytest.raises(AdapterFailed) as failed:
            await running.finished()
        assert not running.connected()
        await running.stop()
    assert failed.value.fatal and failed.value.adapter == "console"
    assert "input or output failed (OSError: [Errno 5] Input/output error)" in \
        failed.value.cause


async def test_message_ids_do_not_repeat_across_starts(tmp_path: Path) -> None:
    """`qotd run` keeps its database: a second start numbering from m1 again would send
    a reaction on its first post to the first start's post."""
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        core = session.core
        first = await plugin.start(core)
        await first.stop()
        second = await plugin.start(core)
        prefixes = {r._session.outbound.prefix for r in (first, second)}
        await second.stop()
    assert len(prefixes) == 2 and "" not in prefixes


async def test_stopping_the_console_closes_its_prompt(tmp_path: Path) -> None:
    """`qotd run` stopping (a signal) cancels the REPL: nothing is left reading the
    terminal, which would keep it in raw mode."""
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        with create_pipe_input() as keys:
            source = PromptLines(InMemoryHistory(), input=keys, output=DummyOutput())
            repl_task = asyncio.ensure_future(interact(session, lines=source, out=io.StringIO()))
            await asyncio.sleep(0.05)
            repl_task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await repl_task
            await asyncio.sleep(0)
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert not [t for t in left if "prompt" in repr(t.get_coro())], left
