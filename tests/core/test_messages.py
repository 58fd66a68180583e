"""Display names in anything the bot posts are inert and bounded."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.messages import NAME_LIMIT, ZWSP, safe_name
from bot.text import BIDI_CONTROLS, ZERO_WIDTH


def test_mentions_are_defused_on_both_platforms() -> None:
    assert safe_name("@everyone") == f"@{ZWSP}everyone"
    assert safe_name("hi @here") == f"hi @{ZWSP}here"
    assert "<!channel>" not in safe_name("<!channel> Bob")
    assert "<@U123>" not in safe_name("<@U123>")
    assert "<@&42>" not in safe_name("<@&42> role")
    assert safe_name("@alice") == f"@{ZWSP}alice"


def test_names_are_one_bounded_line() -> None:
    name = safe_name("Ada\nLovelace  " + "x" * 200)
    assert "\n" not in name and len(name) <= NAME_LIMIT
    assert safe_name("   ") == "someone"
    assert safe_name("**bold** `code`") == "bold 'code'"


@given(st.text(max_size=300))
def test_no_name_can_ping_or_overflow(raw: str) -> None:
    name = safe_name(raw)
    assert "\n" not in name
    assert len(name) <= NAME_LIMIT * 3  # neutralising may add escapes, never unbounded
    lowered = name.lower()
    assert "@everyone" not in lowered and "@here" not in lowered
    assert "<!" not in name and "<@" not in name.replace(f"<@{ZWSP}", "")


def test_invisible_characters_are_dropped_when_a_stored_name_is_shown() -> None:
    """A name stored before names were cleaned on the way in must not reverse a row."""
    assert safe_name("\u202eecilA\u202c") == "ecilA"
    assert safe_name("B\u200bo\u2066b\x00") == "Bob"
    assert safe_name("\u200b\u200d") == "someone"
    assert safe_name("\u200b", fallback="U123") == "U123"
    assert safe_name("", fallback="@everyone") == f"@{ZWSP}everyone"


@given(st.text(max_size=100))
def test_no_shown_name_holds_a_bidi_or_control_character(raw: str) -> None:
    shown = safe_name(raw).replace(ZWSP, "")
    assert not any(c in BIDI_CONTROLS or c in ZERO_WIDTH for c in shown)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in shown)
