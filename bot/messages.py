"""Every OutMessage the core sends, built from plain values (no storage, no platform).

Display names are user-controlled text: each one passes through `safe_name` before it
lands in a message, so nobody can ping @everyone, @here, a role or a user through the
bot, no invisible character can reorder or hide a row, and a name can never push a
message past a platform limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.boundary import NO, YES, Button, Choice, Field, OutMessage, Reply, vote_action
from bot.rules.ranking import Ranked
from bot.rules.scoring import GRADES
from bot.text import clean_line
from content.model import Question
from content.render import neutralize_mentions, starts_with_block

NAME_LIMIT = 64
ZWSP = "\u200b"
_BARE_AT = re.compile(r"@(?!\u200b)")


def safe_name(name: str, fallback: str = "someone") -> str:
    """A display name made inert: no mentions, one line, at most NAME_LIMIT characters.

    bot.text.clean_line first drops bidi controls, zero-width and control characters:
    names stored by older versions may still hold them, and a right-to-left override
    would reverse the rest of a leaderboard row. content.render.neutralize_mentions
    defuses @everyone/@here and raw Discord/Slack mention syntax; on top, every other
    "@" gets a zero-width space too (a name like "@alice" must not become a mention where
    the platform links bare names), and the Markdown characters that would restyle the
    surrounding line are dropped. Nothing visible left: `fallback` (made safe too).
    """
    flat = clean_line(name)
    if len(flat) > NAME_LIMIT:
        flat = flat[: NAME_LIMIT - 1] + "…"
    flat = flat.replace("`", "'").replace("*", "").replace("_", " ").strip()
    if not flat:
        return "someone" if fallback == "someone" else safe_name(fallback)
    # a lone "<!" (no closing ">") is not a mention today, but it is the start of one
    # once the rest of a message follows it: break it too
    inert = neutralize_mentions(flat).replace("<!", "<" + ZWSP + "!")
    return _BARE_AT.sub("@" + ZWSP, inert)


def _difficulty(question: Question) -> str:
    return (question.difficulty or "unrated").capitalize()


CHOICE_REACTIONS_FOOTER = (
    "React with the emoji of your option (your latest one counts). "
    "/answer shows the answer to you alone; peeking before voting scores nothing."
)
OPEN_REACTIONS_FOOTER = (
    "Think it through, then react ✅ if you knew it or ❌ if not yet. "
    "/answer shows the reference answer to you alone, with buttons to grade yourself."
)
CHOICE_BUTTONS_FOOTER = (
    "Tap the button of your option: only you see your vote, and you can change it until "
    "the reveal (tap it again to withdraw). /answer shows the answer to you alone; "
    "peeking before voting scores nothing."
)
OPEN_BUTTONS_FOOTER = (
    "Think it through, then tap I knew it or Not yet (only you see it; tap it again to "
    "withdraw). /answer shows the reference answer to you alone, with buttons to grade "
    "yourself."
)
KNEW_IT, NOT_YET = "I knew it", "Not yet"


def question_post(number: int, question: Question, *, post_id: int | None = None,
                  answers: str = "reactions") -> OutMessage:
    """The daily post. `answers="buttons"` (a channel's default, issue 16): one button
    per option (or "I knew it" / "Not yet"), each carrying `vote_action(post_id, key)`,
    and no seed reactions. `answers="reactions"`: no answer buttons; `reactions` holds
    the keys the core seeds once the post is marked sent. Either way a member's own
    reaction counts."""
    buttons_mode = answers == "buttons"
    if buttons_mode and post_id is None:
        raise ValueError("answer buttons need the post's id")
    if question.kind == "choice":
        choices = tuple(
            Choice(key=letter, text=text)
            for letter, text in zip(question.letters, question.choices, strict=True)
        )
        keys: tuple[str, ...] = tuple(question.letters)
        footer = CHOICE_BUTTONS_FOOTER if buttons_mode else CHOICE_REACTIONS_FOOTER
    else:
        choices = ()
        keys = (YES, NO)
        footer = OPEN_BUTTONS_FOOTER if buttons_mode else OPEN_REACTIONS_FOOTER
    buttons: tuple[Button, ...] = ()
    if buttons_mode:
        assert post_id is not None
        buttons = tuple(_vote_button(post_id, key) for key in keys)
    return OutMessage(
        tone="question",
        title=f"Question #{number}",
        body="\n\n".join([question.prompt, *_hints(question)]),
        fields=(
            Field("Topic", question.topic or "General"),
            Field("Difficulty", _difficulty(question)),
        ),
        choices=choices,
        footer=footer,
        buttons=buttons,
        reactions=() if buttons_mode else keys,
    )


def _vote_button(post_id: int, key: str) -> Button:
    if key == YES:
        return Button(KNEW_IT, vote_action(post_id, YES), "success")
    if key == NO:
        return Button(NOT_YET, vote_action(post_id, NO))
    return Button(key, vote_action(post_id, key))


def vote_reply(number: int | None, key: str, *, withdrawn: bool) -> Reply:
    """The private answer to a vote button."""
    if key in (YES, NO):
        label = KNEW_IT if key == YES else NOT_YET
        if withdrawn:
            text = f"You took back **{label}**. Tap a button to answer again before the reveal."
        else:
            text = (f"You chose **{label}** — you can change it until the reveal. /answer "
                    "shows the reference answer, with buttons to grade yourself.")
    elif withdrawn:
        text = (f"You withdrew your vote **{key}**: you have no vote on this question. Tap "
                "an option to vote again before the reveal.")
    else:
        text = f"You chose **{key}** — you can change it until the reveal."
    title = f"Question #{number}" if number is not None else ""
    return Reply("ephemeral", OutMessage(tone="info", title=title, body=text))


def _answer_text(question: Question) -> str:
    if question.kind == "choice" and question.correct is not None:
        index = question.letters.index(question.correct)
        return f"**{question.correct}.** {question.choices[index]}"
    return question.answer


def _hints(question: Question) -> list[str]:
    """The hints, on the post itself (a hint kept only in the bank helps nobody), each
    behind a spoiler: `||…||` hides it on Discord until tapped; Slack, which has no
    spoilers, and the console show it as text."""
    hints = [" ".join(h.split()).replace("||", "\\|\\|") for h in question.hints if h.strip()]
    if not hints:
        return []
    if len(hints) == 1:
        return [f"**Hint:** ||{hints[0]}||"]
    return ["**Hints:**\n" + "\n".join(f"- ||{h}||" for h in hints)]


def _labelled(label: str, text: str) -> str:
    """`**Label:** text`, or the label on a line of its own when the text opens with a
    list, code or a table: on the label's line a list would show a literal dash."""
    text = text.strip()
    return f"**{label}:**\n{text}" if starts_with_block(text) else f"**{label}:** {text}"


def _notes(question: Question) -> list[str]:
    return [_labelled(note.label, note.text) for note in question.notes]


def _one_line(prompt: str) -> str:
    """A prompt as one line, for a list of related questions: the line that asks (the
    last one ending in "?", outside code), else the first line of text."""
    lines: list[str] = []
    fenced = False
    for line in prompt.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.strip():
            lines.append(line.strip())
    asking = [line for line in lines if line.rstrip("*_ ").endswith("?")]
    return (asking[-1] if asking else lines[0] if lines else prompt.strip())[:300]


def _see_also(alternates: Sequence[Question]) -> list[str]:
    if not alternates:
        return []
    return ["**See also**\n" + "\n".join(f"- {_one_line(alt.prompt)}" for alt in alternates)]


def answer_reply(
    number: int, post_id: int, question: Question, alternates: Sequence[Question]
) -> Reply:
    """The private /answer: the whole question (a prompt may be a sentence, a code block,
    then the question), everything we know about it, plus self-grading."""
    parts = [question.prompt, f"**Answer**\n{_answer_text(question)}"]
    if question.explanation:
        parts.append(f"**Why**\n{question.explanation}")
    parts.extend(_notes(question))
    parts.extend(_see_also(alternates))
    buttons: tuple[Button, ...] = ()
    footer = f"Source: {question.source}"
    if question.kind == "open":
        buttons = tuple(
            Button(
                label=grade.capitalize(),
                action=f"grade:{post_id}:{grade}",
                style="success" if grade in ("good", "easy") else "secondary",
            )
            for grade in GRADES
        )
        footer += " · How well did you know it? Grade yourself below."
    else:
        footer += " · You peeked: a vote from now on is recorded but scores nothing."
    return Reply(
        "ephemeral",
        OutMessage(
            tone="answer",
            title=f"Question #{number}",
            body="\n\n".join(parts),
            footer=footer,
            buttons=buttons,
        ),
    )


@dataclass(frozen=True)
class Results:
    """What happened on one post, counted by the service."""

    answered: int
    correct: int
    distribution: tuple[tuple[str, int], ...]  # (label, count), in display order
    first_correct: str | None  # raw display name; made safe here


def reveal(number: int, question: Question, results: Results,
           alternates: Sequence[Question] = ()) -> OutMessage:
    """The thread reply at reveal time: the answer with its notes (as /answer shows
    them), how the channel did, and the same question as other sources ask it."""
    lines = [f"**Answer**\n{_answer_text(question)}"]
    if question.explanation:
        lines.append(f"**Why**\n{question.explanation}")
    lines.extend(_notes(question))
    if results.answered:
        share = round(100 * results.correct / results.answered)
        summary = f"{results.answered} answered, {share}% correct."
    else:
        summary = "Nobody answered this one."
    lines.append(f"**Results**\n{summary}")
    if results.distribution:
        lines.append("\n".join(f"- {label}: {count}" for label, count in results.distribution))
    if results.first_correct is not None:
        lines.append(f"First correct: {safe_name(results.first_correct)}")
    lines.extend(_see_also(alternates))
    return OutMessage(
        tone="reveal",
        title=f"Answer to question #{number}",
        body="\n\n".join(lines),
        footer="Answers from now on are practice and score no points.",
    )


def missed_notice(days: Sequence[date], grace_hours: float) -> OutMessage:
    """To the channel's admin, privately, once per miss: what was missed and why."""
    listed = ", ".join(f"{d:%a %Y-%m-%d}" for d in days[:10])
    more = f" and {len(days) - 10} more" if len(days) > 10 else ""
    return OutMessage(
        tone="error", title="A question of the day was missed",
        body=(f"The post of {listed}{more} was not sent: the bot was down (or could not "
              f"reach the platform or its database) until more than {grace_hours:g} h after "
              "the scheduled time, the grace window (QOTD_GRACE_HOURS). Streaks are not "
              "affected. `/qotd post` posts a question now."),
    )


def grade_recorded(grade: str, points: float, practice: bool) -> Reply:
    extra = (" (practice: after the reveal)" if practice
             else f" ({points:g} point{'' if points == 1 else 's'})")
    return Reply(
        "ephemeral", OutMessage(tone="info", body=f"Recorded your grade: {grade.capitalize()}{extra}.")
    )


def leaderboard(
    title: str, head: Sequence[Ranked], mine: Ranked | None, caller_id: str
) -> Reply:
    if not head:
        body = "No answers in this period yet."
    else:
        rows = [_board_row(r, caller_id) for r in head]
        if mine is not None:
            rows.append("…")
            rows.append(_board_row(mine, caller_id))
        body = "\n".join(rows)
    return Reply("public", OutMessage(tone="info", title=title, body=body))


def _board_row(entry: Ranked, caller_id: str) -> str:
    s = entry.standing
    you = " ← you" if s.user_id == caller_id else ""
    streak = f", streak {s.current_streak}" if s.current_streak else ""
    return (f"{entry.rank}. {safe_name(s.display_name, fallback=s.user_id)}: "
            f"{s.points:g} pts{streak}{you}")


def streak_reply(name: str, current: int, best: int) -> Reply:
    body = f"{safe_name(name)}: current streak {current}, best {best}."
    return Reply("ephemeral", OutMessage(tone="info", title="Streak", body=body))


@dataclass(frozen=True)
class TopicLine:
    topic: str
    attempts: int
    correct: int


def stats_reply(
    name: str, attempts: int, correct: int, topics: Sequence[TopicLine], current: int, best: int
) -> Reply:
    share = f"{round(100 * correct / attempts)}%" if attempts else "–"
    lines = [
        f"Attempts: {attempts}",
        f"Correct: {correct} ({share})",
        f"Streak: current {current}, best {best}",
    ]
    if topics:
        lines.append("**By topic**")
        lines.extend(
            f"- {t.topic or 'General'}: {t.correct}/{t.attempts}" for t in topics
        )
    return Reply(
        "ephemeral",
        OutMessage(tone="info", title=f"Stats for {safe_name(name)}", body="\n".join(lines)),
    )


def prompt_parts(question: Question) -> list[str]:
    """The prompt and its hints, as the daily post shows them (a review card shows the
    question the same way)."""
    return [question.prompt, *_hints(question)]


def answer_parts(question: Question) -> list[str]:
    """The labelled reference answer and the notes, as `/answer` shows them."""
    return [_labelled("Answer", _answer_text(question)), *_notes(question)]


def difficulty_label(question: Question) -> str:
    return _difficulty(question)
