"""Personal review in the console: `/review` shows the next due card privately, `press`
presses its buttons by label, and each press prints the updated card as a new block
marked "(updated)"; `/mastery` shows the chart's words and saves the PNG when asked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.console.language import parse_command
from adapters.console.session import CHANNEL
from bot.boundary import Actor, OutMessage, Reply
from tests.console.conftest import console_session


async def test_a_review_session_in_the_console(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        await session.run_line("/qotd schedule")
        await session.run_line("/qotd post")
        await session.run_line("react no")  # ❌ not yet: the card is due again soon
        assert session.clock is not None
        await session.core.advance_to(session.clock.now() + timedelta(hours=1))  # type: ignore[attr-defined]

        opened = "\n".join(await session.run_line("/review"))
        assert opened.startswith("(only alice sees this)\n") and "[Show answer]" in opened
        shown = "\n".join(await session.run_line("press show answer"))
        assert shown.startswith("(only alice sees this, updated)\n")
        assert "[Again] [Hard] [Good] [Easy]" in shown
        rated = "\n".join(await session.run_line("press Good"))
        assert not session.refused
        assert rated.startswith("(only alice sees this, updated)\n")
        assert "Rated Good" in rated and "All done" in rated
        again = "\n".join(await session.run_line("press Good"))
        assert session.refused and "Nothing to press" in again  # the card moved on

        # someone else has no buttons to press
        await session.run_line("as bob")
        out = "\n".join(await session.run_line("press Good"))
        assert session.refused and "Nothing to press" in out


async def test_mastery_shows_the_chart_in_words_and_saves_it(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        session.outbound.files_dir = tmp_path / "files"
        await session.run_line("/qotd schedule")
        await session.run_line("/qotd post")
        await session.run_line("react no")
        out = "\n".join(await session.run_line("/mastery"))
        assert not session.refused, out
        assert ".png: " in out and "(saved " in out
        [saved] = (tmp_path / "files").iterdir()
        assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_review_lines_parse_to_the_cores_command_shape() -> None:
    actor = Actor("alice", "alice")
    bare = parse_command("review", "", actor, CHANNEL)
    assert (bare.name, bare.subcommand) == ("review", "start")
    status = parse_command("review", "status", actor, CHANNEL)
    assert status.subcommand == "status" and dict(status.options) == {}
    add = parse_command("review", 'add topic:"Model Monitoring" count:3', actor, CHANNEL)
    assert add.subcommand == "add"
    assert dict(add.options) == {"topic": "Model Monitoring", "count": "3"}
    off = parse_command("review", "remind off", actor, CHANNEL)
    assert (off.subcommand, dict(off.options)) == ("remind", {"time": "off"})
    at = parse_command("review", "remind time:08:30 timezone:Europe/Berlin", actor, CHANNEL)
    assert dict(at.options) == {"time": "08:30", "timezone": "Europe/Berlin"}
    assert parse_command("mastery", "", actor, CHANNEL).name == "mastery"


async def test_an_update_to_anything_but_a_button_is_shown_as_private(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        reply = Reply("update", OutMessage(tone="info", body="moved on"))
        assert session._reply_text(reply) == "(only alice sees this)\nmoved on"
        session._pressed = True
        assert session._reply_text(reply) == "(only alice sees this, updated)\nmoved on"
