"""Numbers are ASCII digits within range; options are the declared ones, within limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.inputs import (
    QUESTION_NUMBER_MAX,
    InputError,
    OptionSpec,
    option_problems,
    parse_whole_number,
    refusal_text,
    shown,
    whole_number,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), (" 7 ", 7), ("007", 7), ("1", 1), (str(QUESTION_NUMBER_MAX), QUESTION_NUMBER_MAX),
])
def test_whole_numbers_in_range(text: str, expected: int) -> None:
    assert whole_number(text, low=1, high=QUESTION_NUMBER_MAX) == expected


@pytest.mark.parametrize("text", [
    "²", "١", "𝟙", "１２", "٣٤", "12²", "0", "-3", "+3", "1.0", "1e3", "", " ", "twelve",
    str(QUESTION_NUMBER_MAX + 1), "99999999999999999999", "9" * 5000, "1_000", "1 2",
])
def test_everything_else_is_not_a_number(text: str) -> None:
    """str.isdigit() says yes to ², ١ and 𝟙; int() reads ١ as 1 and would read 20 nines
    as a number no integer column holds, and refuses 5000 digits with ValueError."""
    assert whole_number(text, low=1, high=QUESTION_NUMBER_MAX) is None


def test_the_refusal_names_the_form_and_echoes_a_bounded_value() -> None:
    with pytest.raises(InputError, match=r"^number like 12 \(got '²'\)$"):
        parse_whole_number("²", low=1, high=9, form="number like 12")
    with pytest.raises(InputError) as err:
        parse_whole_number("9" * 500, low=1, high=9, form="n")
    assert len(str(err.value)) < 60 and "…" in str(err.value)


@given(st.text(max_size=30))
def test_whole_number_never_raises_and_only_reads_ascii(text: str) -> None:
    value = whole_number(text, low=0, high=10**12)
    if value is not None:
        assert text.strip().isascii() and int(text.strip()) == value


SCHEDULE = OptionSpec("qotd schedule", ("time", "timezone", "days"), {"days": 10})


def test_unknown_options_are_named_with_the_valid_ones() -> None:
    assert option_problems(SCHEDULE, {"tiem": "9", "zone": "UTC", "time": "09:00"}) == [
        "unknown options 'tiem', 'zone' for `qotd schedule`: use time, timezone or days"
    ]
    assert option_problems(OptionSpec("qotd pause"), {"x": "1"}) == [
        "`qotd pause` takes no options (got 'x')"
    ]
    assert option_problems(OptionSpec("leaderboard", ("period",)), {}, has_user=True) == [
        "`leaderboard` takes no user"
    ]
    assert option_problems(OptionSpec("streak", takes_user=True), {}, has_user=True) == []


def test_values_over_their_limit_say_the_limit() -> None:
    problems = option_problems(SCHEDULE, {"timezone": "x" * 201, "days": "mon,tue,wed"})
    assert problems == ["timezone is 201 characters long; the limit is 200",
                        "days is 11 characters long; the limit is 10"]
    assert option_problems(SCHEDULE, {"timezone": "x" * 200}) == []


def test_one_reply_lists_every_problem() -> None:
    assert refusal_text(["a"]) == "a"
    assert refusal_text(["a", "b"]) == "2 problems; nothing was changed:\n- a\n- b"


def test_shown_quotes_and_cuts() -> None:
    assert shown("abc") == "'abc'"
    assert shown("x" * 100) == repr("x" * 39 + "…")
