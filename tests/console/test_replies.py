"""Every console line gets an answer: the README's example and help's examples work on
the built-in bank, a line that cannot count says why (and changes nothing), and a
failure inside one line is logged once and answered, never the end of the REPL."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.console.plugin import first_question, interact
from adapters.console.session import FAILURE_TEXT, Session, UnknownLine
from bot.app import Core
from tests.console.conftest import DEMO_BANK, ROOT, console_session, snapshot


def readme_console_lines() -> list[str]:
    """The `> line`s of the README's "Try it in the console" example."""
    section = (ROOT / "README.md").read_text(encoding="utf-8") \
        .split("## Try it in the console", 1)[1].split("\n## ", 1)[0]
    return [line.strip()[2:] for line in section.splitlines() if line.startswith("    > ")]


def help_examples(help_text: str) -> list[str]:
    """The left column of `help`: examples separated by ` | `, then 3+ spaces and what
    they do (lines that start further in continue a description)."""
    examples: list[str] = []
    for line in help_text.splitlines()[1:]:
        if line.startswith("  ") and not line.startswith("   "):
            column = re.split(r" {3,}", line.strip())[0]
            examples += [part.strip() for part in column.split(" | ")]
    return examples


async def test_the_readme_example_works_on_the_built_in_bank(tmp_path: Path) -> None:
    lines = readme_console_lines()
    assert len(lines) >= 5 and lines[0].startswith("/qotd schedule")
    shown: dict[str, str] = {}
    async with console_session(tmp_path / "c.db") as session:  # `--as alice` on a Monday
        for line in lines:
            blocks = await session.run_line(line)
            out = "\n".join(blocks)
            assert blocks, f"{line!r} got no answer"
            assert FAILURE_TEXT not in out, (line, out)
            if session.refused:  # only a reaction the question does not take, explained
                assert line.startswith("react ") and "does not count: react" in out, out
            shown[line] = out
    # what the example is there to show: a self-grade that scores, on a board
    assert "Recorded your grade: Good" in shown["grade Good"]
    assert "1. bob: " in shown["/leaderboard period:week"]


@pytest.mark.parametrize("bank", [None, DEMO_BANK], ids=["built-in bank", "demo bank"])
async def test_every_help_example_works_as_shown(tmp_path: Path, bank: Path | None) -> None:
    async with console_session(tmp_path / "c.db", bank=bank) as session:
        examples = help_examples((await session.run_line("help"))[0])
        assert len(examples) > 20 and "react yes" in examples
        for line in examples:
            out = "\n".join(await session.run_line(line))
            assert out and not session.refused and FAILURE_TEXT not in out, (line, out)


async def _refused(session: Session, line: str, *expected: str) -> str:
    before = await snapshot(session)
    out = "\n".join(await session.run_line(line))
    assert session.refused, (line, out)
    for part in expected:
        assert part in out, (line, out)
    assert await snapshot(session) == before, line
    return out


async def test_lines_that_cannot_count_say_why_and_change_nothing(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        await _refused(session, "react yes", "No question has been posted", "/qotd post")
        await session.run_line("/qotd schedule days:daily")
        await session.run_line("advance 3h")  # Monday 10:00: question #1 (open) is out
        await _refused(session, "react B", "Question #1 is an open question",
                       "react yes", "react no")
        await _refused(session, "unreact yes", "You have not reacted ✅ on m1")
        await _refused(session, "grade Good", "Nothing to grade", "/answer")
        accepted = "\n".join(await session.run_line("react yes"))
        assert not session.refused and "alice reacted ✅ on m1" in accepted
        await _refused(session, "react yes", "You already reacted ✅ on m1")
        await session.run_line("advance 1d")  # the reveal (m2), then question #2 (choice)
        await _refused(session, "react yes m2", "m2 is not a question",
                       "the latest question is m3")
        await _refused(session, "react no m7", "There is no message m7 here")
        await _refused(session, "react yes", "Question #2 is multiple-choice",
                       "A, B, C", "yes and no are for open questions")
        await _refused(session, "react E", "Question #2 is multiple-choice", "A, B, C")
        await session.run_line("/answer")
        await _refused(session, "grade Good", "Question #2 is multiple-choice",
                       "grades are for open questions")
        await _refused(session, "/answer 99999999999999999999", "number must be")
        await _refused(session, "/qotd topics include:Cooking", "unknown topic")
        practice = "\n".join(await session.run_line("react no m1"))
        assert "practice and scores nothing" in practice and not session.refused


async def _break_the_attempts_table(session: Session) -> None:
    core = session.core
    assert isinstance(core, Core)
    async with core.db.uow() as uow:
        await uow.session.execute(text("DROP TABLE attempts"))
        await uow.commit()


async def test_a_line_that_fails_inside_is_logged_once_and_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        await session.run_line("/qotd post")
        await _break_the_attempts_table(session)
        caplog.set_level(logging.DEBUG, logger="adapters.console")
        out = await session.run_line("/leaderboard period:week scope:channel")
        assert out == [f"(only alice sees this)\n{FAILURE_TEXT}"] and session.refused
        failures = [r for r in caplog.records if r.name.startswith("adapters.console")]
        assert len(failures) == 1 and failures[0].levelno == logging.ERROR
        message = failures[0].getMessage()
        assert message == ("console line failed: command /leaderboard in console/local/"
                           "general by user alice")
        assert failures[0].exc_info is not None  # unexpected: the traceback is kept
        assert await session.run_line("now") == ["now: Mon 2027-01-04 07:00 UTC"]


async def test_an_unknown_line_is_one_quiet_log_line_without_the_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        caplog.set_level(logging.DEBUG, logger="adapters.console")
        with pytest.raises(UnknownLine):
            await session.run_line("dance wildly")
        (record,) = [r for r in caplog.records if r.name.startswith("adapters.console")]
        assert record.levelno == logging.DEBUG and record.exc_info is None
        assert record.getMessage() == "console line refused: unknown line (user alice)"


async def test_the_repl_answers_every_bad_line_and_reads_on(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        await session.run_line("/qotd post")
        await _break_the_attempts_table(session)
        out = io.StringIO()
        lines = ("/answer 99999999999999999999\n/answer ²\n/\nreact\nreact B\n\x00\ufffd\n"
                 "/leaderboard\nnow\n")
        await interact(session, stdin=io.StringIO(lines), out=out)
        text_out = out.getvalue()
        assert text_out.count("number must be a question number") == 2
        assert 'unknown command "/ (a command needs a name' in text_out
        assert 'unknown command "react (use react yes' in text_out
        assert "Question #1 is an open question" in text_out
        assert 'unknown command "\x00\ufffd"' in text_out
        assert FAILURE_TEXT in text_out  # the broken table, answered
        assert text_out.rstrip().endswith("now: Mon 2027-01-04 07:00 UTC")


def _next_posts(text_out: str) -> set[str]:
    return set(re.findall(r"Next post:? (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d)", text_out))


@pytest.mark.parametrize("hour", [7, 10, 20])
async def test_the_first_run_message_and_status_agree_about_the_next_post(
    tmp_path: Path, hour: int
) -> None:
    """At 07:00 on a Monday the default schedule's 09:00 post is still to come, so the
    schedule's reply said "Next post Mon 09:00"; the first-run post then took Monday's
    slot and /qotd status said Tuesday."""
    start = datetime(2027, 1, 4, hour, tzinfo=UTC)
    async with console_session(tmp_path / "c.db", start=start) as session:
        first = "\n".join(await first_question(session))
        assert "== Question #1 ==" in first
        status = "\n".join(await session.run_line("/qotd status"))
        assert _next_posts(first) == _next_posts(status) == {"Tue 2027-01-05 09:00"}
        assert await first_question(session) == []  # once: the channel is scheduled now

