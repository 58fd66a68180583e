"""Labelled call-outs ("Interview Tip", "Key Insight", "Common Mistakes") as `Note`s.

Pages set tips apart in coloured boxes; copied as text, the box becomes a short title
line glued to the paragraph under it. Kept in the answer, the tip reads as part of the
answer and makes it long; as a `Note` the bot can show it apart (or not at all).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from content.importers.code_blocks import is_bullet
from content.model import Note

_LABEL = re.compile(r"^[A-Z][\w'’-]*(?:\s+[\w'’&/-]+){0,5}$")
_OK_MARK = re.compile(r"\s*\[(?:OK|ok|x|X|✓)\]\s*$")


def is_label(line: str) -> bool:
    """A short title line: up to six words, capitalised, no sentence punctuation, no code."""
    s = line.strip()
    if not s or len(s) > 48 or line[:1].isspace():
        return False
    return _LABEL.match(s) is not None and not any(ch.isdigit() for ch in s)


def is_prose(line: str) -> bool:
    """A sentence a call-out box would hold: starts like a sentence, several words."""
    s = line.strip()
    if not s or line[:1].isspace() or s[0] in "•-*#":
        return False
    return (s[0].isupper() or s[0].isdigit() or s[0] in "\"'“") and len(s.split()) >= 4


def _ends_content(line: str) -> bool:
    """A bullet or a finished sentence: what a cut-off call-out label follows."""
    s = line.strip()
    return is_bullet(line) or s.endswith((".", "!", "?", ")"))


@dataclass(frozen=True)
class Split:
    """A block's body once its trailing call-outs are taken off."""

    body: list[str]
    notes: tuple[Note, ...]
    dropped: tuple[str, ...]  # labels with no text under them (cut-off page)


def split_trailing_callouts(lines: Sequence[str]) -> Split:
    """Take the call-outs off the end of a question's lines.

    A call-out is a label line followed straight away (no blank line, unlike a heading)
    by prose that runs to the end of the block. Several may follow one another. A label
    with nothing under it at the very end is dropped and reported.
    """
    body = list(lines)
    notes: list[Note] = []
    dropped: list[str] = []
    while True:
        while body and not body[-1].strip():
            body.pop()
        if not body:
            break
        if is_label(body[-1]) and len(body) >= 2 and _ends_content(body[-2]):
            dropped.append(body.pop().strip())
            continue
        k = len(body) - 1
        while k >= 0 and is_prose(body[k]) and not is_label(body[k]):
            k -= 1
        if k < 0 or k == len(body) - 1 or not is_label(body[k]):
            break
        text = " ".join(ln.strip() for ln in body[k + 1 :])
        notes.insert(0, Note(label=body[k].strip(), text=text))
        body = body[:k]
    return Split(body=body, notes=tuple(notes), dropped=tuple(reversed(dropped)))


def strip_ok_mark(text: str) -> str:
    """Drop the "[OK]" a copied page leaves where it showed a check-mark icon."""
    return _OK_MARK.sub("", text).strip()


def bullet_note(label: str, items: Sequence[str]) -> Note:
    """A list call-out ("Common Mistakes:" and its bullets) as one Markdown-list note."""
    text = "\n".join(f"- {strip_ok_mark(item)}" for item in items if item.strip())
    return Note(label=label.strip().rstrip(":").strip(), text=text)
