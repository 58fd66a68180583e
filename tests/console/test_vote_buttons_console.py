"""The console shows a post's answer buttons and `press LABEL` taps them (issue 16): a
private vote, switched and withdrawn; reactions mode shows the bot's reactions instead."""

from __future__ import annotations

from pathlib import Path

from tests.console.conftest import DEMO_BANK, console_session, snapshot


async def test_press_votes_privately_on_the_latest_question(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        await session.run_line("/qotd schedule days:daily")
        await session.run_line("advance 3h")  # Monday: #1 (open)
        shown = "\n".join(await session.run_line("advance 1d"))  # the reveal, then #2 (choice)
        assert "[m3] == Question #2 ==" in shown
        assert "  [A] [B] [C]" in shown and "reactions:" not in shown
        assert "Tap the button of your option" in shown
        voted = "\n".join(await session.run_line("press b"))
        assert not session.refused
        assert voted == ("(only alice sees this)\n== Question #2 ==\n"
                         "You chose **B** — you can change it until the reveal.")
        await session.run_line("as bob")
        assert "You chose **A**" in "\n".join(await session.run_line("press A"))
        withdrawn = "\n".join(await session.run_line("press A"))
        assert withdrawn.startswith("(only bob sees this)") and "withdrew your vote **A**" \
            in withdrawn
        # a member's own reaction still counts in buttons mode
        reacted = "\n".join(await session.run_line("react C"))
        assert not session.refused and "bob reacted C on m3" in reacted
        before = await snapshot(session)
        missing = "\n".join(await session.run_line("press Z"))
        assert session.refused and "Nothing to press" in missing
        assert "The latest question's buttons: A, B, C." in missing
        assert await snapshot(session) == before
        shown = "\n".join(await session.run_line("advance 1d"))
        assert "2 answered, 50% correct." in shown  # alice B by button, bob C by reaction


async def test_open_question_buttons_and_the_review_buttons_live_together(
        tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        await session.run_line("/qotd schedule days:daily")
        shown = "\n".join(await session.run_line("advance 3h"))  # #1, an open question
        assert "  [I knew it] [Not yet]" in shown
        knew = "\n".join(await session.run_line("press I knew it"))
        assert "You chose **I knew it**" in knew
        answer = "\n".join(await session.run_line("/answer"))
        assert "[Again] [Hard] [Good] [Easy]" in answer
        # the /answer reply's buttons and the post's both answer `press`
        assert "Recorded your grade: Good" in "\n".join(await session.run_line("press Good"))
        assert "You chose **Not yet**" in "\n".join(await session.run_line("press not yet"))


async def test_reactions_mode_shows_the_bots_reactions(tmp_path: Path) -> None:
    async with console_session(tmp_path / "c.db", bank=DEMO_BANK) as session:
        saved = "\n".join(await session.run_line(
            "/qotd schedule days:daily answers:reactions"))
        assert "Answers: reactions" in saved
        shown = "\n".join(await session.run_line("advance 3h"))
        assert "  reactions: ✅ ❌" in shown and "[I knew it]" not in shown
        assert "react ✅ if you knew it" in shown
        assert "Nothing to press" in "\n".join(await session.run_line("press I knew it"))
        assert session.refused
        assert "alice reacted ✅" in "\n".join(await session.run_line("react yes"))
        status = "\n".join(await session.run_line("/qotd status"))
        assert "Answers: reactions" in status
