"""Display names in anything the bot posts are inert and bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.messages import NAME_LIMIT, ZWSP, safe_name


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
