"""Count what happened on a post, for the reveal."""

from __future__ import annotations

from bot.boundary import NO, YES
from bot.messages import Results
from bot.rules.scoring import GRADES
from content.model import Question
from storage.uow import UnitOfWork

_SIGNAL_LABELS = {YES: "✅ knew it", NO: "❌ not yet"}


async def results_of(uow: UnitOfWork, post_id: int, question: Question) -> Results:
    """Scored attempts only (practice after the reveal does not change the results)."""
    rows = [(a, u) for a, u in await uow.answers.attempts_for_post(post_id) if not a.after_reveal]
    answered = [(a, u) for a, u in rows if a.correct is not None]
    correct = [(a, u) for a, u in answered if a.correct]
    if question.kind == "choice":
        counts = {letter: 0 for letter in question.letters}
        for attempt, _ in answered:
            if attempt.choice in counts:
                counts[attempt.choice] += 1
        distribution = tuple(
            (f"{letter}{' ✓' if letter == question.correct else ''}", n)
            for letter, n in counts.items()
        )
    else:
        labels = {**_SIGNAL_LABELS, **{g: g.capitalize() for g in GRADES}}
        signals = {key: 0 for key in labels}
        for attempt, _ in answered:
            if attempt.signal in signals:
                signals[attempt.signal] += 1
        distribution = tuple((labels[k], n) for k, n in signals.items() if n)
    # First correct: among attempts that scored (so not a vote changed after peeking, nor
    # practice after the reveal), the one whose correct answer was given earliest.
    # `updated_at` is when the attempt's current outcome was reached (recompute leaves it
    # alone when nothing judged changes); `first_at` is not it: a user who first voted
    # wrong and switched later was not correct at their first answer.
    scored = [(a, u) for a, u in correct if a.points > 0]
    first = min(scored, key=lambda au: (au[0].updated_at, au[0].first_at, au[0].id), default=None)
    return Results(
        answered=len(answered),
        correct=len(correct),
        distribution=distribution,
        first_correct=first[1].display_name if first is not None else None,
    )
