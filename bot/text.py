"""Text hygiene for what users type and what platforms say about them.

Display names and option values are user-controlled. Invisible characters in them do
harm far from where they came in: a right-to-left override (U+202E) in a stored name
reverses the rest of its leaderboard row, zero-width characters make two names look the
same or a name look empty, control characters end up in logs and terminals, and a lone
surrogate (JSON allows `"\\ud800"`) cannot even be encoded for the database. So they are
removed where inputs enter the core (bot.service.intake) *and* again where stored names
are rendered (bot.messages.safe_name), because rows written by older versions may hold
them.

Zero-width joiners go too, although emoji sequences use them: a family emoji falls
apart into its people, which is harmless; a name made of joiners is not. Emoji tag
characters and variation selectors stay (flags and emoji presentation need them).
"""

from __future__ import annotations

NAME_LIMIT = 80  # characters kept of a display name (the database allows 200)

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# invisible in every font and meaningless in a name or an option: soft hyphen, Mongolian
# vowel separator, invisible math operators, deprecated format controls, Hangul fillers
# (the usual way to make a name that shows as blank)
OTHER_INVISIBLE = (
    "\u00ad\u180e\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u115f\u1160\u3164\uffa0"
)


def _table(*, newlines: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = dict.fromkeys(
        map(ord, BIDI_CONTROLS + ZERO_WIDTH + OTHER_INVISIBLE)
    )
    table.update(dict.fromkeys(range(0x00, 0x20)))  # C0
    table.update(dict.fromkeys(range(0x7F, 0xA0)))  # DEL and C1
    table.update(dict.fromkeys(range(0xD800, 0xE000)))  # lone surrogates
    table[ord("\t")] = " "
    line_break = "\n" if newlines else " "
    for char in "\n\u2028\u2029":
        table[ord(char)] = line_break
    return table


_TEXT = _table(newlines=True)
_LINE = _table(newlines=False)


def clean_text(text: str, *, newlines: bool = True) -> str:
    """`text` without bidi controls, zero-width or other invisible characters, control
    characters or lone surrogates. Tabs become spaces; line breaks (CR LF, CR, U+2028,
    U+2029) become "\\n", or a space with `newlines=False` (one-line values)."""
    flat = text.replace("\r\n", "\n").replace("\r", "\n")
    return flat.translate(_TEXT if newlines else _LINE)


def clean_line(text: str) -> str:
    """One line: cleaned, runs of whitespace collapsed to one space, stripped."""
    return " ".join(clean_text(text, newlines=False).split())


def clean_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A display name as the core keeps it: one clean line of at most `limit`
    characters. "" when nothing visible is left; the caller falls back (the stored name
    is kept, or the user id is shown)."""
    line = clean_line(name)
    return line[:limit].rstrip() if len(line) > limit else line

