"""The prepared draw (`eligible_of` once, `pick_eligible` per draw) picks exactly what
the draw before issue 12 picked: `reference_pick` below is that code, verbatim.

No timing here (performance lives in bench/); these pin the behaviour the fast paths
(uniform weights without a running sum, indexes instead of a remaining list) must keep.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence, Set

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.picking import (
    Candidate,
    NothingToPick,
    Pick,
    eligible_of,
    pick,
    pick_eligible,
    weight_of,
)


def reference_pick(
    candidates: Sequence[Candidate],
    asked_this_cycle: Set[str],
    last_topic: str | None,
    *,
    seed: str,
    draw: int,
    difficulty_weights: Mapping[str, float] | None = None,
) -> Pick:
    eligible = [
        (c, w)
        for c in sorted(set(candidates), key=lambda c: c.key)
        if (w := weight_of(c, difficulty_weights)) > 0
    ]
    if not eligible:
        raise NothingToPick("nothing")
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


KEYS = st.text(alphabet="abcdefghij", min_size=1, max_size=3)
TOPICS = ["a", "b", "c", "d"]
weights_st = st.one_of(
    st.none(),
    st.just({"easy": 1.0, "medium": 1.0, "hard": 1.0}),  # uniform, spelled out
    st.dictionaries(st.sampled_from(["easy", "medium", "hard"]),
                    st.one_of(st.integers(0, 5), st.sampled_from([0.0, 0.1, 0.5, 2.5, 1e-3])),
                    max_size=3),
)


def candidates_st(unique: bool) -> st.SearchStrategy[list[Candidate]]:
    item = st.builds(Candidate, key=KEYS, topic=st.sampled_from(TOPICS),
                     difficulty=st.sampled_from(["easy", "medium", "hard", None]))
    if unique:
        return st.lists(item, min_size=0, max_size=40, unique_by=lambda c: c.key)
    return st.lists(item, min_size=0, max_size=12)  # keys may repeat (topics differ)


def same(cands: list[Candidate], asked: set[str], last: str | None, seed: str, draw: int,
         weights: Mapping[str, float] | None) -> None:
    prepared = eligible_of(cands, weights)
    try:
        want = reference_pick(cands, asked, last, seed=seed, draw=draw,
                              difficulty_weights=weights)
    except NothingToPick:
        with pytest.raises(NothingToPick):
            pick_eligible(prepared, asked, last, seed=seed, draw=draw)
        return
    assert pick_eligible(prepared, asked, last, seed=seed, draw=draw) == want
    assert pick(cands, asked, last, seed=seed, draw=draw, difficulty_weights=weights) == want


@settings(max_examples=400, deadline=None)
@given(
    candidates_st(unique=True),
    st.data(),
    st.one_of(st.none(), st.sampled_from([*TOPICS, "zz"])),
    st.text(max_size=4),
    st.integers(0, 10_000),
    weights_st,
)
def test_prepared_draw_is_the_reference_draw(
    cands: list[Candidate], data: st.DataObject, last: str | None, seed: str, draw: int,
    weights: Mapping[str, float] | None,
) -> None:
    keys = [c.key for c in cands]
    asked = set(data.draw(st.lists(st.sampled_from(keys), unique=True))) if keys else set()
    asked |= data.draw(st.sets(KEYS, max_size=3))  # keys that are no candidates
    same(cands, asked, last, seed, draw, weights)


@settings(max_examples=150, deadline=None)
@given(candidates_st(unique=False), st.sets(KEYS, max_size=6),
       st.one_of(st.none(), st.sampled_from(TOPICS)), st.integers(0, 500), weights_st)
def test_repeated_keys_draw_as_the_reference(
    cands: list[Candidate], asked: set[str], last: str | None, draw: int,
    weights: Mapping[str, float] | None,
) -> None:
    same(cands, asked, last, "s", draw, weights)


def test_a_large_bank_through_whole_cycles() -> None:
    """600 candidates, every draw of two cycles and a half, both weightings: the same
    sequence as the reference, a question never repeated within a cycle."""
    rng = random.Random(7)
    bank = [Candidate(f"q{i:05}", f"t{rng.randrange(7)}",
                      rng.choice(["easy", "medium", "hard", None])) for i in range(600)]
    for weights in (None, {"easy": 3.0, "hard": 0.5}):
        prepared = eligible_of(list(reversed(bank)), weights)
        asked: set[str] = set()
        last: str | None = None
        for draw in range(1_500):
            want = reference_pick(bank, asked, last, seed="big", draw=draw,
                                  difficulty_weights=weights)
            got = pick_eligible(prepared, asked, last, seed="big", draw=draw)
            assert got == want, draw
            if got.new_cycle:
                asked = set()
            assert got.candidate.key not in asked
            asked.add(got.candidate.key)
            last = got.candidate.topic


@settings(max_examples=100, deadline=None)
@given(candidates_st(unique=True), weights_st)
def test_presorted_input_prepares_the_same_draw(
    cands: list[Candidate], weights: Mapping[str, float] | None
) -> None:
    """What the bank cache passes (distinct keys, ascending) with `presorted` skips the
    sort and gives the very same prepared list."""
    ordered = sorted(cands, key=lambda c: c.key)
    fast = eligible_of(ordered, weights, presorted=True)
    slow = eligible_of(list(reversed(cands)), weights)
    assert (fast.candidates, fast.weights, fast.keys, fast.topics) == (
        slow.candidates, slow.weights, slow.keys, slow.topics)
    assert (dict(fast.position), dict(fast.by_topic), fast.distinct, fast.uniform) == (
        dict(slow.position), dict(slow.by_topic), slow.distinct, slow.uniform)
