"""The adaptive mix (`/qotd topics adaptive:on`): the channel's picker weighs difficulty
and topics by how the team did on the channel's questions over the last four weeks.

Two pure rules turn the team's results into factors on the picker's weights, and one
applies them to the prepared `Eligible` list; the draw itself is `picking.pick_eligible`
(no repeats in a cycle, no topic twice in a row, `random.Random(f"{seed}:{draw}")`), so
it is deterministic under `QOTD_SEED` and costs O(eligible) like any weighted draw.

- Difficulty. Aim for about 70 % correct. The team's correct rate, pulled towards the
  target by a few imaginary attempts (five attempts at 100 % are not a verdict), is
  turned into a signed gap in -1..1 (0 at the target, 1 at 100 %, -1 at 0 %); hard
  questions weigh `STEP ** gap` and easy ones `STEP ** -gap`, medium stays 1. A team
  that does better gets more hard questions and fewer easy ones, one that does worse the
  opposite, at most by `STEP` either way: a nudge, and the admin's own difficulty
  weights still apply (they are multiplied, so a weight of 0 still excludes).
- Topics. A topic's team mastery is its share correct over the same window, pulled
  towards the team's overall rate the same way (a topic seen once is mostly "like the
  rest"). Lower mastery weighs more, linearly from `TOPIC_MAX` (nobody right) down to
  `TOPIC_FLOOR` (everybody right): every topic keeps a floor, none starves, and a topic
  the team has not seen lately weighs as the team's average.
- No results in the window (a new channel, or too few attempts to say anything): no
  factor at all, and the draw is exactly today's picker's (same object, same weights).

Team mastery is the share correct of the channel's attempts, not the FSRS
retrievability of the members' review cards: it is what the channel's own questions
showed, it is one indexed GROUP BY (`storage.bank_reads.team_results`), and it does not
depend on who uses `/review`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.rules.inputs import InputError, shown
from bot.rules.picking import DEFAULT_DIFFICULTY, Eligible

TARGET = 0.70  # the correct rate the mix aims for
WINDOW_DAYS = 28  # "the last four weeks"
PRIOR_ATTEMPTS = 5.0  # imaginary attempts at the prior rate added to every tally
MIN_ATTEMPTS = 5  # fewer attempts in the window: not enough to adapt at all
STEP = 3.0  # the largest factor on hard (or easy) questions, at 100 % (or 0 %) correct
TOPIC_MAX = 2.0  # a topic nobody got right
TOPIC_FLOOR = 0.25  # a topic everybody got right: still drawn, less often
LEVELS = {"easy": -1, "medium": 0, "hard": 1}  # unknown difficulties count as medium

ON_VALUES = ("on", "yes", "true", "1")
OFF_VALUES = ("off", "no", "false", "0")


@dataclass(frozen=True)
class Tally:
    """The channel's judged attempts (after-reveal ones left out) on one topic and
    difficulty, within the window."""

    topic: str
    difficulty: str | None
    attempts: int
    correct: int


@dataclass(frozen=True)
class Factors:
    """What the team's results do to the draw: weight multipliers per difficulty (a
    difficulty not named counts as medium) and per topic (a topic not named weighs
    `default_topic`)."""

    difficulty: Mapping[str, float]
    topic: Mapping[str, float]
    default_topic: float = 1.0


def parse_adaptive(text: str) -> bool:
    """`adaptive:on|off` (yes/no, true/false, 1/0 too). Raises InputError naming the
    valid values."""
    value = text.strip().lower()
    if value in ON_VALUES:
        return True
    if value in OFF_VALUES:
        return False
    raise InputError(f"adaptive must be on or off (got {shown(text.strip())})")


def _smoothed(correct: float, attempts: float, prior: float) -> float:
    return (correct + prior * PRIOR_ATTEMPTS) / (attempts + PRIOR_ATTEMPTS)


def correct_rate(tallies: Iterable[Tally]) -> tuple[float, int]:
    """The team's share correct over every tally, smoothed towards TARGET, and the
    number of attempts it rests on."""
    attempts = correct = 0
    for t in tallies:
        attempts += t.attempts
        correct += t.correct
    return _smoothed(correct, attempts, TARGET), attempts


def gap(rate: float) -> float:
    """How far `rate` is from TARGET, scaled to -1 (0 %) .. 0 (TARGET) .. 1 (100 %)."""
    if rate >= TARGET:
        return min(1.0, (rate - TARGET) / (1.0 - TARGET))
    return max(-1.0, (rate - TARGET) / TARGET)


def difficulty_factors(rate: float) -> dict[str, float]:
    """Weight multipliers per difficulty for a team correct `rate` (0..1). Monotone: a
    higher rate never gives hard less weight nor easy more."""
    g = gap(rate)
    return {d: STEP ** (g * level) for d, level in LEVELS.items()}


def topic_mastery(tallies: Iterable[Tally], overall: float) -> dict[str, float]:
    """Per topic, the team's share correct, smoothed towards `overall`."""
    sums: dict[str, list[int]] = {}
    for t in tallies:
        acc = sums.setdefault(t.topic, [0, 0])
        acc[0] += t.attempts
        acc[1] += t.correct
    return {topic: _smoothed(c, a, overall) for topic, (a, c) in sums.items()}


def topic_factor(mastery: float) -> float:
    """A topic's weight multiplier: TOPIC_MAX at mastery 0 down to TOPIC_FLOOR at 1."""
    m = min(1.0, max(0.0, mastery))
    return TOPIC_MAX - (TOPIC_MAX - TOPIC_FLOOR) * m


def topic_factors(mastery: Mapping[str, float]) -> dict[str, float]:
    return {topic: topic_factor(m) for topic, m in mastery.items()}


def factors_of(tallies: Iterable[Tally]) -> Factors | None:
    """The factors the team's results give, or None when there is too little to adapt
    on (the picker then draws exactly as without adaptive)."""
    rows = [t for t in tallies if t.attempts > 0]
    rate, attempts = correct_rate(rows)
    if attempts < MIN_ATTEMPTS:
        return None
    return Factors(
        difficulty=difficulty_factors(rate),
        topic=topic_factors(topic_mastery(rows, rate)),
        default_topic=topic_factor(rate),
    )


def adapted(eligible: Eligible, factors: Factors | None) -> Eligible:
    """`eligible` with each weight multiplied by its difficulty's and topic's factors,
    O(eligible); the same object when there are no factors. Factors are > 0, so no
    candidate drops out and the indexes (keys, positions, topics) stay valid."""
    if factors is None or not eligible.candidates:
        return eligible
    by_difficulty = factors.difficulty
    medium = by_difficulty.get(DEFAULT_DIFFICULTY, 1.0)
    by_topic = factors.topic
    default_topic = factors.default_topic
    weights = tuple(
        w * by_difficulty.get(c.difficulty or DEFAULT_DIFFICULTY, medium)
        * by_topic.get(c.topic, default_topic)
        for c, w in zip(eligible.candidates, eligible.weights, strict=True)
    )
    return replace(eligible, weights=weights, uniform=all(w == 1.0 for w in weights))
