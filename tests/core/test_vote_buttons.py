"""Answering with buttons (issue 16), through the Core: the post's shape in each mode,
votes by button (choose, switch, withdraw, peeks, the reveal), forged actions, the
reactions mode's seeding after mark-sent, and the `answers` option of `qotd schedule`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import (
    Actor,
    ButtonInput,
    ChannelRef,
    OutMessage,
    ReactionInput,
    Reply,
    vote_action,
)
from bot.clock import FakeClock
from storage.models import ChannelRow, PostRow, ReactionRow
from storage.repositories import SENT
from storage.uow import Database
from tests.conftest import ALICE, BOB, CHANNEL, cmd, make_core

OTHER = ChannelRef("console", "ws1", "c2")


async def _post(core: Core, console: ConsoleOutbound, *, channel: ChannelRef = CHANNEL,
                include: str = "Monitoring", difficulty: str = "easy") -> int:
    """Posts a question (by default the easy Monitoring choice one: A/B/C, key B, 1 point)
    and returns its post id."""
    replies = await core.handle_command(cmd("qotd", "topics", channel=channel,
                                            include=include, difficulty=difficulty))
    assert replies[0].message.tone == "info", replies[0].message.body
    replies = await core.handle_command(cmd("qotd", "post", channel=channel))
    assert replies[0].message.tone == "info", replies[0].message.body
    async with core.db.uow() as uow:
        row = await uow.channels.get(channel.platform, channel.workspace_id,
                                     channel.channel_id)
        assert row is not None
        post = await uow.posts.latest_sent(row.id)
        assert post is not None
        return post.id


async def _press(core: Core, who: Actor, post_id: int, key: str,
                 channel: ChannelRef = CHANNEL) -> Reply:
    [reply] = await core.handle_button(ButtonInput(who, channel, vote_action(post_id, key)))
    return reply


async def _attempt(core: Core, post_id: int, user_id: str
                   ) -> tuple[str | None, str | None, float] | None:
    async with core.db.uow() as uow:
        user = await uow.users.find(CHANNEL.platform, CHANNEL.workspace_id, user_id)
        if user is None:
            return None
        row = await uow.answers.attempt(post_id, user.id)
        return None if row is None else (row.choice, row.signal, row.points)


async def _reaction_keys(core: Core, post_id: int) -> list[str]:
    async with core.db.uow() as uow:
        rows = await uow.session.scalars(select(ReactionRow.key)
                                         .where(ReactionRow.post_id == post_id)
                                         .order_by(ReactionRow.id))
        return list(rows)


async def _counts(core: Core) -> tuple[int, ...]:
    """Rows of every table a vote could write."""
    from storage.models import AttemptRow, UserRow

    async with core.db.uow() as uow:
        return tuple([
            await uow.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (UserRow, ReactionRow, AttemptRow)
        ])


# -- the post ------------------------------------------------------------------------------


async def test_a_choice_post_in_buttons_mode(core: Core, console: ConsoleOutbound) -> None:
    post_id = await _post(core, console)
    [entry] = console.posts()
    post = entry.message
    assert post is not None
    assert [(b.label, b.action, b.style) for b in post.buttons] == [
        (k, f"vote:{post_id}:{k}", "secondary") for k in "ABC"]
    assert [c.key for c in post.choices] == ["A", "B", "C"]  # the options' text stays
    assert post.reactions == ()
    assert "Tap the button of your option" in post.footer
    assert "change it until the reveal" in post.footer
    # one request: nothing is seeded
    assert [e.kind for e in console.transcript] == ["post"]
    assert "[A] [B] [C]" in entry.text and "reactions:" not in entry.text


async def test_an_open_post_in_buttons_mode(core: Core, console: ConsoleOutbound) -> None:
    post_id = await _post(core, console, include="Deployment", difficulty="hard")
    post = console.posts()[-1].message
    assert post is not None and post.choices == () and post.reactions == ()
    assert [(b.label, b.action, b.style) for b in post.buttons] == [
        ("I knew it", f"vote:{post_id}:yes", "success"),
        ("Not yet", f"vote:{post_id}:no", "secondary")]
    assert "I knew it or Not yet" in post.footer


# -- votes by button -----------------------------------------------------------------------


async def test_vote_switch_and_withdraw_by_button(core: Core, console: ConsoleOutbound,
                                                  clock: FakeClock) -> None:
    post_id = await _post(core, console)
    chose = await _press(core, ALICE, post_id, "A")
    assert chose.visibility == "ephemeral" and chose.message.tone == "info"
    assert chose.message.body == "You chose **A** — you can change it until the reveal."
    assert await _attempt(core, post_id, ALICE.user_id) == ("A", None, 0.0)
    clock.advance(timedelta(minutes=1))
    switched = await _press(core, ALICE, post_id, "B")  # the key: easy = 1 point
    assert switched.message.body == "You chose **B** — you can change it until the reveal."
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 1.0)
    assert await _reaction_keys(core, post_id) == ["B"]  # one vote, not a pile of keys
    withdrawn = await _press(core, ALICE, post_id, "B")  # the chosen one again: withdrawn
    assert withdrawn.visibility == "ephemeral"
    assert "withdrew your vote **B**" in withdrawn.message.body
    assert await _attempt(core, post_id, ALICE.user_id) is None
    assert await _reaction_keys(core, post_id) == []
    again = await _press(core, ALICE, post_id, "B")  # and a vote again after that
    assert again.message.body.startswith("You chose **B**")
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 1.0)
    # the vote shows nowhere public: no reaction, no message in the channel
    assert [e.kind for e in console.transcript] == ["post"]


async def test_open_question_by_button(core: Core, console: ConsoleOutbound,
                                       clock: FakeClock) -> None:
    post_id = await _post(core, console, include="Deployment", difficulty="hard")
    knew = await _press(core, BOB, post_id, "yes")
    assert knew.message.body.startswith("You chose **I knew it** — you can change it")
    assert await _attempt(core, post_id, BOB.user_id) == (None, "yes", 3.0)
    clock.advance(timedelta(minutes=1))
    await _press(core, BOB, post_id, "no")
    assert await _attempt(core, post_id, BOB.user_id) == (None, "no", 0.0)
    took_back = await _press(core, BOB, post_id, "no")
    assert "took back **Not yet**" in took_back.message.body
    assert await _attempt(core, post_id, BOB.user_id) is None
    # a self-grade later than the button wins, as it does over a reaction
    await _press(core, BOB, post_id, "yes")
    [answer] = await core.handle_command(cmd("answer", actor=BOB))
    clock.advance(timedelta(minutes=1))
    hard = next(b.action for b in answer.message.buttons if b.label == "Hard")
    await core.handle_button(ButtonInput(BOB, CHANNEL, hard))
    assert await _attempt(core, post_id, BOB.user_id) == (None, "hard", 1.5)


async def test_a_peek_before_a_button_vote_scores_nothing(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    post_id = await _post(core, console)
    await _press(core, BOB, post_id, "B")  # voted before peeking: keeps the point
    clock.advance(timedelta(minutes=1))
    await core.handle_command(cmd("answer", actor=ALICE))
    await core.handle_command(cmd("answer", actor=BOB))
    clock.advance(timedelta(minutes=1))
    late = await _press(core, ALICE, post_id, "B")
    assert "scores nothing" in late.message.body
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 0.0)
    assert await _attempt(core, post_id, BOB.user_id) == ("B", None, 1.0)
    await _press(core, BOB, post_id, "C")  # a switch after his peek...
    await _press(core, BOB, post_id, "B")  # ...is not undone by going back
    assert await _attempt(core, post_id, BOB.user_id) == ("B", None, 0.0)


async def test_a_members_own_reaction_still_counts_and_a_button_replaces_it(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    post_id = await _post(core, console)
    [entry] = console.posts()
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, entry.message_id, "A", True))
    assert await _attempt(core, post_id, ALICE.user_id) == ("A", None, 0.0)
    clock.advance(timedelta(minutes=1))
    await _press(core, ALICE, post_id, "A")  # A is her vote: pressing it withdraws it
    assert await _attempt(core, post_id, ALICE.user_id) is None
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, entry.message_id, "C", True))
    clock.advance(timedelta(minutes=1))
    await _press(core, ALICE, post_id, "B")
    assert await _reaction_keys(core, post_id) == ["B"]
    # taking the platform's reaction C off later changes nothing: B stands
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, entry.message_id, "C", False))
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 1.0)


async def test_presses_at_once_end_in_one_vote(core: Core, console: ConsoleOutbound) -> None:
    """One member's presses racing (a double tap, two devices): they apply one after
    the other, so exactly one vote (or none) is left, and the attempt agrees with it."""
    post_id = await _post(core, console)
    for _ in range(5):
        await asyncio.gather(_press(core, ALICE, post_id, "A"), _press(core, ALICE, post_id, "B"),
                             _press(core, ALICE, post_id, "C"))
        keys = await _reaction_keys(core, post_id)
        attempt = await _attempt(core, post_id, ALICE.user_id)
        assert len(keys) <= 1
        assert attempt == ((keys[0], None, 1.0 if keys[0] == "B" else 0.0) if keys else None)


async def test_after_the_reveal_a_button_changes_nothing(
    core: Core, console: ConsoleOutbound, clock: FakeClock
) -> None:
    post_id = await _post(core, console)
    await _press(core, ALICE, post_id, "B")
    await core.advance_to(clock.now() + timedelta(hours=9))
    assert console.threads()  # the reveal is out
    before = await _counts(core)
    for who, key in ((ALICE, "B"), (ALICE, "C"), (BOB, "A")):
        closed = await _press(core, who, post_id, key)
        assert closed.visibility == "ephemeral" and closed.message.tone == "info"
        assert "The answer to question #1 is out" in closed.message.body
        assert "nothing was changed" in closed.message.body
    assert await _counts(core) == before
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 1.0)


async def test_a_forged_vote_for_another_channels_post_is_refused(
    core: Core, console: ConsoleOutbound
) -> None:
    mine = await _post(core, console)
    theirs = await _post(core, console, channel=OTHER)
    before = await _counts(core)
    for action in (vote_action(theirs, "B"),  # a post of c2, pressed in c1
                   vote_action(theirs + 1000, "B"),  # no such post
                   vote_action(mine, "yes"),  # not a key of this question
                   "vote:99999999999:B",  # beyond any id the column holds
                   "vote:1:Z", "vote:x:B", "vote:" + "9" * 19 + ":A"):
        [reply] = await core.handle_button(ButtonInput(ALICE, CHANNEL, action))
        assert reply.visibility == "ephemeral" and reply.message.tone == "error", action
        assert "nothing was changed" in reply.message.body or "not one of mine" in \
            reply.message.body, (action, reply.message.body)
    assert await _counts(core) == before
    # the same press in its own channel counts
    ok = await _press(core, ALICE, theirs, "B", channel=OTHER)
    assert ok.message.body.startswith("You chose **B**")


async def test_a_vote_does_not_touch_the_app_engine(core: Core, console: ConsoleOutbound
                                                    ) -> None:
    """A vote goes through the one-round writer, as a reaction does: not one statement on
    the app's own pool (the unit of work's engine)."""
    post_id = await _post(core, console)
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    if core.db.reactions.engine is core.db.engine and core.db.reactions.mode == "async engine":
        return  # SQLite in memory: one shared engine, nothing to tell apart
    event.listen(core.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await _press(core, ALICE, post_id, "B")
    finally:
        event.remove(core.db.engine.sync_engine, "before_cursor_execute", count)
    assert seen == []
    assert await _attempt(core, post_id, ALICE.user_id) == ("B", None, 1.0)


# -- reactions mode: seeding after mark-sent ---------------------------------------------------


class _Watching(ConsoleOutbound):
    """Notes, at each call, what the database says of the post (sent or not yet)."""

    def __init__(self, fail_seeding: bool = False) -> None:
        super().__init__()
        self.core: Core | None = None
        self.calls: list[tuple[str, str | None]] = []
        self.fail_seeding = fail_seeding

    async def _status(self) -> str | None:
        assert self.core is not None
        async with self.core.db.uow() as uow:
            return await uow.session.scalar(select(PostRow.status).order_by(PostRow.id.desc())
                                            .limit(1))

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        self.calls.append(("post", await self._status()))
        return await super().post(channel, message, idempotency_key=idempotency_key,
                                  resend=resend)

    async def add_reactions(self, channel: ChannelRef, message_id: str,
                            keys: Sequence[str]) -> None:
        self.calls.append(("add_reactions", await self._status()))
        if self.fail_seeding:
            raise ConnectionError("the platform said 429")
        await super().add_reactions(channel, message_id, keys)


async def _watched(url: str, bank: Path, clock: FakeClock, fail: bool = False
                   ) -> tuple[Core, _Watching]:
    outbound = _Watching(fail)
    core = await make_core(url, bank, clock, outbound)
    outbound.core = core
    await core.start()
    return core, outbound


async def test_reactions_mode_seeds_after_the_post_is_marked_sent(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    core, out = await _watched(migrated_url, bank_dir, clock)
    try:
        await core.handle_command(cmd("qotd", "schedule", answers="reactions"))
        await core.handle_command(cmd("qotd", "topics", include="Monitoring",
                                      difficulty="easy"))
        await core.handle_command(cmd("qotd", "post"))
        assert out.calls == [("post", "pending"), ("add_reactions", SENT)]
        [post] = out.posts()
        assert post.message is not None and post.message.buttons == ()
        assert [(e.kind, e.message_id, e.keys) for e in out.transcript] == [
            ("post", post.message_id, ()), ("reactions", post.message_id, ("A", "B", "C"))]
        # the scheduled post seeds the same way (an open one: ✅ ❌)
        await core.handle_command(cmd("qotd", "topics", reset="yes"))
        await core.advance_to(clock.now() + timedelta(days=1, hours=3))
        assert out.calls[2:] == [("post", "pending"), ("add_reactions", SENT)]
    finally:
        await core.stop()


async def test_a_seeding_failure_leaves_the_post_sent(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    core, out = await _watched(migrated_url, bank_dir, clock, fail=True)
    try:
        await core.handle_command(cmd("qotd", "schedule", answers="reactions"))
        await core.handle_command(cmd("qotd", "topics", include="Monitoring",
                                      difficulty="easy"))
        [posted] = await core.handle_command(cmd("qotd", "post"))
        assert posted.message.tone == "info" and "Posted question #1" in posted.message.body
        assert out.calls == [("post", "pending"), ("add_reactions", SENT)]
        [post] = out.posts()
        assert [e.kind for e in out.transcript] == ["post"]  # nothing seeded, nothing resent
        await core.handle_reaction(ReactionInput(ALICE, CHANNEL, post.message_id, "B", True))
        async with core.db.uow() as uow:
            row = await uow.posts.by_message(1, post.message_id)
            assert row is not None and row.status == SENT
            attempt = await _attempt(core, row.id, ALICE.user_id)
        assert attempt == ("B", None, 1.0)
        await core.run_due()  # no pass re-sends it or retries the seeding
        assert len(out.calls) == 2
    finally:
        await core.stop()


async def test_a_start_adds_the_seeds_a_stopped_process_did_not(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """What a crash between mark-sent and the seeding leaves (the post marked "seed
    due"), the next start finds and seeds (its reveal may be out by then: it is seeded
    all the same); one that went out over a day ago is left alone, and a start with
    nothing due sends nothing."""
    core, out = await _watched(migrated_url, bank_dir, clock, fail=True)
    try:
        await core.handle_command(cmd("qotd", "schedule", answers="reactions"))
        await core.handle_command(cmd("qotd", "topics", include="Monitoring",
                                      difficulty="easy"))
        await core.handle_command(cmd("qotd", "post"))
        await core.handle_command(cmd("qotd", "topics", include="Deployment",
                                      difficulty="hard"))
        await core.handle_command(cmd("qotd", "post"))
        [first, second] = out.posts()
    finally:
        await core.stop()

    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            row = await uow.posts.by_message(1, first.message_id)
            assert row is not None and row.seed_due_at is not None
            row.seed_due_at = clock.now() - timedelta(days=2)  # down for two days
            second_row = await uow.posts.by_message(1, second.message_id)
            assert second_row is not None
            second_row.revealed_at = clock.now()  # its answer came out meanwhile
            await uow.commit()
    finally:
        await db.dispose()
    restarted = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, restarted)
    await core.start()
    try:
        assert [(e.kind, e.message_id, e.keys) for e in restarted.transcript] == [
            ("reactions", second.message_id, ("yes", "no"))]
        async with core.db.uow() as uow:
            rows = await uow.session.scalars(select(PostRow.seed_due_at))
            assert list(rows) == [None, None]
    finally:
        await core.stop()
    again = ConsoleOutbound()
    core = await make_core(migrated_url, bank_dir, clock, again)
    await core.start()
    await core.stop()
    assert again.transcript == []


# -- qotd schedule answers: ------------------------------------------------------------------


async def _mode(core: Core, channel: ChannelRef = CHANNEL) -> str | None:
    async with core.db.uow() as uow:
        return await uow.session.scalar(select(ChannelRow.answer_mode).where(
            ChannelRow.channel_id == channel.channel_id))


async def test_schedule_answers_option_and_status(core: Core, console: ConsoleOutbound) -> None:
    [saved] = await core.handle_command(cmd("qotd", "schedule", channel=OTHER, time="10:00"))
    assert "Answers: buttons" in saved.message.body  # the default
    [status] = await core.handle_command(cmd("qotd", "status", channel=OTHER))
    assert "Answers: buttons" in status.message.body
    [saved] = await core.handle_command(cmd("qotd", "schedule", answers="Reactions"))
    assert saved.message.tone == "info" and "Answers: reactions" in saved.message.body
    assert await _mode(core) == "reactions"
    [status] = await core.handle_command(cmd("qotd", "status", actor=ALICE))
    assert "Answers: reactions" in status.message.body
    # left out, it is kept; given again, it changes back
    await core.handle_command(cmd("qotd", "schedule", time="10:00"))
    assert await _mode(core) == "reactions"
    await core.handle_command(cmd("qotd", "schedule", answers="buttons"))
    assert await _mode(core) == "buttons"


async def test_a_bad_answers_value_is_refused_and_nothing_is_written(core: Core) -> None:
    await core.handle_command(cmd("qotd", "schedule", time="08:00", answers="reactions"))
    for options in ({"answers": "emoji"}, {"answers": "emoji", "time": "25:00"},
                    {"answers": "x" * 500}):
        [refusal] = await core.handle_command(cmd("qotd", "schedule", **options))
        assert refusal.message.tone == "error"
        body = refusal.message.body
        if len(options["answers"]) < 100:
            assert "answers must be one of buttons, reactions (got 'emoji')" in body
        if "time" in options:
            assert "time" in body  # every problem in one refusal
    assert await _mode(core) == "reactions"
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id, CHANNEL.channel_id)
        assert row is not None and row.post_time == "08:00"
    [member] = await core.handle_command(cmd("qotd", "schedule", actor=ALICE,
                                             answers="buttons"))
    assert member.message.tone == "error" and "Only channel admins" in member.message.body
    assert await _mode(core) == "reactions"


async def test_the_answers_option_is_declared_for_the_adapters() -> None:
    from bot.service.commands import QOTD, needs_admin

    assert "answers" in QOTD["schedule"].spec.names
    assert needs_admin("qotd", "schedule")


class _Blocking(ConsoleOutbound):
    """add_reactions waits until released (a platform pacing its reactions)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def add_reactions(self, channel: ChannelRef, message_id: str,
                            keys: Sequence[str]) -> None:
        self.entered.set()
        await self.release.wait()
        await super().add_reactions(channel, message_id, keys)


async def _seed_marks(core: Core) -> list[bool]:
    async with core.db.uow() as uow:
        rows = await uow.session.scalars(select(PostRow.seed_due_at).order_by(PostRow.id))
        return [at is not None for at in rows]


async def test_under_the_timer_a_seed_never_holds_the_send(
    migrated_url: str, bank_dir: Path, clock: FakeClock
) -> None:
    """`qotd run` (the timer on): a post is answered as sent while its seeds still wait
    for the platform; stopping then leaves them marked for the next start."""
    from bot.app import build_core
    from bot.settings import CoreSettings

    out = _Blocking()
    core = await build_core(CoreSettings(database_url=migrated_url, bank_dir=str(bank_dir)),
                            clock=clock, use_scheduler=True)
    core.router.register("console", out)
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", answers="reactions"))
        [posted] = await asyncio.wait_for(core.handle_command(cmd("qotd", "post")), 10)
        assert "Posted question #1" in posted.message.body
        await asyncio.wait_for(out.entered.wait(), 5)  # the seeding runs, on its own
        assert await _seed_marks(core) == [True]
        assert core.seeder.in_flight == 1
        out.release.set()
        for _ in range(100):
            if core.seeder.in_flight == 0:
                break
            await asyncio.sleep(0.02)
        assert await _seed_marks(core) == [False]
        assert [e.kind for e in out.transcript] == ["post", "reactions"]
        # a second post whose seeding is cut short by a stop stays marked
        out.release.clear()
        out.entered.clear()
        await core.handle_command(cmd("qotd", "post"))
        await asyncio.wait_for(out.entered.wait(), 5)
    finally:
        await core.stop()
    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            rows = await uow.session.scalars(select(PostRow.seed_due_at).order_by(PostRow.id))
            assert [at is not None for at in rows] == [False, True]
    finally:
        await db.dispose()
