"""Votes, withdrawals, peeking, self-grading and the reveal, through the Core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ButtonInput, ReactionInput
from bot.clock import FakeClock
from tests.conftest import ALICE, BOB, CHANNEL, cmd, make_core, sample_questions, write_bank

CAROL = Actor("u-carol", "@everyone <@&123> Carol")
DAN = Actor("u-dan", "Dan")


async def _post(core: Core, console: ConsoleOutbound, **filters: str) -> str:
    replies = await core.handle_command(cmd("qotd", "topics", **filters))
    assert replies[0].message.tone == "info", replies[0].message.body
    replies = await core.handle_command(cmd("qotd", "post"))
    assert replies[0].message.tone == "info", replies[0].message.body
    return console.posts()[-1].message_id


async def _react(core: Core, who: Actor, message_id: str, key: str, added: bool = True) -> None:
    assert await core.handle_reaction(ReactionInput(who, CHANNEL, message_id, key, added)) == []


async def _attempt(core: Core, user_id: str) -> tuple[str | None, str | None, float] | None:
    async with core.db.uow() as uow:
        user = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, user_id)
        if user is None:
            return None
        channel = await uow.channels.get(
            CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id
        )
        assert channel is not None
        post = await uow.posts.by_number(channel.id, 1)
        assert post is not None
        row = await uow.answers.attempt(post.id, user.id)
        return None if row is None else (row.choice, row.signal, row.points)


async def test_choice_post_shape(core: Core, console: ConsoleOutbound) -> None:
    """Reactions mode: the post carries no answer buttons, and its seed reactions are
    added once it is marked sent (tests/core/test_vote_buttons.py has buttons mode)."""
    await core.handle_command(cmd("qotd", "schedule", answers="reactions"))
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    post = console.posts()[-1].message
    assert post is not None
    assert post.title == "Question #1"
    assert [(f.name, f.value) for f in post.fields] == [("Topic", "Monitoring"),
                                                       ("Difficulty", "Easy")]
    assert [c.key for c in post.choices] == ["A", "B", "C"]
    assert post.reactions == ("A", "B", "C") and post.buttons == ()
    assert "React with the emoji of your option" in post.footer
    [seeded] = [e for e in console.transcript if e.kind == "reactions"]
    assert (seeded.message_id, seeded.keys) == (message_id, ("A", "B", "C"))


async def test_vote_switch_and_withdraw(core: Core, console: ConsoleOutbound,
                                        clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, message_id, "A")
    assert await _attempt(core, ALICE.user_id) == ("A", None, 0.0)
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "B")  # latest reaction counts: correct, easy = 1
    assert await _attempt(core, ALICE.user_id) == ("B", None, 1.0)
    await _react(core, ALICE, message_id, "B", added=False)  # falls back to A, still present
    assert await _attempt(core, ALICE.user_id) == ("A", None, 0.0)
    await _react(core, ALICE, message_id, "A", added=False)  # nothing left: withdrawn
    assert await _attempt(core, ALICE.user_id) is None
    await _react(core, ALICE, message_id, "yes")  # not a key of this question: ignored
    assert await _attempt(core, ALICE.user_id) is None


async def test_reaction_on_unknown_message_is_ignored(core: Core, console: ConsoleOutbound) -> None:
    await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, "not-a-post", "B")
    assert await _attempt(core, ALICE.user_id) is None


async def test_peek_then_vote_scores_nothing(core: Core, console: ConsoleOutbound,
                                            clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, BOB, message_id, "B")  # voted before peeking: keeps the points
    clock.advance(timedelta(minutes=1))
    replies = await core.handle_command(cmd("answer", actor=ALICE))
    reply = replies[0]
    assert reply.visibility == "ephemeral"
    assert "**B.** Population stability index" in reply.message.body
    assert "PSI compares binned distributions." in reply.message.body
    assert "tests/bank-source.md:5" in reply.message.footer
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "B")
    assert await _attempt(core, ALICE.user_id) == ("B", None, 0.0)
    await core.handle_command(cmd("answer", actor=BOB))
    assert await _attempt(core, BOB.user_id) == ("B", None, 1.0)


async def test_peek_then_removing_reactions_scores_nothing(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    """After a peek only the choice held at the peek keeps its points: removing the wrong
    reactions so that an earlier correct vote becomes the effective one is a change."""
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    for key in ("A", "B", "C"):  # correct is B, added before the peek
        await _react(core, ALICE, message_id, key)
    await _react(core, BOB, message_id, "A")
    await _react(core, BOB, message_id, "B")
    clock.advance(timedelta(minutes=1))
    await core.handle_command(cmd("answer", actor=ALICE))
    await core.handle_command(cmd("answer", actor=BOB))
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "C", added=False)  # falls back to B
    assert await _attempt(core, ALICE.user_id) == ("B", None, 0.0)
    await _react(core, ALICE, message_id, "A", added=False)
    assert await _attempt(core, ALICE.user_id) == ("B", None, 0.0)
    await _react(core, BOB, message_id, "A", added=False)  # B was his choice at the peek
    assert await _attempt(core, BOB.user_id) == ("B", None, 1.0)
    await _react(core, BOB, message_id, "C")  # a switch after the peek...
    await _react(core, BOB, message_id, "C", added=False)  # ...is not undone by going back
    assert await _attempt(core, BOB.user_id) == ("B", None, 0.0)
    board = (await core.handle_command(cmd("leaderboard", actor=ALICE)))[0].message.body
    assert "pts" in board and "1 pts" not in board


async def test_first_correct_is_the_earliest_scored_correct_answer(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    posted = clock.now()
    clock.advance(timedelta(minutes=1))
    await core.handle_command(cmd("answer", actor=CAROL))
    await _react(core, CAROL, message_id, "B")  # correct but after peeking: 0 points
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "A")  # alice answers first, but wrong
    clock.advance(timedelta(seconds=30))
    await _react(core, DAN, message_id, "C")
    clock.advance(timedelta(minutes=1))
    await _react(core, DAN, message_id, "B")  # dan is the first to be right
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "B")  # alice switches to right, later
    clock.advance(timedelta(minutes=1))
    await _react(core, DAN, message_id, "C", added=False)  # changes nothing judged
    await _react(core, BOB, message_id, "B")
    await core.advance_to(posted + timedelta(hours=8))
    [thread] = console.threads()
    assert thread.message is not None
    body = thread.message.body
    assert "4 answered, 100% correct." in body
    assert "First correct: Dan" in body


async def test_answer_by_number_and_errors(core: Core, console: ConsoleOutbound) -> None:
    none_yet = await core.handle_command(cmd("answer", actor=ALICE))
    assert none_yet[0].message.tone == "error"
    assert "No question has been posted" in none_yet[0].message.body
    await _post(core, console, include="Monitoring", difficulty="easy")
    missing = await core.handle_command(cmd("answer", actor=ALICE, number="7"))
    assert "no question #7 here; the latest is #1" in missing[0].message.body
    bad = await core.handle_command(cmd("answer", actor=ALICE, number="seven"))
    assert "number must be a question number" in bad[0].message.body
    ok = await core.handle_command(cmd("answer", actor=ALICE, number="#1"))
    assert ok[0].message.title == "Question #1"


async def test_open_question_signals_and_grades(core: Core, console: ConsoleOutbound,
                                                clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Deployment", difficulty="hard")
    post = console.posts()[-1].message
    assert post is not None and post.reactions == ()  # buttons mode, the default
    assert [(b.label, b.action) for b in post.buttons] == [
        ("I knew it", "vote:1:yes"), ("Not yet", "vote:1:no")]
    await _react(core, BOB, message_id, "yes")
    assert await _attempt(core, BOB.user_id) == (None, "yes", 3.0)
    replies = await core.handle_command(cmd("answer", actor=ALICE))
    actions = [b.action for b in replies[0].message.buttons]
    assert [a.rsplit(":", 1)[1] for a in actions] == ["again", "hard", "good", "easy"]
    clock.advance(timedelta(minutes=1))
    graded = await core.handle_button(ButtonInput(ALICE, CHANNEL, actions[1]))
    assert "Recorded your grade: Hard (1.5 points)" in graded[0].message.body
    assert await _attempt(core, ALICE.user_id) == (None, "hard", 1.5)
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "no")  # a later signal replaces the grade
    assert await _attempt(core, ALICE.user_id) == (None, "no", 0.0)
    bogus = await core.handle_button(ButtonInput(ALICE, CHANNEL, "grade:1:superb"))
    assert "Unknown grade 'superb'" in bogus[0].message.body
    async with core.db.uow() as uow:
        from sqlalchemy import select

        from storage.models import GradeRow

        grades = (await uow.session.scalars(select(GradeRow.grade))).all()
    assert grades == ["hard"]


async def test_reveal_results_and_practice_after(core: Core, console: ConsoleOutbound,
                                                 clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    posted = clock.now()
    clock.advance(timedelta(minutes=5))
    await _react(core, CAROL, message_id, "B")
    clock.advance(timedelta(minutes=5))
    await _react(core, ALICE, message_id, "B")
    await _react(core, BOB, message_id, "C")
    await core.advance_to(posted + timedelta(hours=8) - timedelta(seconds=1))
    assert console.threads() == []
    await core.advance_to(posted + timedelta(hours=8))
    [thread] = console.threads()
    assert thread.parent_id == message_id
    assert thread.message is not None
    body = thread.message.body
    assert "3 answered, 67% correct." in body
    assert "- A: 0\n- B ✓: 2\n- C: 1" in body
    assert "First correct: @\u200beveryone <@\u200b&123> Carol" in body
    assert "@everyone" not in body
    clock.advance(timedelta(minutes=1))
    await _react(core, BOB, message_id, "B")  # after the reveal: the scored vote stands
    assert await _attempt(core, BOB.user_id) == ("C", None, 0.0)
    await core.advance_to(posted + timedelta(days=1, hours=1))
    assert len(console.threads()) == 1  # revealed once


async def test_reveal_hours_per_channel(core: Core, console: ConsoleOutbound,
                                        clock: FakeClock) -> None:
    bad = await core.handle_command(cmd("qotd", "schedule", reveal="30"))
    assert "reveal must be a whole number of hours from 1 to 23" in bad[0].message.body
    ok = await core.handle_command(cmd("qotd", "schedule", reveal="2"))
    assert "revealed 2 h after" in ok[0].message.body
    start = clock.now()
    await core.advance_to(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    assert len(console.posts()) == 1 and start < clock.now()
    await core.advance_to(datetime(2027, 3, 1, 11, 0, tzinfo=UTC))
    assert len(console.threads()) == 1


async def test_near_duplicates_count_once_and_show_as_see_also(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    questions = sample_questions()
    skew, drift = questions[2], questions[1]  # Monitoring: open skew, choice drift
    bank = tmp_path / "merged-bank"
    bank.mkdir()
    write_bank(bank, questions)
    (bank / "overrides.yaml").write_text(f"merge:\n  - [{skew.id}, {drift.id}]\n")
    console = ConsoleOutbound()
    core = await make_core(migrated_url, bank, clock, console)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "topics", reset="yes"))
        status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
        assert "Questions left in cycle 1: 5" in status  # six questions, five groups
        await core.handle_command(cmd("qotd", "topics", include="Monitoring"))
        status = (await core.handle_command(cmd("qotd", "status")))[0].message.body
        assert "Questions left in cycle 1: 1" in status
        await core.handle_command(cmd("qotd", "post"))
        reply = (await core.handle_command(cmd("answer", actor=ALICE)))[0].message.body
        shown = console.posts()[-1].message
        assert shown is not None
        other = drift if shown.body == skew.prompt else skew
        assert f"**See also**\n- {other.prompt}" in reply
        await core.advance_to(clock.now() + timedelta(hours=9))
        [thread] = console.threads()
        assert thread.message is not None
        assert f"**See also**\n- {other.prompt}" in thread.message.body
    finally:
        await core.stop()
