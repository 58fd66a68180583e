"""Votes (reactions and vote buttons), self-grades (buttons) and peeks (/answer), and the
attempt they make.

The attempt is a pure function of what is stored (`bot.rules.attempts`); this module
reads those facts and writes its result, through the one-round reaction writer
(`storage.answer_writes`) for reactions and vote buttons on sent posts and through the
unit of work for everything else.

A vote button (issue 16) is a reaction the member cannot be seen adding: pressing an
option makes it their one vote (the reactions they had on the post are replaced by it),
pressing their current vote again withdraws it, and the attempt follows by the same
rules (latest counts, peeks, scoring). After the reveal a button changes nothing (the
reply says the answer is out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

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
    info,
    parse_vote_action,
)
from bot.rules.attempts import AnswerKey, AttemptValues, Keep, Present, next_attempt
from bot.rules.inputs import (
    QUESTION_NUMBER_MAX,
    ROW_ID_MAX,
    InputError,
    parse_whole_number,
    problems_of,
    shown,
    whole_number,
)
from bot.rules.scoring import GRADES
from bot.service import intake
from bot.service.bank_sync import alternates_of, question_of
from bot.service.deps import Deps
from bot.service.question_cache import ParsedQuestions
from bot.text import clean_name
from content.model import Question
from storage.answer_writes import (
    AttemptWrite,
    Outcome,
    ReactionEvent,
    ReactionTarget,
    StoredAttempt,
    StoredReaction,
    VoteEvent,
    VoteOutcome,
)
from storage.answer_writes import Keep as KeepStored
from storage.models import AttemptRow, PostRow, StrayReactionRow
from storage.repositories import SENT
from storage.uow import UnitOfWork

REACTION_KEYS = frozenset([*OPTION_KEYS, YES, NO])


async def handle_reaction(deps: Deps, raw: ReactionInput) -> list[Reply]:
    """Silent: reactions get no reply (the reveal reports the results).

    The common case, a reaction on a sent post, is one storage round
    (`storage.answer_writes`). A reaction on a message the database does not know, in a
    channel with a post still pending, may be on that post: it reached the platform but
    its sender died before marking it sent. It is kept as a stray and replayed once the
    post is marked sent. Keys that are no answer key at all and malformed ids are dropped
    at once."""
    reaction = intake.reaction(raw)
    if reaction.key not in REACTION_KEYS or not (
        intake.ids_ok(reaction.channel, reaction.actor.user_id)
        and intake.message_id_ok(reaction.message_id)
    ):
        return []
    now = deps.clock.now()
    ref = reaction.channel
    recorded = await deps.db.reactions.record(
        ReactionEvent(ref.platform, ref.workspace_id, ref.channel_id, reaction.message_id,
                      reaction.actor.user_id, clean_name(reaction.actor.display_name),
                      reaction.key, reaction.added, now),
        _ReactionRules(deps.parsed, reaction.key, now),
    )
    if recorded is Outcome.RECORDED:
        # the writer stored the name: a command by the same person need not
        deps.names.stored((ref.platform, ref.workspace_id, reaction.actor.user_id),
                          clean_name(reaction.actor.display_name), now)
    if recorded is not Outcome.NOT_FOUND:
        return []
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
                    await replay_strays(uow, channel.id, reaction.message_id, deps.parsed)
                    await uow.commit()
                return []
            # Nothing pending now, but the post may have been marked sent between the two
            # reads (on SQLite each read outside a write sees the latest commit): look again.
            post = await uow.posts.by_message(channel.id, reaction.message_id)
            if post is None:
                return []
        if await _apply_reaction(uow, deps.parsed, post, ref, reaction.actor, reaction.key,
                                 reaction.added, now):
            await uow.commit()
    return []


class _ReactionRules:
    """The rules a reaction is judged by, run inside the writer's transaction: whether
    the key is an answer key of the post, and the attempt the stored facts make."""

    def __init__(self, parsed: ParsedQuestions, key: str, now: datetime) -> None:
        self._parsed = parsed
        self._key = key
        self._now = now
        self._question: Question | None = None
        self.decision: AttemptValues | Keep | None = None  # the last `decide`'s

    def accepts(self, target: ReactionTarget, question_data: Callable[[], dict[str, Any]]
                ) -> bool:
        if target.status != SENT or target.question_id is None:
            return False
        question = self._parsed.get(target.question_id, target.question_synced_at,
                                    question_data)
        self._question = question
        valid = question.letters if question.kind == "choice" else (YES, NO)
        return self._key in valid

    def decide(self, target: ReactionTarget, stored: StoredAttempt | None,
               present: Sequence[StoredReaction], peeked_at: datetime | None) -> AttemptWrite:
        assert self._question is not None
        decision = self.decision = next_attempt(
            answer_key(self._question),
            None if stored is None else AttemptValues(**vars(stored)),
            [Present(r.key, r.added_at) for r in present],
            peeked_at,
            after_reveal=target.revealed_at is not None,
            now=self._now,
        )
        if isinstance(decision, Keep):
            return KeepStored.KEEP
        return None if decision is None else StoredAttempt(**vars(decision))


class _VoteRules(_ReactionRules):
    """A vote button's rules: a reaction's, except that a button counts only until the
    reveal, and pressing the member's current vote (their latest answer key on the post)
    withdraws it."""

    def accepts(self, target: ReactionTarget, question_data: Callable[[], dict[str, Any]]
                ) -> bool:
        return target.revealed_at is None and super().accepts(target, question_data)

    def withdraws(self, present: Sequence[StoredReaction]) -> bool:
        assert self._question is not None
        valid = self._question.letters if self._question.kind == "choice" else (YES, NO)
        votes = [r.key for r in present if r.key in valid]
        return bool(votes) and votes[-1] == self._key

    @property
    def question(self) -> Question | None:
        return self._question


def answer_key(question: Question) -> AnswerKey:
    return AnswerKey(kind=question.kind, letters=tuple(question.letters),
                     difficulty=question.difficulty, correct=question.correct)


async def _apply_reaction(uow: UnitOfWork, parsed: ParsedQuestions, post: PostRow,
                          ref: ChannelRef, actor: Actor, key: str, added: bool,
                          now: datetime) -> bool:
    """Record one reaction on a sent post and recompute the attempt; False if it is not
    an answer key of this post (nothing written)."""
    if post.status != SENT or post.question_id is None:
        return False
    question = await _question(uow, parsed, post)
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


async def replay_strays(uow: UnitOfWork, channel_pk: int, message_id: str,
                        parsed: ParsedQuestions | None = None) -> int:
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
    parsed = parsed or ParsedQuestions()
    for stray in strays:
        await _apply_reaction(
            uow, parsed, post, ref, Actor(stray.user_id, stray.display_name, stray.is_admin),
            stray.key, stray.added, stray.at,
        )
    await uow.answers.drop_strays(channel_pk, message_id)
    return len(strays)


async def replay_matched(uow: UnitOfWork, parsed: ParsedQuestions | None = None) -> int:
    """Strays whose post was marked sent while they were being stored (a race the
    mark-sent replay cannot see): replayed by the engine's next pass."""
    total = 0
    for channel_pk, message_id in await uow.answers.matched_strays():
        total += await replay_strays(uow, channel_pk, message_id, parsed)
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


GONE_TEXT = "That question is not in this channel any more."
VOTE_GONE_TEXT = ("That vote is not for a question of this channel (or the question is "
                  "gone); nothing was changed.")
VOTE_PENDING_TEXT = ("That question is still being posted; press again in a moment. "
                     "Nothing was changed.")
VOTE_WRONG_KEY_TEXT = "That button does not fit this question; nothing was changed."


def _vote_closed_text(number: int | None) -> str:
    which = f"question #{number}" if number is not None else "this question"
    return (f"The answer to {which} is out (see the thread under the post), so its vote is "
            "closed: nothing was changed.")


async def handle_button(deps: Deps, raw: ButtonInput) -> list[Reply]:
    button = intake.button(raw)
    if not intake.ids_ok(button.channel, button.actor.user_id):
        return [error(intake.BAD_IDS_TEXT)]
    vote = parse_vote_action(button.action)
    if vote is not None:
        return await handle_vote(deps, button, *vote)
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
            return [error(GONE_TEXT)]
        question = await _question(uow, deps.parsed, post)
        if question.kind != "open":
            return [error("Grades are for open questions; vote with the post's buttons "
                          "(or a reaction) instead.")]
        user_pk = await uow.users.upsert(
            ref.platform, ref.workspace_id, button.actor.user_id, button.actor.display_name, now
        )
        await uow.answers.add_grade(post.id, user_pk, question.id, grade, now)
        attempt = await recompute(uow, post, question, user_pk, now, grade=(grade, now))
        practice = post.revealed_at is not None
        await uow.commit()
    deps.names.stored((ref.platform, ref.workspace_id, button.actor.user_id),
                      button.actor.display_name, now)
    assert attempt is not None
    return [messages.grade_recorded(grade, attempt.points, practice)]


async def handle_vote(deps: Deps, button: ButtonInput, post_id: int, key: str
                      ) -> list[Reply]:
    """A vote button: `post_id` comes from the button's value, which anybody can forge,
    so the writer looks the post up by its id *and* the channel pressed in; a post of
    another channel is not found and nothing is written. One storage round, as a
    reaction (storage.answer_writes.record_vote). The reply is private."""
    if not 1 <= post_id <= ROW_ID_MAX:
        return [error(NOT_MINE_TEXT)]
    now = deps.clock.now()
    ref = button.channel
    name = clean_name(button.actor.display_name)
    rules = _VoteRules(deps.parsed, key, now)
    result = await deps.db.reactions.vote(
        VoteEvent(ref.platform, ref.workspace_id, ref.channel_id, post_id,
                  button.actor.user_id, name, key, now),
        rules,
    )
    target = result.target
    if result.outcome is VoteOutcome.NOT_FOUND or target is None:
        return [error(VOTE_GONE_TEXT)]
    if result.outcome is VoteOutcome.IGNORED:
        if target.status != SENT:
            return [error(VOTE_PENDING_TEXT)]
        if target.revealed_at is not None:
            return [info(_vote_closed_text(result.number))]
        return [error(VOTE_WRONG_KEY_TEXT)]
    deps.names.stored((ref.platform, ref.workspace_id, button.actor.user_id), name, now)
    withdrawn = result.outcome is VoteOutcome.WITHDRAWN
    reply = messages.vote_reply(result.number, key, withdrawn=withdrawn)
    decision = rules.decision
    question = rules.question
    if (not withdrawn and isinstance(decision, AttemptValues) and decision.peeked_before
            and question is not None and question.kind == "choice"):
        body = reply.message.body + (" You looked at the answer first, so this vote "
                                     "scores nothing.")
        reply = Reply(reply.visibility, replace(reply.message, body=body))
    return [reply]


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


async def _question(uow: UnitOfWork, parsed: ParsedQuestions, post: PostRow) -> Question:
    assert post.question_id is not None
    row = await uow.questions.get(post.question_id)
    assert row is not None
    return parsed.get(row.id, row.synced_at, lambda: row.data)


async def recompute(
    uow: UnitOfWork,
    post: PostRow,
    question: Question,
    user_pk: int,
    now: datetime,
    *,
    grade: tuple[str, datetime] | None = None,
) -> AttemptRow | None:
    """Rebuild the user's attempt on a post from stored facts (bot.rules.attempts);
    delete it when nothing is left (all reactions withdrawn and no grade)."""
    attempt = await uow.answers.attempt(post.id, user_pk)
    stored = None if attempt is None else AttemptValues(
        **{name: getattr(attempt, name) for name in ATTEMPT_FIELDS}
    )
    present = [Present(r.key, r.added_at)
               for r in await uow.answers.reactions(post.id, user_pk)]
    decision = next_attempt(
        answer_key(question), stored, present,
        await uow.answers.peeked_at(post.id, user_pk) if question.kind == "choice" else None,
        after_reveal=post.revealed_at is not None, now=now, grade=grade,
    )
    if isinstance(decision, Keep):
        return attempt
    if decision is None:
        if attempt is not None:
            await uow.answers.delete_attempt(attempt)
        return None
    if attempt is None:
        attempt = AttemptRow(post_id=post.id, user_pk=user_pk)
    for name in ATTEMPT_FIELDS:
        setattr(attempt, name, getattr(decision, name))
    await uow.answers.save_attempt(attempt)
    return attempt


ATTEMPT_FIELDS = tuple(f.name for f in fields(AttemptValues))
