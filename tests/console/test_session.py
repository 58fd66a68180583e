"""The console language against a real core on a temporary SQLite database."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console.language import help_text
from adapters.console.outbound import ConsoleOutbound
from adapters.console.plugin import interact
from adapters.console.session import Session, UnknownLine, parse_duration
from bot.app import Core
from bot.cli_core import prepare
from bot.clock import FakeClock
from bot.settings import CoreSettings

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2027, 1, 4, 7, tzinfo=UTC)  # Monday 08:00 in Berlin


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    clock = FakeClock(START)
    settings = CoreSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
                            bank_dir=str(ROOT / "examples" / "bank"))
    core: Core = await prepare(settings, clock=clock, use_scheduler=False)
    outbound = ConsoleOutbound()
    core.router.register("console", outbound)
    await core.start()
    try:
        yield Session(core, outbound, user="alice", clock=clock, admins={"alice"})
    finally:
        await core.stop()


async def test_command_lines_become_command_inputs(session: Session) -> None:
    cmd = session.command_input(
        "qotd", 'schedule time:09:00 timezone:"America/New_York" days:mon,wed'
    )
    assert (cmd.name, cmd.subcommand) == ("qotd", "schedule")
    assert dict(cmd.options) == {"time": "09:00", "timezone": "America/New_York",
                                 "days": "mon,wed"}
    assert cmd.actor.user_id == "alice" and cmd.actor.is_admin
    stats = session.command_input("qotd", "stats @Bob")
    assert stats.user is not None and stats.user.user_id == "bob"
    assert dict(session.command_input("answer", "3").options) == {"number": "3"}
    with pytest.raises(UnknownLine):
        session.command_input("leaderboard", "week")  # options are key:value


@pytest.mark.parametrize("line", ["hello", "/frobnicate", "react Z", "advance soon",
                                  "as", "as bob boss", "as @@@", "/", "react", "react yes m1 x",
                                  "grade", "grade Good now", "now please", "advance 400d",
                                  "advance 99999999999999999999d", "/streak @bob @carol",
                                  "/leaderboard period:week period:all"])
async def test_unknown_lines_raise(session: Session, line: str) -> None:
    with pytest.raises(UnknownLine):
        await session.run_line(line)


async def test_comments_blank_help_and_now(session: Session) -> None:
    assert await session.run_line("# a comment") == []
    assert await session.run_line("   ") == []
    assert await session.run_line("help") == [help_text("Deployment")]  # the demo bank's
    assert await session.run_line("now") == ["now: Mon 2027-01-04 07:00 UTC"]


def test_parse_duration() -> None:
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("2h30m") == timedelta(hours=2, minutes=30)
    assert parse_duration("1w 2d") == timedelta(days=9)
    with pytest.raises(UnknownLine, match="2h30m"):
        parse_duration("2x")


async def test_admin_rights_follow_as(session: Session) -> None:
    await session.run_line("as bob")
    refused = "\n".join(await session.run_line("/qotd post"))
    assert "(only bob sees this)" in refused and "Only channel admins" in refused
    await session.run_line("as bob admin")
    posted = "\n".join(await session.run_line("/qotd post"))
    assert "Question #1" in posted and "Posted question #1" in posted


async def test_post_react_answer_grade_and_advance(session: Session) -> None:
    await session.run_line("/qotd schedule time:09:00 timezone:Europe/Berlin days:mon-fri")
    assert await session.run_line("react yes") == [
        "(only alice sees this)\nNo question has been posted in this console yet: /qotd "
        "post (admins) posts one now; /qotd status says when the next one comes."
    ]
    shown = "\n".join(await session.run_line("advance 1h"))
    assert "[m1] == Question #1 ==" in shown
    assert shown.endswith("now: Mon 2027-01-04 08:00 UTC")
    nothing = "\n".join(await session.run_line("grade good"))
    assert "Nothing to grade" in nothing
    answer = "\n".join(await session.run_line("/answer"))
    assert answer.startswith("(only alice sees this)") and "[Good]" in answer
    wrong = "\n".join(await session.run_line("grade Brilliant"))
    assert "use one of Again, Hard, Good, Easy" in wrong
    graded = "\n".join(await session.run_line("grade Good"))
    assert "Good" in graded and "2 points" in graded  # question #1 is a medium one
    reveal = "\n".join(await session.run_line("advance 8h"))
    assert "[m2 in thread of m1]" in reveal and "1 answered" in reveal


async def test_interactive_loop_reads_until_end_of_input(session: Session) -> None:
    out = io.StringIO()
    await interact(session, stdin=io.StringIO("now\nbogus line\nadvance 1d\n"), out=out)
    text = out.getvalue()
    assert "> now\nnow: Mon 2027-01-04 07:00 UTC" in text
    assert 'unknown command "bogus line"; try help' in text  # the REPL keeps going
    assert "now: Tue 2027-01-05 07:00 UTC" in text
