"""The adaptive mix as pure rules: difficulty weights from the team's correct rate
(monotone, neutral at the 70 % target), topic weights from mastery (lower mastery more
weight, a floor for all), the weighted draw deterministic under the seed, and with no
results exactly today's picker."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.adaptive import (
    MIN_ATTEMPTS,
    STEP,
    TARGET,
    TOPIC_FLOOR,
    Tally,
    adapted,
    difficulty_factors,
    factors_of,
    gap,
    parse_adaptive,
    topic_factor,
)
from bot.rules.inputs import InputError
from bot.rules.picking import Candidate, eligible_of, pick, pick_eligible

BANK = [
    Candidate(f"{topic[:3]}-{difficulty}-{i}", topic, difficulty)
    for topic in ("serving", "monitoring", "training")
    for difficulty in ("easy", "medium", "hard", None)
    for i in range(5)
]


def tallies(rate: float, n: int = 40, topic: str = "serving") -> list[Tally]:
    return [Tally(topic, "medium", n, round(rate * n))]


def share(picks: list[Candidate], difficulty: str) -> float:
    return sum(1 for c in picks if (c.difficulty or "medium") == difficulty) / len(picks)


def test_neutral_at_the_target_and_bounded_by_step() -> None:
    assert difficulty_factors(TARGET) == {"easy": 1.0, "medium": 1.0, "hard": 1.0}
    top = difficulty_factors(1.0)
    assert top["hard"] == pytest.approx(STEP) and top["easy"] == pytest.approx(1 / STEP)
    bottom = difficulty_factors(0.0)
    assert bottom["easy"] == pytest.approx(STEP) and bottom["hard"] == pytest.approx(1 / STEP)
    assert gap(1.0) == 1.0 and gap(0.0) == -1.0 and gap(TARGET) == 0.0


@given(st.floats(0, 1), st.floats(0, 1))
def test_a_better_team_gets_more_weight_on_hard_and_less_on_easy(a: float, b: float) -> None:
    low, high = sorted((a, b))
    lo, hi = difficulty_factors(low), difficulty_factors(high)
    assert hi["hard"] >= lo["hard"]
    assert hi["easy"] <= lo["easy"]
    assert hi["medium"] == lo["medium"] == 1.0
    assert all(v > 0 for v in (*lo.values(), *hi.values()))


@given(st.floats(0, 1), st.floats(0, 1))
def test_lower_mastery_weighs_more_and_every_topic_keeps_a_floor(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert topic_factor(low) >= topic_factor(high) >= TOPIC_FLOOR > 0


def test_the_weakest_topic_gets_the_most_weight_and_unseen_ones_the_average() -> None:
    factors = factors_of([
        Tally("serving", "medium", 20, 19),  # 95 %
        Tally("monitoring", "medium", 20, 6),  # 30 %
        Tally("training", "easy", 10, 7), Tally("training", "hard", 10, 7),  # 70 %
    ])
    assert factors is not None
    t = factors.topic
    assert t["monitoring"] > t["training"] > t["serving"] >= TOPIC_FLOOR
    # a topic with no attempts in the window weighs as the team's overall rate
    assert t["monitoring"] > factors.default_topic > t["serving"]


def test_no_or_too_few_results_leave_the_picker_exactly_as_it_is() -> None:
    eligible = eligible_of(BANK)
    assert factors_of([]) is None
    assert factors_of([Tally("serving", "hard", MIN_ATTEMPTS - 1, MIN_ATTEMPTS - 1)]) is None
    assert factors_of([Tally("serving", "hard", 0, 0)]) is None
    assert adapted(eligible, None) is eligible
    for draw in range(50):
        asked = {c.key for c in BANK[: draw % 7]}
        assert (pick_eligible(adapted(eligible, factors_of([])), asked, "serving",
                              seed="s", draw=draw)
                == pick(BANK, asked, "serving", seed="s", draw=draw))


def test_adapted_multiplies_the_admins_weights_and_keeps_zero_excluded() -> None:
    eligible = eligible_of(BANK, {"easy": 0.0, "medium": 2.0, "hard": 1.0})
    factors = factors_of(tallies(1.0))
    assert factors is not None
    again = adapted(eligible, factors)
    assert again.candidates == eligible.candidates  # the same list, new weights only
    assert again.keys == eligible.keys and again.by_topic == eligible.by_topic
    for c, before, after in zip(eligible.candidates, eligible.weights, again.weights,
                                strict=True):
        assert c.difficulty != "easy"
        expected = before * factors.difficulty[c.difficulty or "medium"] * factors.topic.get(
            c.topic, factors.default_topic)
        assert after == pytest.approx(expected)
    assert not again.uniform


def test_a_team_that_gets_everything_right_draws_harder_questions() -> None:
    eligible = eligible_of(BANK)
    strong, weak = factors_of(tallies(1.0)), factors_of(tallies(0.1))
    plain = [pick_eligible(eligible, set(), None, seed="s", draw=d).candidate
             for d in range(600)]
    hard = [pick_eligible(adapted(eligible, strong), set(), None, seed="s", draw=d).candidate
            for d in range(600)]
    easy = [pick_eligible(adapted(eligible, weak), set(), None, seed="s", draw=d).candidate
            for d in range(600)]
    assert share(hard, "hard") > share(plain, "hard") + 0.1
    assert share(hard, "easy") < share(plain, "easy") - 0.1
    assert share(easy, "easy") > share(plain, "easy") + 0.1
    assert share(easy, "hard") < share(plain, "hard") - 0.1


def test_the_draw_favours_weak_topics_without_starving_strong_ones() -> None:
    eligible = eligible_of(BANK)
    factors = factors_of([Tally("serving", "medium", 30, 30),
                          Tally("monitoring", "medium", 30, 6),
                          Tally("training", "medium", 30, 21)])
    counts = Counter(
        pick_eligible(adapted(eligible, factors), set(), None, seed="t", draw=d).candidate.topic
        for d in range(900)
    )
    assert counts["monitoring"] > counts["training"] > counts["serving"] > 0


def test_deterministic_under_the_seed_and_the_usual_rules_hold() -> None:
    factors = factors_of(tallies(0.95))
    shuffled = BANK[:]
    random.Random(3).shuffle(shuffled)
    one = adapted(eligible_of(BANK), factors)
    two = adapted(eligible_of(shuffled), factors)
    asked = {c.key for c in BANK if c.topic == "training"}
    for draw in range(80):
        first = pick_eligible(one, asked, "serving", seed="q", draw=draw)
        assert first == pick_eligible(two, asked, "serving", seed="q", draw=draw)
        # no repeat within the cycle, not the last topic while another remains
        assert first.candidate.key not in asked
        assert first.candidate.topic == "monitoring"
    picks = {pick_eligible(one, set(), None, seed="q", draw=d).candidate.key for d in range(40)}
    assert len(picks) > 1


@pytest.mark.parametrize(("text", "value"), [("on", True), (" ON ", True), ("yes", True),
                                             ("off", False), ("no", False), ("0", False)])
def test_parse_adaptive(text: str, value: bool) -> None:
    assert parse_adaptive(text) is value


def test_parse_adaptive_names_the_valid_values() -> None:
    with pytest.raises(InputError) as caught:
        parse_adaptive("sometimes")
    assert "on or off" in str(caught.value) and "sometimes" in str(caught.value)
