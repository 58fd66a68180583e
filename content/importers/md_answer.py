"""An answer's lines, as written under a question, made into the answer the bank keeps.

What is removed is what only frames the answer: `<details>` toggles, an `**Answer:**`
label, a "Difficulty: hard" line, "back to top" links, trailing rules. HTML becomes
Markdown (see `md_html`), pasted bullet glyphs become list items, code stays as written.
What is left is judged: an answer that says nothing ("TODO", "Answer here", "...", only
tags, only a link back into the document) is a placeholder, and its question waits for
an answer instead of being scheduled.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from content.importers.md_html import html_to_markdown
from content.importers.md_prompt import LEVEL_WORDS
from content.importers.textutil import BULLET_GLYPHS, parse_list_item
from content.model import Difficulty, normalize_difficulty

_DIFFICULTY_LINE = re.compile(
    r"^\s*[*_]*difficulty[*_]*\s*[:=]\s*[*_]*\s*(" + LEVEL_WORDS + r"|[EMH]|👶|⭐|🚀)"
    r"\s*[*_]*\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL = re.compile(
    r"^\s{0,3}(?:#{1,6}\s+)?(\*\*|__)?\s*(?:(?:answers?|ans|solution|explanation)\s*"
    r"(?:\1)?\s*[:.\-–—)]|a\s*(?:\1)?\s*:)\s*(?:\*\*|__)?\s*(?=\S|$)",
    re.IGNORECASE,
)
_LABEL_ALONE = re.compile(
    r"^\s{0,3}(?:#{1,6}\s+)?(\*\*|__)?\s*(?:answers?|ans|solution)\s*(?:\1)?\s*$", re.I
)
_BACK_LINK = re.compile(r"^[\s*_>\W]*\[[^\[\]]*\]\(#[^()]*\)[\s*_\W]*$")
_PLACEHOLDERS = frozenset(
    ["answer", "answer here", "your answer", "your answer here", "write your answer here", "add answer", "add answer here", "answer goes here", "todo", "to do", "tbd", "tba", "tbc", "wip", "work in progress", "coming soon", "placeholder", "fill in", "fill me in", "fill this in", "n/a", "na", "none", "nothing yet", "lorem ipsum", "xxx", "???", "…", "..."]
)
_MARKUP = re.compile(r"[\s*_`#>~|\-]+")


@dataclass(frozen=True)
class Answer:
    """The answer as kept, the level a 'Difficulty:' line gave, and why it is no answer."""

    text: str
    difficulty: Difficulty | None = None
    placeholder: str | None = None  # the reason the question still needs an answer


def _convert(lines: list[tuple[str, bool]]) -> list[str]:
    """HTML and glyphs made Markdown, outside code; code lines verbatim."""
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.extend(html_to_markdown("\n".join(prose)).split("\n"))
            prose.clear()

    for text, in_code in lines:
        if in_code:
            flush()
            out.append(text.rstrip())
            continue
        if text.strip()[:1] in BULLET_GLYPHS:
            item = parse_list_item(text)
            if item is not None and item.text:
                text = item.markdown()
        prose.append(text)
    flush()
    return out


def finish_answer(lines: list[tuple[str, bool]]) -> Answer:
    """The answer from its source lines, each with whether it is inside a code block."""
    level: Difficulty | None = None
    kept: list[tuple[str, bool]] = []
    for text, in_code in lines:
        if not in_code:
            match = _DIFFICULTY_LINE.match(text)
            if match is not None:
                token = match.group(1)
                level = level or normalize_difficulty(token) or normalize_difficulty(f"[{token}]")
                continue
        kept.append((text, in_code))
    had_text = any(text.strip() for text, _ in kept)
    converted = _convert(kept)
    had_back_link = False
    body: list[str] = []
    in_code = False
    for line in converted:
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and _BACK_LINK.match(line):
            had_back_link = True
            continue
        body.append(line.rstrip())
    _drop_label(body)
    while body and (not body[-1].strip() or _RULE.match(body[-1])):
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    # Answers indented under a numbered question would otherwise read as code blocks.
    answer = re.sub(r"\n{3,}", "\n\n", textwrap.dedent("\n".join(body))).strip("\n")
    return Answer(answer, level, _placeholder(answer, had_text, had_back_link))


def _drop_label(body: list[str]) -> None:
    """Remove an `**Answer:**` / `Answer:` / `A:` that only introduces the answer."""
    for i, line in enumerate(body):
        if not line.strip():
            continue
        if _LABEL_ALONE.match(line):
            del body[i]
        else:
            match = _LABEL.match(line)
            if match is not None and not line[match.end() :].startswith(("//", "/")):
                body[i] = line[match.end() :]
        return


def _placeholder(answer: str, had_text: bool, had_back_link: bool) -> str | None:
    if not answer.strip():
        if had_back_link:
            return "the answer is only a link back into the document; write the answer"
        if had_text:
            return "the answer is only HTML tags or markup; write the answer"
        return "there is no answer under the question; write one"
    plain = _MARKUP.sub(" ", answer).strip().lower()
    if plain in _PLACEHOLDERS or plain.rstrip(".!:") in _PLACEHOLDERS or not plain.strip(".…"):
        return f"the answer is a placeholder ({answer.strip()[:40]!r}); write the answer"
    return None
