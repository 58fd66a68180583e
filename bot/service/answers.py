"""Votes (reactions), self-grades (buttons) and peeks (/answer), and the attempt they make.

An attempt is always recomputed from what is stored (the reactions still present, the
latest grade, the peek), never patched incrementally, so adding, removing and switching
in any order ends in the same state. Two facts carry history, as removed reactions are
not stored: after a peek, a change of the effective choice taints the attempt for good
(`tainted_by_peek`), and `updated_at` moves only when the judged outcome changes (the
reveal's "first correct" ranks by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot import messages
from bot.boundary import (
    NO,
    OPTION_KEYS,
    YES,
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    ReactionInput,
    Reply,
    error,
)
from bot.rules.inputs import (
    QUESTION_NUMBER_MAX,
    ROW_ID_MAX,
    InputError,
    parse_whole_number,
    problems_of,
    shown,
    whole_number,
)
from bot.rules.scoring import (
    GRADES,
    AttemptFacts,
    Signal,
    is_correct,
    points,
    tainted_by_peek,
)
from bot.service import intake
from bot.service.bank_sync import alternates_of, question_of
from bot.service.deps import Deps
from bot.text import clean_name
from content.model import Question
from storage.models import AttemptRow, PostRow, StrayReactionRow
from storage.repositories import SENT
from storage.uow import UnitOfWork

REACTION_KEYS = frozenset([*OPTION_KEYS, YES, NO])


async def handle_reaction(deps: Deps, raw: ReactionInput) -> list[Reply]:
    """Silent: reactions get no reply (the reveal reports the results).

    A reaction on a message the database does not know, in a channel with a post still
    pending, may be on that post: it reached the platform but its sender died before
    marking it sent. It is kept as a stray and replayed once the post is marked sent.
    Keys that are no answer key at all and malformed ids are dropped at once."""
    reaction = intake.reaction(raw)
    if reaction.key not in REACTION_KEYS or not (
        intake.ids_ok(reaction.channel, reaction.actor.user_id)
        and intake.message_id_ok(reaction.message_id)
    ):
        return []
    now = deps.clock.now()
    ref = reaction.channel
    async with deps.db.uow() as uow:
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        if channel is None:
            return []
        post = await uow.posts.by_message(channel.id, reaction.message_id)
        if post is None:
            if await uow.posts.has_pending(channel.id, lock=True):
                await uow.answers.add_stray(StrayReactionRow(
                    channel_pk=channel.id, message_id=reaction.message_id,
                    user_id=reaction.actor.user_id, display_name=reaction.actor.display_name,
                    is_admin=reaction.actor.is_admin, key=reaction.key, added=reaction.added,
                    at=now,
                ))
                await uow.commit()
                # The post may have been marked sent while this was being stored, after
                # the mark-sent replay had read the strays: count it now, not at the
                # next housekeeping (which may come after the reveal closed the points).
                if await uow.posts.by_message(channel.id, reaction.message_id) is not None:
                    await replay_strays(uow, channel.id, reaction.message_id)
                    await uow.commit()
                return []
            # Nothing pending now, but the post may have been marked sent between the two
            # reads (on SQLite each read outside a write sees the latest commit): look again.
            post = await uow.posts.by_message(channel.id, reaction.message_id)
            if post is None:
                return []
        if await _apply_reaction(uow, post, ref, reaction.actor, reaction.key,
                                 reaction.added, now):
            await uow.commit()
    return []


async def _apply_reaction(uow: UnitOfWork, post: PostRow, ref: ChannelRef, actor: Actor,
                          key: str, added: bool, now: datetime) -> bool:
    """Record one reaction on a sent post and recompute the attempt; False if it is not
    an answer key of this post (nothing written)."""
    if post.status != SENT or post.question_id is None:
        return False
    question = await _question(uow, post)
    valid = question.letters if question.kind == "choice" else (YES, NO)
    if key not in valid:
        return False
    user_pk = await uow.users.upsert(
        ref.platform, ref.workspace_id, actor.user_id, clean_name(actor.display_name), now,
    )
    if added:
        await uow.answers.add_reaction(post.id, user_pk, key, now)
    else:
        await uow.answers.remove_reaction(post.id, user_pk, key)
    await recompute(uow, post, question, user_pk, now)
    return True


async def replay_strays(uow: UnitOfWork, channel_pk: int, message_id: str) -> int:
    """Count the reactions that arrived before the post was known, in their order and at
    their own times, inside the caller's unit of work (the one marking it sent)."""
    strays = await uow.answers.strays(channel_pk, message_id)
    if not strays:
        return 0
    post = await uow.posts.by_message(channel_pk, message_id)
    channel = await uow.channels.by_pk(channel_pk)
    if post is None or channel is None or post.status != SENT:
        return 0
    ref = ChannelRef(channel.platform, channel.workspace_id, channel.channel_id)
    for stray in strays:
        await _apply_reaction(
            uow, post, ref, Actor(stray.user_id, stray.display_name, stray.is_admin),
            stray.key, stray.added, stray.at,
        )
    await uow.answers.drop_strays(channel_pk, message_id)
    return len(strays)


async def replay_matched(uow: UnitOfWork) -> int:
    """Strays whose post was marked sent while they were being stored (a race the
    mark-sent replay cannot see): replayed by the engine's next pass."""
    total = 0
    for channel_pk, message_id in await uow.answers.matched_strays():
        total += await replay_strays(uow, channel_pk, message_id)
    return total


NOT_MINE_TEXT = "That button is not one of mine (or is from an older version)."
NUMBER_FORM = (f"number must be a question number like 12 (digits 0-9, from 1 to "
               f"{QUESTION_NUMBER_MAX:,})")


def parse_grade_action(action: str) -> tuple[int, str] | None:
    """`grade:<post id>:<grade>` as answer_reply writes it, or None. The id is read as
    ASCII digits within the id column's range, so a forged action never reaches the
    database with a number it cannot hold."""
    if len(action) > 90:  # Button.action's limit: nothing longer is ours
        return None
    parts = action.split(":")
    if len(parts) != 3 or parts[0] != "grade":
        return None
    post_id = whole_number(parts[1], low=1, high=ROW_ID_MAX)
    return None if post_id is None else (post_id, parts[2])


async def handle_button(deps: Deps, raw: ButtonInput) -> list[Reply]:
    button = intake.button(raw)
    if not intake.ids_ok(button.channel, button.actor.user_id):
        return [error(intake.BAD_IDS_TEXT)]
    parsed = parse_grade_action(button.action)
    if parsed is None:
        return [error(NOT_MINE_TEXT)]
    post_id, grade = parsed
    if grade not in GRADES:
        return [error(f"Unknown grade {shown(grade)}: use one of {', '.join(GRADES)}.")]
    now = deps.clock.now()
    ref = button.channel
    async with deps.db.uow() as uow:
        post = await uow.posts.get(post_id)
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        if (
            post is None or channel is None or post.channel_pk != channel.id
            or post.status != SENT or post.question_id is None
        ):
            return [error("That question is not in this channel any more.")]
        question = await _question(uow, post)
        if question.kind != "open":
            return [error("Grades are for open questions; vote with a reaction instead.")]
        user_pk = await uow.users.upsert(
            ref.platform, ref.workspace_id, button.actor.user_id, button.actor.display_name, now
        )
        await uow.answers.add_grade(post.id, user_pk, question.id, grade, now)
        attempt = await recompute(uow, post, question, user_pk, now, grade=(grade, now))
        practice = post.revealed_at is not None
        await uow.commit()
    assert attempt is not None
    return [messages.grade_recorded(grade, attempt.points, practice)]


def question_number(options: Mapping[str, str]) -> int | None:
    """The `number` option ("12" or "#12"), None when it is not given (or blank: the
    latest question); InputError when it is not a question number."""
    text = options.get("number", "").strip().removeprefix("#")
    if not text:
        return None
    return parse_whole_number(text, low=1, high=QUESTION_NUMBER_MAX, form=NUMBER_FORM)


async def answer_problems(deps: Deps, command: CommandInput) -> list[str]:
    return problems_of(lambda: question_number(command.options))


async def handle_answer(deps: Deps, command: CommandInput) -> list[Reply]:
    """`answer [number]`: the reference answer, privately; records a peek."""
    try:
        number = question_number(command.options)
    except InputError as exc:
        return [error(str(exc))]
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        post = None
        if channel is not None:
            if number is not None:
                post = await uow.posts.by_number(channel.id, number)
            else:
                post = await uow.posts.latest_sent(channel.id)
        if channel is None or post is None or post.question_id is None:
            latest = await uow.posts.latest_sent(channel.id) if channel is not None else None
            if number is not None and latest is not None:
                return [error(f"There is no question #{number} here; the latest is "
                              f"#{latest.number}.")]
            return [error("No question has been posted in this channel yet.")]
        row = await uow.questions.get(post.question_id)
        assert row is not None and post.number is not None
        question = question_of(row.data)
        alternates = await alternates_of(uow, row.id, row.group_key)
        user_pk = await uow.users.upsert(
            ref.platform, ref.workspace_id, command.actor.user_id, command.actor.display_name, now
        )
        await uow.answers.peek(post.id, user_pk, now)
        await uow.commit()
    return [messages.answer_reply(post.number, post.id, question, alternates)]


async def _question(uow: UnitOfWork, post: PostRow) -> Question:
    assert post.question_id is not None
    row = await uow.questions.get(post.question_id)
    assert row is not None
    return question_of(row.data)


async def recompute(
    uow: UnitOfWork,
    post: PostRow,
    question: Question,
    user_pk: int,
    now: datetime,
    *,
    grade: tuple[str, datetime] | None = None,
) -> AttemptRow | None:
    """Rebuild the user's attempt on a post from stored facts; delete it when nothing
    is left (all reactions withdrawn and no grade)."""
    attempt = await uow.answers.attempt(post.id, user_pk)
    # points close when the reveal is posted (or given up), not at its planned time:
    # a reveal held up by a failing platform must not close answering early
    after_reveal = post.revealed_at is not None
    if after_reveal and attempt is not None and not attempt.after_reveal:
        return attempt  # the scored answer stands; later changes are practice
    present = await uow.answers.reactions(post.id, user_pk)
    choice: str | None = None
    signal: str | None = None
    peeked_before = False
    if grade is None and attempt is not None and attempt.grade and attempt.graded_at:
        grade = (attempt.grade, attempt.graded_at)
    if question.kind == "choice":
        votes = [r for r in present if r.key in question.letters]
        if votes:
            choice = votes[-1].key
            peeked_before = tainted_by_peek(
                peeked_at=await uow.answers.peeked_at(post.id, user_pk),
                choice=choice,
                vote_at=votes[-1].added_at,
                previous_choice=attempt.choice if attempt is not None else None,
                already=attempt is not None and attempt.peeked_before,
            )
    else:
        marks = [r for r in present if r.key in (YES, NO)]
        latest_mark = marks[-1] if marks else None
        if grade is not None and (latest_mark is None or grade[1] >= latest_mark.added_at):
            signal = grade[0]
        elif latest_mark is not None:
            signal = latest_mark.key
    if choice is None and signal is None:
        if attempt is not None:
            await uow.answers.delete_attempt(attempt)
        return None
    facts = AttemptFacts(
        kind=question.kind,
        difficulty=question.difficulty,
        choice=choice,
        correct=question.correct,
        signal=_signal(signal),
        peeked_before=peeked_before,
        after_reveal=after_reveal,
    )
    correct, earned = is_correct(facts), points(facts)
    if attempt is None:
        attempt = AttemptRow(post_id=post.id, user_pk=user_pk, first_at=now, updated_at=now)
    elif _outcome(attempt.choice, attempt.correct, attempt.points) != _outcome(
        choice, correct, earned
    ):
        # `updated_at` is when the current outcome was reached (the reveal's "first correct"
        # ranks by it), so a recompute that changes nothing judged (a stray reaction
        # removed, Good regraded as Easy) leaves it alone.
        attempt.updated_at = now
    attempt.choice = choice
    attempt.signal = signal
    if grade is not None:
        attempt.grade, attempt.graded_at = grade
    attempt.peeked_before = peeked_before
    attempt.after_reveal = after_reveal
    attempt.correct = correct
    attempt.points = earned
    await uow.answers.save_attempt(attempt)
    return attempt


def _outcome(choice: str | None, correct: bool | None, earned: float) -> tuple[object, ...]:
    """What a change must alter to count as a new answer: the vote, right or wrong, and
    whether it scores (not how much: Good then Hard is still correct since the first)."""
    return (choice, correct, earned > 0)


def _signal(value: str | None) -> Signal | None:
    allowed: dict[str, Signal] = {
        "again": "again", "hard": "hard", "good": "good", "easy": "easy", "yes": "yes", "no": "no",
    }
    return allowed.get(value) if value is not None else None
