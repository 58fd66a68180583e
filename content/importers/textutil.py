"""Text helpers shared by importers of documents copied out of web pages and PDFs.

Copied documents lose their structure in predictable ways: list bullets become glyphs
(✓ 📌 ♦ •) or circled digits, a PDF wraps a sentence over several lines, tables turn into
tab-separated rows, page numbers and running titles land in the middle of the text. These
helpers turn those leftovers back into plain Markdown so that each importer only has to
know where its questions start and end. Everything here is pure and never raises on any
string, so importers built on it keep the "only ParseError" promise of `base.Importer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

#: Single-character glyphs that documents use as list bullets. Markdown's own markers
#: (`-`, `*`, `+`) are handled separately because they need a following space.
BULLET_GLYPHS: frozenset[str] = frozenset(
    "•◦‣⁃∙·▪▫■□●○◆◇♦❖❑❒❏❐➢➤►▶▸▹→⇒✓✔☑✅✗✘✦✧★☆⭐📌👉🔹🔸🔷🔶🟢🔵"
)

_CIRCLED: dict[str, int] = {
    **{chr(0x2460 + i): i + 1 for i in range(20)},  # ① .. ⑳
    **{chr(0x2776 + i): i + 1 for i in range(10)},  # ❶ .. ❿
    **{chr(0x2780 + i): i + 1 for i in range(10)},  # ➀ .. ➉
    **{chr(0x278A + i): i + 1 for i in range(10)},  # ➊ .. ➓
    "⓪": 0,
}
#: Circled and dingbat digits (① ❶ ➀ ➊) that PDFs use to number list items.
CIRCLED_NUMBERS: dict[str, int] = _CIRCLED

_VARIATION = "\ufe0f\ufe0e\u200d"
_MD_MARKER = re.compile(r"^[-*+]\s+")
_DOT_NUMBER = re.compile(r"^(\d{1,3})[.)]\s+(?=\S)")
_BARE_NUMBER = re.compile(r"^(\d{1,2})\s+(?=\*\*|[A-Z])")
_TERMINAL = re.compile(r"[.!?:;…](?:[\"'”’)\]*_]*)$")
_PAGE_ARTIFACT = re.compile(
    r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class ListItem:
    """One list entry as written: its text and, for numbered entries, its number."""

    text: str
    number: int | None = None

    def markdown(self) -> str:
        """The entry as a Markdown list line (`- text` or `3. text`)."""
        if self.number is None:
            return f"- {self.text}"
        return f"{self.number}. {self.text}"


def clean_line(line: str) -> str:
    """Trim a line and fold runs of spaces (including no-break spaces) into one.

    Tabs are folded too, so keep the raw line when tab-separated columns matter.
    """
    return _SPACES.sub(" ", line.replace("\f", " ")).strip()


def _strip_glyph(text: str) -> tuple[str, bool]:
    """Remove one leading bullet glyph (with its emoji variation selector), if any."""
    if text and text[0] in BULLET_GLYPHS:
        rest = text[1:].lstrip(_VARIATION)
        return rest.strip(), True
    return text, False


def parse_list_item(line: str, *, bare_numbers: bool = False) -> ListItem | None:
    """Read `line` as a list entry, or return None if it is ordinary text.

    Understood: Markdown markers (`- x`, `* x`), bullet glyphs (`✓ x`, `  • x`, also
    after a marker: `- ✓ x`), circled digits (`③ x`), `3. x` / `3) x`, and, with
    `bare_numbers`, a digit followed by a capital or bold (`3 **Term**`: how PDFs lose
    the dot). Bare numbers are opt-in because prose can start with a number
    ("17 Common Interview Questions"). The text may be empty for a glyph on its own.
    """
    text = clean_line(line)
    if not text:
        return None
    marked = False
    marker = _MD_MARKER.match(text)
    if marker is not None:
        text, marked = text[marker.end() :], True
    text, glyph = _strip_glyph(text)
    if text and text[0] in CIRCLED_NUMBERS:
        return ListItem(text[1:].strip(), CIRCLED_NUMBERS[text[0]])
    dotted = _DOT_NUMBER.match(text)
    if dotted is not None:
        return ListItem(text[dotted.end() :].strip(), int(dotted.group(1)))
    if bare_numbers or marked:
        bare = _BARE_NUMBER.match(text)
        if bare is not None:
            return ListItem(text[bare.end() :].strip(), int(bare.group(1)))
    if marked or glyph:
        return ListItem(text)
    if line.strip() in BULLET_GLYPHS:
        return ListItem("")
    return None


def ends_sentence(text: str) -> bool:
    """Whether `text` ends the way a finished sentence, heading-with-colon or list does."""
    return _TERMINAL.search(text.rstrip()) is not None


def is_page_artifact(line: str) -> bool:
    """A page number on its own ("12", "Page 3", "3 / 10", "- 4 -") left by a PDF."""
    return _PAGE_ARTIFACT.match(clean_line(line)) is not None


def join_wrapped(previous: str, following: str) -> str:
    """Glue a line that a PDF broke mid-sentence back onto its first half.

    A line ending in a hyphen is joined without a space so that "auto-" + "scaling"
    reads "auto-scaling".
    """
    previous, following = previous.rstrip(), following.strip()
    if previous.endswith("-") and not previous.endswith(" -"):
        return previous + following
    return f"{previous} {following}"


def is_table_row(line: str) -> bool:
    """A tab-separated row with at least two non-empty cells."""
    if "\t" not in line:
        return False
    return sum(1 for cell in line.split("\t") if cell.strip()) >= 2


def _cell(text: str) -> str:
    return clean_line(text).replace("|", "\\|")


def table_to_markdown(rows: Sequence[str]) -> str:
    """Tab-separated rows as a Markdown pipe table, the first row as its header.

    Short rows are padded so every row has the header's width (or the widest row's).
    """
    cells = [[_cell(c) for c in row.strip("\n").split("\t")] for row in rows if row.strip()]
    if not cells:
        return ""
    width = max(len(r) for r in cells)
    padded = [r + [""] * (width - len(r)) for r in cells]
    lines = ["| " + " | ".join(padded[0]) + " |", "|" + " --- |" * width]
    lines.extend("| " + " | ".join(r) + " |" for r in padded[1:])
    return "\n".join(lines)


@dataclass(frozen=True)
class Block:
    """A piece of Markdown: a paragraph, a list item or a table."""

    kind: Literal["text", "item", "table"]
    markdown: str


def join_blocks(blocks: Iterable[Block]) -> str:
    """Markdown from blocks: list items one per line, anything else set apart by a blank line."""
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if not block.markdown.strip():
            continue
        if previous is not None:
            tight = previous.kind == "item" and block.kind == "item"
            out.append("\n" if tight else "\n\n")
        out.append(block.markdown)
        previous = block
    return "".join(out)


def sentence_count(text: str) -> int:
    """Rough number of sentences: how to tell a heading-like question from a paragraph."""
    return len(re.findall(r"[.!?](?=\s+\S)", text.strip())) + 1


#: Characters that change how a line matches without changing how it reads: zero-width
#: spaces and joiners, the word joiner, emoji variation selectors and the BOM. No-break
#: and other exotic spaces become a plain space. A joiner between two symbols (the
#: 👩‍💻 kind of emoji sequence) is kept, because there it is part of one picture.
_INVISIBLE = re.compile(r"[\u200b\u200c\u2060\ufe0e\ufe0f\ufeff]")
_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_LONE_JOINER = re.compile(r"(?<![\U0001F000-\U0001FAFF\u2600-\u27BF])\u200d|\u200d(?![\U0001F000-\U0001FAFF\u2600-\u27BF])")


def normalize_invisible(text: str) -> str:
    """`text` with invisible characters removed and odd spaces made plain spaces.

    Run before anything is matched, so that "hard\u200d🚀" is the 🚀 marker and a heading
    pasted with no-break spaces is the same topic as one typed by hand. Line breaks are
    never touched, so line numbers stay those of the source.
    """
    text = _INVISIBLE.sub("", text)
    text = _LONE_JOINER.sub("", text)
    return _ODD_SPACES.sub(" ", text)
