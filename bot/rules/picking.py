"""Which question comes next in a channel.

No repeats until every eligible question was asked (then a new cycle), not the same topic
twice in a row while another topic still has questions left, difficulty weights honoured,
and deterministic for a given seed and draw number.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

DEFAULT_DIFFICULTY = "medium"


@dataclass(frozen=True)
class Candidate:
    key: str  # the canonical question id of a near-duplicate group
    topic: str
    difficulty: str | None  # "easy" | "medium" | "hard" | None (counts as medium)


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    new_cycle: bool  # True when every eligible question had been asked and a cycle restarted


class NothingToPick(LookupError):
    """No eligible candidate at all (empty bank or filters exclude everything)."""


def pick(
    candidates: Sequence[Candidate],
    asked_this_cycle: Set[str],
    last_topic: str | None,
    *,
    seed: str,
    draw: int,
    difficulty_weights: Mapping[str, float] | None = None,
) -> Pick:
    """Pick one candidate. `candidates` are already filtered by topic; a difficulty with
    weight 0 is excluded; `draw` is the channel's post counter (makes each draw differ).

    A difficulty missing from `difficulty_weights` weighs 1, so a partial mapping only
    changes what it names. Keys in `asked_this_cycle` that are no longer candidates are
    ignored. The order of `candidates` does not matter: they are sorted by key before
    drawing, so the same seed and draw give the same pick whatever the storage returned.
    """
    eligible = [
        (c, w)
        for c in sorted(set(candidates), key=lambda c: c.key)
        if (w := weight_of(c, difficulty_weights)) > 0
    ]
    if not eligible:
        raise NothingToPick(
            "no question is eligible: the bank is empty or the topic/difficulty filters "
            "exclude every question"
        )
    remaining = [(c, w) for c, w in eligible if c.key not in asked_this_cycle]
    new_cycle = not remaining
    if new_cycle:
        remaining = eligible
    if last_topic is not None:
        other_topics = [(c, w) for c, w in remaining if c.topic != last_topic]
        if other_topics:
            remaining = other_topics
    rng = random.Random(f"{seed}:{draw}")
    chosen = rng.choices([c for c, _ in remaining], weights=[w for _, w in remaining])[0]
    return Pick(candidate=chosen, new_cycle=new_cycle)


def weight_of(candidate: Candidate, difficulty_weights: Mapping[str, float] | None) -> float:
    """A candidate's draw weight; no difficulty counts as medium, no mapping means 1."""
    if difficulty_weights is None:
        return 1.0
    weight = difficulty_weights.get(candidate.difficulty or DEFAULT_DIFFICULTY, 1.0)
    if weight < 0:
        raise ValueError(f"difficulty weights must be >= 0, got {weight} for {candidate.difficulty}")
    return float(weight)
