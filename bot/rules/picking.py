"""Which question comes next in a channel.

No repeats until every eligible question was asked (then a new cycle), not the same topic
twice in a row while another topic still has questions left, difficulty weights honoured,
and deterministic for a given seed and draw number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass


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
    weight 0 is excluded; `draw` is the channel's post counter (makes each draw differ)."""
    raise NotImplementedError
