"""Invisible characters never survive into stored names, options or boards."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.text import (
    BIDI_CONTROLS,
    NAME_LIMIT,
    ZERO_WIDTH,
    clean_line,
    clean_name,
    clean_text,
)

HIDDEN = BIDI_CONTROLS + ZERO_WIDTH


def test_bidi_and_zero_width_characters_are_removed() -> None:
    assert clean_name("\u202eecilA\u202c") == "ecilA"
    assert clean_name("Al\u200bi\u200dce\ufeff\u2066\u2069\u200e\u200f\u061c") == "Alice"
    assert clean_name("\u2060Bob\u200c") == "Bob"


def test_control_characters_go_and_newlines_only_where_meaningful() -> None:
    assert clean_text("a\x00b\x1bc\x7fd\x85e\x9f") == "abcde"
    assert clean_text("one\r\ntwo\rthree\u2028four\tfive") == "one\ntwo\nthree\nfour five"
    assert clean_text("one\ntwo", newlines=False) == "one two"
    assert clean_line("  a \n\t b  ") == "a b"
    assert clean_name("Ada\nLovelace") == "Ada Lovelace"


def test_lone_surrogates_cannot_reach_the_database() -> None:
    cleaned = clean_name("Eve\ud800\udfff")
    assert cleaned == "Eve"
    cleaned.encode("utf-8")  # would raise UnicodeEncodeError before


def test_names_are_capped_and_may_end_up_empty() -> None:
    assert len(clean_name("x" * 500)) == NAME_LIMIT
    assert clean_name("\u200b\u202e \u3164\x00") == ""
    assert clean_name("名前 🙂 Zoë") == "名前 🙂 Zoë"  # visible text is left alone


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_nothing_hidden_survives(raw: str) -> None:
    name = clean_name(raw)
    assert len(name) <= NAME_LIMIT
    assert not any(c in HIDDEN for c in name)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in name)
    assert name == name.strip() and "\n" not in name
    assert clean_name(name) == name  # idempotent
    text = clean_text(raw)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") and c != "\n" for c in text)
