"""Which question comes next in a channel.

No repeats until every eligible question was asked (then a new cycle), not the same topic
twice in a row while another topic still has questions left, difficulty weights honoured,
and deterministic for a given seed and draw number.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence, Set
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


@dataclass(frozen=True, eq=False)
class Eligible:
    """Candidates ready to draw from: distinct, sorted by key, each with its weight > 0.

    `pick` builds one per call; a caller that draws often from the same bank and filters
    (bot.service.bank_cache) builds it once with `eligible_of` and calls
    `pick_eligible`, so a draw does not sort the bank again. The other fields are
    indexes over `candidates` for the draw: `keys` and `topics` (their columns),
    `position` (key to index), `by_topic` (a topic's indexes, ascending), `distinct`
    (no key twice, which a bank never has: the indexed draw applies) and `uniform`
    (every weight is 1.0: the draw needs no running sum of weights).
    """

    candidates: tuple[Candidate, ...]
    weights: tuple[float, ...]
    keys: tuple[str, ...]
    topics: tuple[str, ...]
    position: Mapping[str, int]
    by_topic: Mapping[str, tuple[int, ...]]
    distinct: bool
    uniform: bool


def eligible_of(
    candidates: Iterable[Candidate], difficulty_weights: Mapping[str, float] | None = None,
    *, presorted: bool = False,
) -> Eligible:
    """Sort by key (the draw must not depend on the order storage returned), drop
    duplicates and every candidate whose difficulty weighs 0. `presorted`: the caller
    guarantees distinct keys in ascending order (a bank read by primary key and sorted
    once), which is what the sort would give, so it is skipped."""
    ordered = candidates if presorted else sorted(set(candidates), key=lambda c: c.key)
    pairs = [(c, w) for c in ordered if (w := weight_of(c, difficulty_weights)) > 0]
    kept = tuple(c for c, _ in pairs)
    weights = tuple(w for _, w in pairs)
    keys = tuple(c.key for c in kept)
    position = {key: i for i, key in enumerate(keys)}
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(kept):
        groups.setdefault(c.topic, []).append(i)
    return Eligible(
        candidates=kept, weights=weights, keys=keys, topics=tuple(c.topic for c in kept),
        position=position, by_topic={t: tuple(ix) for t, ix in groups.items()},
        distinct=len(position) == len(kept), uniform=all(w == 1.0 for w in weights),
    )


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
    return pick_eligible(eligible_of(candidates, difficulty_weights), asked_this_cycle,
                         last_topic, seed=seed, draw=draw)


def pick_eligible(
    eligible: Eligible,
    asked_this_cycle: Set[str],
    last_topic: str | None,
    *,
    seed: str,
    draw: int,
) -> Pick:
    """`pick` on candidates already prepared by `eligible_of`, without sorting.

    The rule, on the candidates in key order: the ones not asked this cycle remain (all
    of them, and a new cycle, when none does); of those, the ones of another topic than
    the last post's, if any; then `random.Random(f"{seed}:{draw}").choices` over what
    remains, by weight. Rather than building the remaining list, the draw finds what
    it leaves out (O(asked + the last topic's questions) in Python), draws an index
    into the rest and steps over the left-out ones: see `_excluded` and `_nth_kept`.
    """
    if not eligible.candidates:
        raise NothingToPick(
            "no question is eligible: the bank is empty or the topic/difficulty filters "
            "exclude every question"
        )
    rng = random.Random(f"{seed}:{draw}")
    if not eligible.distinct:
        return _pick_by_scan(eligible, asked_this_cycle, last_topic, rng)
    excluded, new_cycle = _excluded(eligible, asked_this_cycle, last_topic)
    m = len(eligible.candidates) - len(excluded)
    if eligible.uniform:
        # what choices(remaining, weights=[1.0] * m) computes: its running sum is
        # [1.0, 2.0, ..., m] (exact in floating point), so bisect_right(sums,
        # random() * float(m), 0, m - 1) is min(floor(random() * m), m - 1); the
        # same single random() call, so the same pick
        index = min(int(rng.random() * float(m)), m - 1)
    else:
        # choices itself, over the remaining weights (gathered by slices, in order),
        # with range(m) standing for the remaining candidates
        index = rng.choices(range(m), weights=_without(eligible.weights, excluded))[0]
    return Pick(candidate=eligible.candidates[_nth_kept(index, excluded)],
                new_cycle=new_cycle)


def _excluded(eligible: Eligible, asked: Set[str], last_topic: str | None
              ) -> tuple[list[int], bool]:
    """The indexes the draw leaves out, ascending, and whether a new cycle starts: the
    asked ones (none when all are: a new cycle), and the last topic's while another
    topic remains."""
    n = len(eligible.candidates)
    position = eligible.position
    asked_at = sorted(position[key] for key in asked if key in position)
    new_cycle = len(asked_at) == n
    excluded = [] if new_cycle else asked_at
    if last_topic is not None:
        group = eligible.by_topic.get(last_topic, ())
        if group:
            in_group = set(group)
            left_in_group = len(group) - sum(1 for i in excluded if i in in_group)
            if n - len(excluded) > left_in_group:  # another topic still remains
                excluded = sorted(in_group.union(excluded))
    return excluded, new_cycle


def _without(values: tuple[float, ...], excluded: list[int]) -> list[float]:
    """`values` minus the ascending indexes `excluded`, in order (slices: C copies)."""
    out: list[float] = []
    start = 0
    for skipped in excluded:
        out.extend(values[start:skipped])
        start = skipped + 1
    out.extend(values[start:])
    return out


def _nth_kept(index: int, excluded: list[int]) -> int:
    """The `index`-th integer (from 0) not in the ascending list `excluded`."""
    for skipped in excluded:
        if skipped > index:
            break
        index += 1
    return index


def _pick_by_scan(eligible: Eligible, asked: Set[str], last_topic: str | None,
                  rng: random.Random) -> Pick:
    """The draw over the remaining list itself, for candidates sharing a key (which
    `_excluded` cannot tell apart; a synced bank never has them)."""
    everything = list(zip(eligible.candidates, eligible.weights, strict=True))
    remaining = [(c, w) for c, w in everything if c.key not in asked]
    new_cycle = not remaining
    if new_cycle:
        remaining = everything
    if last_topic is not None:
        other_topics = [(c, w) for c, w in remaining if c.topic != last_topic]
        if other_topics:
            remaining = other_topics
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
