"""Neutral reaction keys <-> the emoji Discord shows.

Options are regional-indicator letters (🇦..🇯), "knew it" is ✅ and "not yet" is ❌.
Discord may report an emoji with or without the variation selector, so lookups ignore it.
"""

from __future__ import annotations

from bot.boundary import NO, OPTION_KEYS, YES

_REGIONAL_A = 0x1F1E6
_VS16 = "\ufe0f"

KEY_TO_EMOJI: dict[str, str] = {
    **{key: chr(_REGIONAL_A + index) for index, key in enumerate(OPTION_KEYS)},
    YES: "✅",
    NO: "❌",
}
_EMOJI_TO_KEY: dict[str, str] = {emoji: key for key, emoji in KEY_TO_EMOJI.items()}


def emoji_for(key: str) -> str:
    """The emoji for a neutral key; an unknown key is a bug in the caller, so it raises."""
    try:
        return KEY_TO_EMOJI[key]
    except KeyError:
        raise ValueError(f"no Discord emoji for reaction key {key!r}") from None


def key_for(emoji_name: str | None) -> str | None:
    """The neutral key for an emoji as Discord reports it, or None (custom emoji, others)."""
    if not emoji_name:
        return None
    return _EMOJI_TO_KEY.get(emoji_name.replace(_VS16, ""))
