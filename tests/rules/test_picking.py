"""Picking: determinism, cycles, topic alternation, difficulty weights."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.picking import Candidate, NothingToPick, pick

BANK = [
    Candidate("q1", "serving", "easy"),
    Candidate("q2", "serving", "hard"),
    Candidate("q3", "monitoring", "medium"),
    Candidate("q4", "monitoring", None),
    Candidate("q5", "training", "easy"),
]


def test_same_seed_and_draw_give_the_same_pick_in_any_order() -> None:
    first = pick(BANK, set(), None, seed="s", draw=7)
    again = pick(list(reversed(BANK)), set(), None, seed="s", draw=7)
    assert first == again
    picks = {pick(BANK, set(), None, seed="s", draw=d).candidate.key for d in range(40)}
    assert len(picks) > 1  # the draw number changes the outcome


def test_no_repeat_within_cycle_then_new_cycle() -> None:
    asked = {"q1", "q2", "q3", "q4"}
    only = pick(BANK, asked, None, seed="s", draw=1)
    assert only.candidate.key == "q5"
    assert not only.new_cycle
    restart = pick(BANK, asked | {"q5"}, None, seed="s", draw=2)
    assert restart.new_cycle


def test_avoids_last_topic_while_others_remain() -> None:
    for draw in range(30):
        chosen = pick(BANK, set(), "serving", seed="x", draw=draw).candidate
        assert chosen.topic != "serving"


def test_same_topic_allowed_when_no_other_topic_remains() -> None:
    chosen = pick(BANK, {"q3", "q4", "q5"}, "serving", seed="x", draw=0).candidate
    assert chosen.topic == "serving"


def test_zero_weight_excludes_a_difficulty() -> None:
    weights = {"easy": 0.0, "medium": 1.0, "hard": 1.0}
    keys = {pick(BANK, set(), None, seed="w", draw=d, difficulty_weights=weights).candidate.key
            for d in range(60)}
    assert keys == {"q2", "q3", "q4"}  # q4 has no difficulty: counts as medium


def test_weights_bias_the_draw() -> None:
    bank = [Candidate("e", "t", "easy"), Candidate("h", "t", "hard")]
    counts = Counter(
        pick(bank, set(), None, seed="b", draw=d, difficulty_weights={"easy": 9, "hard": 1})
        .candidate.key for d in range(1000)
    )
    assert counts["e"] > 800 and counts["h"] > 40


def test_nothing_to_pick() -> None:
    with pytest.raises(NothingToPick, match="filters"):
        pick([], set(), None, seed="s", draw=0)
    with pytest.raises(NothingToPick):
        pick(BANK, set(), None, seed="s", draw=0,
             difficulty_weights={"easy": 0, "medium": 0, "hard": 0})


candidates_st = st.lists(
    st.builds(
        Candidate,
        key=st.text(alphabet="abcdefghij", min_size=1, max_size=4),
        topic=st.sampled_from(["a", "b", "c"]),
        difficulty=st.sampled_from(["easy", "medium", "hard", None]),
    ),
    min_size=1, max_size=25, unique_by=lambda c: c.key,
)


@settings(max_examples=60, deadline=None)
@given(candidates_st, st.text(max_size=5))
def test_full_cycle_asks_every_candidate_exactly_once(cands: list[Candidate], seed: str) -> None:
    asked: set[str] = set()
    order: list[str] = []
    last_topic: str | None = None
    for draw in range(len(cands)):
        result = pick(cands, asked, last_topic, seed=seed, draw=draw)
        assert not result.new_cycle
        asked.add(result.candidate.key)
        order.append(result.candidate.key)
        last_topic = result.candidate.topic
    assert sorted(order) == sorted(c.key for c in cands)
    assert pick(cands, asked, last_topic, seed=seed, draw=len(cands)).new_cycle
