"""Neutral reaction keys <-> Slack emoji names.

Slack has no letter emoji that every workspace has (regional indicators are not named in
its emoji set), so options A..J use the standard keycap names `one`..`nine` and
`keycap_ten`, which exist in every workspace. "I knew it" / "not yet" are
`white_check_mark` and `x`. Skin-tone suffixes (`::skin-tone-2`) never apply to these,
but Slack may send them on other emoji, so they are stripped before lookup.
"""

from __future__ import annotations

from bot.boundary import NO, OPTION_KEYS, YES

KEYCAPS: tuple[str, ...] = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "keycap_ten",
)

TO_EMOJI: dict[str, str] = {
    **dict(zip(OPTION_KEYS, KEYCAPS, strict=True)),
    YES: "white_check_mark",
    NO: "x",
}
FROM_EMOJI: dict[str, str] = {name: key for key, name in TO_EMOJI.items()}
# Aliases Slack accepts for the same glyphs; events carry whichever name the user picked.
FROM_EMOJI.update(
    {"heavy_check_mark": YES, "ballot_box_with_check": YES, "negative_squared_cross_mark": NO}
)


def emoji_for(key: str) -> str:
    """The emoji name for a neutral key; KeyError names the key so a core bug is obvious."""
    try:
        return TO_EMOJI[key]
    except KeyError:
        raise KeyError(f"no Slack emoji for reaction key {key!r}") from None


def key_for(emoji_name: str) -> str | None:
    """The neutral key for an emoji a user reacted with, or None for any other emoji."""
    return FROM_EMOJI.get(emoji_name.split("::", 1)[0])
