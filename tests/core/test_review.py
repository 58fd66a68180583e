"""Personal review through the Core: cards from answers, the /review session and its
buttons (stale, forged, across a restart), status, add without spoilers, forget,
mastery, and the mastery lines of /qotd stats."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import Actor, ButtonInput, ReactionInput, Reply, UserRef
from bot.clock import FakeClock
from bot.rules.review import parse_action
from bot.service.review import sync_user
from storage.models import AttemptRow, CardRow, ReviewLogRow, ReviewResetRow
from tests.conftest import ALICE, BOB, CHANNEL, cmd, make_core

CAROL = Actor("u-carol", "@everyone Carol")


async def _post(core: Core, console: ConsoleOutbound, **filters: str) -> str:
    if filters:
        replies = await core.handle_command(cmd("qotd", "topics", **filters))
        assert replies[0].message.tone == "info", replies[0].message.body
    replies = await core.handle_command(cmd("qotd", "post"))
    assert replies[0].message.tone == "info", replies[0].message.body
    return console.posts()[-1].message_id


async def _react(core: Core, who: Actor, message_id: str, key: str, added: bool = True) -> None:
    assert await core.handle_reaction(ReactionInput(who, CHANNEL, message_id, key, added)) == []


async def _press(core: Core, who: Actor, action: str) -> Reply:
    [reply] = await core.handle_button(ButtonInput(who, CHANNEL, action, message_id="m-x"))
    return reply


async def _logs(core: Core, user_id: str) -> list[tuple[int, str, int | None]]:
    """(rating, source, attempt id) of the person's review logs, in time order."""
    async with core.db.uow() as uow:
        user = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, user_id)
        assert user is not None
        rows = await uow.session.execute(
            select(ReviewLogRow.rating, ReviewLogRow.source, ReviewLogRow.attempt_id)
            .join(CardRow, CardRow.id == ReviewLogRow.card_id)
            .where(CardRow.user_pk == user.id)
            .order_by(ReviewLogRow.reviewed_at, ReviewLogRow.id))
        return [(r, s, a) for r, s, a in rows]


async def _attempts(core: Core) -> list[tuple[int, int, float, object]]:
    async with core.db.uow() as uow:
        rows = await uow.session.execute(
            select(AttemptRow.post_id, AttemptRow.user_pk, AttemptRow.points,
                   AttemptRow.updated_at).order_by(AttemptRow.id))
        return [(p, u, pts, at) for p, u, pts, at in rows]


async def _count(core: Core, model: type[CardRow] | type[ReviewLogRow]) -> int:
    async with core.db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def _review(core: Core, who: Actor = ALICE, sub: str | None = None,
                  **options: str) -> Reply:
    [reply] = await core.handle_command(cmd("review", sub, actor=who, **options))
    return reply


async def _two_missed(core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    """Alice gets the choice question (Monitoring, easy: B is right) wrong and says ❌
    to an open one (Deployment, hard); both cards are due a minute later."""
    choice = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, choice, "A")
    clock.advance(timedelta(minutes=1))
    open_post = await _post(core, console, include="Deployment", difficulty="hard")
    await _react(core, ALICE, open_post, "no")
    clock.advance(timedelta(minutes=15))


def _actions(reply: Reply) -> dict[str, str]:
    return {b.label: b.action for b in reply.message.buttons}


async def test_switching_a_vote_rerates_the_same_review(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, message_id, "A")  # wrong
    status = await _review(core, sub="status")
    assert status.visibility == "ephemeral"
    assert "Cards: 1 (1 new" in status.message.body
    assert "Reviews in the last 7 days: 1" in status.message.body
    [(rating, source, attempt)] = await _logs(core, ALICE.user_id)
    assert (rating, source) == (1, "attempt") and attempt is not None  # Again
    clock.advance(timedelta(minutes=1))
    await _react(core, ALICE, message_id, "B")  # switched to the right one
    await _review(core, sub="status")
    assert await _logs(core, ALICE.user_id) == [(3, "attempt", attempt)]  # Good, same log
    async with core.db.uow() as uow:
        [card] = (await uow.session.scalars(select(CardRow))).all()
        assert card.reviews == 1 and card.source == "attempt"
        assert await sync_user(uow, card.user_pk, clock.now()) == 0  # nothing changed
    # withdrawn: the review stays as one that happened
    await _react(core, ALICE, message_id, "A", added=False)
    await _react(core, ALICE, message_id, "B", added=False)
    await _review(core, sub="status")
    assert await _logs(core, ALICE.user_id) == [(3, "attempt", None)]


async def test_only_the_persons_own_answers_make_their_cards(
        core: Core, console: ConsoleOutbound) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, BOB, message_id, "B")
    reply = await _review(core, ALICE)
    assert "No review cards yet" in reply.message.body
    assert await _count(core, CardRow) == 0  # Alice's read made nothing for Bob
    reply = await _review(core, BOB, "status")
    assert "Cards: 1" in reply.message.body


async def test_session_rates_and_moves_to_the_next_card(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    await _two_missed(core, console, clock)
    before = await _attempts(core)
    first = await _review(core)
    assert first.visibility == "ephemeral"
    assert first.message.title == "Review"
    assert "Which metric detects data drift" in first.message.body
    assert [c.key for c in first.message.choices] == ["A", "B", "C"]
    assert first.message.reactions == ()
    assert "1 more due" in first.message.footer
    buttons = _actions(first)
    assert set(buttons) == {"A", "B", "C"}
    assert all(len(a) <= 90 for a in buttons.values())

    second = await _press(core, ALICE, buttons["B"])
    assert second.visibility == "update"
    assert second.message.body.startswith("✅ B was right.")
    assert "How would you roll out a new model version" in second.message.body
    assert set(_actions(second)) == {"Show answer"}

    shown = await _press(core, ALICE, _actions(second)["Show answer"])
    assert shown.visibility == "update"
    assert "Shadow, then canary" in shown.message.body
    assert list(_actions(shown)) == ["Again", "Hard", "Good", "Easy"]

    done = await _press(core, ALICE, _actions(shown)["Easy"])
    assert done.visibility == "update"
    assert done.message.body.startswith("Rated Easy.")
    assert "All done — next card due" in done.message.body
    assert "your time (UTC)" in done.message.body
    assert [(r, s) for r, s, _ in await _logs(core, ALICE.user_id)] == [
        (1, "attempt"), (1, "attempt"), (3, "review"), (4, "review")]
    status = await _review(core, sub="status")
    assert "Due now: 0" in status.message.body
    # reviews are private practice: the channel's attempts and points are untouched
    assert await _attempts(core) == before


async def test_a_stale_press_rates_nothing(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    await _two_missed(core, console, clock)
    first = await _review(core)
    press = _actions(first)["C"]
    await _press(core, ALICE, press)
    logs = await _logs(core, ALICE.user_id)
    again = await _press(core, ALICE, press)  # the same button, pressed twice
    assert again.visibility == "update"
    assert again.message.body.startswith("That card was already rated")
    assert "How would you roll out" in again.message.body  # the current next card
    assert await _logs(core, ALICE.user_id) == logs


async def test_a_forged_press_is_refused_and_writes_nothing(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    await _two_missed(core, console, clock)
    await _review(core, BOB, "status")  # Bob is known but has no cards
    first = await _review(core)
    action = _actions(first)["B"]
    logs = await _logs(core, ALICE.user_id)
    refused = await _press(core, BOB, action)  # someone else's card
    assert refused.message.tone == "error" and "not yours" in refused.message.body
    refused = await _press(core, CAROL, action)  # never seen at all
    assert refused.message.tone == "error"
    parsed = parse_action(action)
    assert parsed is not None
    for forged in (f"rv:c:{parsed.target}:{parsed.reviews}:Z", "rv:c:x:0:B",
                   f"rv:c:{parsed.target + 100}:0:B", f"rv:sh:{parsed.target + 100}",
                   f"rv:fg:{parsed.target + 100}"):
        refused = await _press(core, ALICE, forged)
        assert refused.message.tone == "error", forged
    assert await _logs(core, ALICE.user_id) == logs
    assert await _count(core, CardRow) == 2


async def test_buttons_keep_working_after_a_restart(
        migrated_url: str, bank_dir: Path, clock: FakeClock) -> None:
    console = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, console)
    await core.start()
    try:
        await _two_missed(core, console, clock)
        first = await _review(core)
    finally:
        await core.stop()
    again = await make_core(migrated_url, bank_dir, clock, ConsoleOutbound())
    await again.start()
    try:
        second = await _press(again, ALICE, _actions(first)["B"])
        assert second.message.body.startswith("✅ B was right.")
        assert (await _press(again, ALICE, _actions(first)["B"])).message.body.startswith(
            "That card was already rated")
    finally:
        await again.stop()


async def test_a_missed_question_comes_back_and_an_easy_one_waits(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    """Monday: Alice gets a choice question wrong and grades herself Easy on an open
    one. The missed one is due again within a day; the Easy one not for days."""
    choice = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, choice, "A")
    clock.advance(timedelta(minutes=1))
    await _post(core, console, include="Deployment", difficulty="hard")
    [answer] = await core.handle_command(cmd("answer", actor=ALICE))
    easy = {b.label.lower(): b.action for b in answer.message.buttons}
    [graded] = await core.handle_button(ButtonInput(ALICE, CHANNEL, easy["easy"]))
    assert graded.message.tone != "error", graded.message.body
    monday = clock.now()
    for later, due in ((timedelta(hours=23), 1), (timedelta(days=3), 1),
                       (timedelta(days=9), 2)):
        clock.set(monday + later)
        status = await _review(core, sub="status")
        assert f"Due now: {due}" in status.message.body, (later, status.message.body)


async def test_add_takes_no_question_still_to_be_posted(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    message_id = await _post(core, console)  # no filters: every topic is in the cycle
    await _react(core, ALICE, message_id, "yes")
    await _react(core, ALICE, message_id, "A")
    reply = await _review(core, sub="add", topic="deployment", count="3")
    assert reply.visibility == "ephemeral"
    assert "Added 0 cards from Deployment" in reply.message.body
    assert "still to be posted in your channels" in reply.message.body
    # once the channel no longer posts Deployment, its questions are fair game
    await core.handle_command(cmd("qotd", "topics", exclude="Deployment"))
    reply = await _review(core, sub="add", topic="Deployment", count="3")
    assert "Added 2 cards from Deployment" in reply.message.body
    assert "You asked for 3" in reply.message.body
    again = await _review(core, sub="add", topic="Deployment", count="1")
    assert "Added 0 cards" in again.message.body and "already have" in again.message.body
    status = await _review(core, sub="status")
    assert "Due now: 2" in status.message.body or "Due now: 3" in status.message.body


async def test_add_refuses_bad_options_with_the_valid_choices(core: Core) -> None:
    reply = await _review(core, sub="add", topic="Cooking", count="21")
    assert reply.message.tone == "error"
    assert "valid topics: Deployment, Features, Monitoring" in reply.message.body
    assert "count must be a whole number from 1 to 20" in reply.message.body
    reply = await _review(core, sub="status", topic="Features")
    assert reply.message.tone == "error" and "takes no option" in reply.message.body
    reply = await _review(core, sub="later")
    assert reply.message.tone == "error" and "unknown subcommand" in reply.message.body


async def test_forget_deletes_after_the_confirm_button(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    await _two_missed(core, console, clock)
    asked = await _review(core, sub="forget")
    assert "deletes your 2 review cards" in asked.message.body
    assert await _count(core, CardRow) == 2  # nothing deleted yet
    [confirm] = asked.message.buttons
    refused = await _press(core, BOB, confirm.action)
    assert refused.message.tone == "error"
    done = await _press(core, ALICE, confirm.action)
    assert done.visibility == "update"
    assert "Deleted 2 cards, 2 review logs" in done.message.body
    assert await _count(core, CardRow) == 0 and await _count(core, ReviewLogRow) == 0
    status = await _review(core, sub="status")  # the old answers make no cards again
    assert "Cards: 0" in status.message.body
    async with core.db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReviewResetRow)) == 1
    clock.advance(timedelta(minutes=1))
    message_id = await _post(core, console, include="Features", difficulty="easy")
    await _react(core, ALICE, message_id, "yes")  # a new answer makes a new card
    status = await _review(core, sub="status")
    assert "Cards: 1" in status.message.body


async def test_status_share_posts_a_safe_public_line(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, CAROL, message_id, "B")
    status = await _review(core, CAROL, "status")
    [share] = status.message.buttons
    refused = await _press(core, ALICE, share.action)
    assert refused.message.tone == "error"
    shared = await _press(core, CAROL, share.action)
    assert shared.visibility == "public"
    assert "@everyone" not in shared.message.body
    assert "1 card" in shared.message.body


async def test_mastery_text_chart_and_stats_lines(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    await _two_missed(core, console, clock)
    reply = (await core.handle_command(cmd("mastery", actor=ALICE)))[0]
    assert reply.visibility == "ephemeral"
    body = reply.message.body
    assert "- Deployment: 1 card, " in body and "- Monitoring: 1 card, " in body
    assert "`/review add topic:" in body
    [chart] = reply.message.attachments
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and chart.alt_text
    stats = (await core.handle_command(cmd("qotd", "stats", actor=ALICE)))[0]
    assert "Mastery by topic" in stats.message.body
    # someone else's stats never show their mastery: it is private
    about_alice = replace(cmd("qotd", "stats", actor=BOB),
                          user=UserRef(ALICE.user_id, ALICE.display_name))
    other = await core.handle_command(about_alice)
    assert other[0].message.tone == "info", other[0].message.body
    assert "Attempts: 2" in other[0].message.body  # her public stats, without mastery
    assert "Mastery by topic" not in other[0].message.body
    assert "remembered" not in other[0].message.body


async def test_remind_is_routed_and_its_zone_names_the_next_due_time(
        core: Core, console: ConsoleOutbound, clock: FakeClock) -> None:
    message_id = await _post(core, console, include="Monitoring", difficulty="easy")
    await _react(core, ALICE, message_id, "B")  # right: Good, due again in minutes
    set_reply = await _review(core, sub="remind", time="08:30", timezone="Europe/Berlin")
    assert set_reply.visibility == "ephemeral"
    assert set_reply.message.tone == "info", set_reply.message.body
    bad = await _review(core, sub="remind", time="25:99")
    assert bad.message.tone == "error"
    done = await _review(core)  # the card is not due yet
    assert "All done — next card due" in done.message.body
    assert "your time (Europe/Berlin)" in done.message.body
    asked = await _review(core, sub="forget")
    gone = await _press(core, ALICE, asked.message.buttons[0].action)
    assert "and your daily reminder" in gone.message.body


async def test_add_spares_the_channel_asked_in_without_any_answer(
        core: Core, console: ConsoleOutbound) -> None:
    await _post(core, console)  # the channel exists and has a cycle; Bob never answered
    reply = await _review(core, BOB, "add", topic="Deployment", count="2")
    assert "Added 0 cards" in reply.message.body
    assert "still to be posted" in reply.message.body
