"""The console's side of personal review: direct messages (the nudge), attachments (the
mastery chart) shown by their words and written to QOTD_CONSOLE_FILES, and `press`, which
presses a button of the last message with buttons the user saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.console.files import safe_name
from adapters.console.outbound import ConsoleOutbound, dm_channel
from adapters.console.plugin import files_dir
from adapters.console.render import render
from bot.boundary import Attachment, DirectRef, OutMessage, Reply
from tests.console.conftest import console_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
CHART = Attachment("mastery.png", PNG, "Bars: Statistics 80% remembered, SQL 40%.")
BOB = DirectRef("console", "local", "bob")


async def test_send_direct_is_one_message_per_key_and_shows_as_a_dm() -> None:
    out = ConsoleOutbound(prefix="p-")
    message = OutMessage(tone="info", body="3 cards are due: /review")
    first = await out.send_direct(BOB, message, idempotency_key="nudge:1:2027-01-05")
    again = await out.send_direct(BOB, message, idempotency_key="nudge:1:2027-01-05",
                                  resend=True)
    other = await out.send_direct(BOB, message, idempotency_key="nudge:1:2027-01-06")
    assert first == again != other
    assert [e.message_id for e in out.directs("bob")] == [first, other]
    assert out.directs("carol") == [] and out.posts() == []
    entry = out.directs()[0]
    assert entry.channel == dm_channel(BOB) and entry.user_id == "bob"
    assert entry.kind == "direct" and "3 cards are due" in entry.text


async def test_a_dm_is_printed_marked_for_its_person(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        session.flush()
        await session.outbound.send_direct(
            DirectRef("console", "local", "alice"),
            OutMessage(tone="info", body="2 cards are due"), idempotency_key="n1")
        shown = session.flush()
        assert len(shown) == 1
        assert "(direct message to alice)" in shown[0] and "2 cards are due" in shown[0]


def test_an_attachment_is_shown_by_its_alt_text_in_both_forms() -> None:
    message = OutMessage(tone="info", title="Mastery", body="words", attachments=(CHART,))
    plain = render(message)
    assert "[mastery.png: Bars: Statistics 80% remembered, SQL 40%.]" in plain
    assert "Statistics 80% remembered" in render(message, terminal=True, width=100)
    assert "\x89PNG" not in plain


async def test_files_are_written_only_when_a_directory_is_set(tmp_path: Path) -> None:
    message = OutMessage(tone="info", body="chart", attachments=(CHART,))
    quiet = ConsoleOutbound()
    await quiet.send_direct(BOB, message, idempotency_key="a")
    assert quiet.saved == []
    out = ConsoleOutbound(files_dir=tmp_path / "files")
    message_id = await out.send_direct(BOB, message, idempotency_key="a")
    await out.send_direct(BOB, message, idempotency_key="a")  # the same DM: no second file
    assert out.saved == [tmp_path / "files" / f"{message_id}-mastery.png"]
    assert out.saved[0].read_bytes() == PNG


def test_file_names_from_the_core_never_leave_the_directory() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("a b/c.png") == "a_b_c.png"
    assert safe_name("...") == "file"
    assert "/" not in safe_name("/" * 300) and len(safe_name("x" * 300)) == 80


async def test_a_reply_attachment_is_saved_and_named_in_the_reply(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        session.outbound.files_dir = tmp_path / "files"
        text = session._reply_text(Reply("ephemeral", OutMessage(
            tone="info", body="your topics", attachments=(CHART,))))
        assert text.startswith("(only alice sees this)")
        assert "[mastery.png: Bars:" in text
        saved = list((tmp_path / "files").iterdir())
        assert len(saved) == 1 and saved[0].read_bytes() == PNG
        assert f"(saved {saved[0]})" in text


async def test_press_presses_a_button_of_the_last_message_with_buttons(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db") as session:
        out = "\n".join(await session.run_line("press Good"))
        assert session.refused and "Nothing to press" in out
        await session.run_line("/qotd schedule")
        await session.run_line("/qotd post")
        posted = session.outbound.posts()[-1].message
        assert posted is not None
        assert not posted.choices  # the built-in bank starts with an open question
        answer = "\n".join(await session.run_line("/answer"))
        assert "[Good]" in answer
        out = "\n".join(await session.run_line("press nope"))
        assert session.refused and "No button 'nope'" in out and "Good" in out
        out = "\n".join(await session.run_line("press good"))
        assert not session.refused and "Recorded your grade: Good" in out, out


def test_the_files_directory_comes_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QOTD_CONSOLE_FILES", raising=False)
    assert files_dir() is None
    monkeypatch.setenv("QOTD_CONSOLE_FILES", "  ")
    assert files_dir() is None
    monkeypatch.setenv("QOTD_CONSOLE_FILES", str(tmp_path))
    assert files_dir() == tmp_path
