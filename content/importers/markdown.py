"""Markdown banks: questions as headings, bold lines, <summary> toggles or numbered lines.

Interview-question collections on GitHub are mostly Markdown, written by hand with one
of four habits for marking a question. Each document is read with the one habit it uses
most, so that a numbered list inside an answer is not mistaken for the next question.
Answers are kept as Markdown; the renderer, not the importer, adapts them to a platform.

Headings that are not questions are the hard part: most are sections (the topic of the
questions under them) or the article around the bank (introduction, conclusion), but
some authors put a sub-heading inside an answer. The rule: inside the run of questions,
a non-question heading followed by text and then by a later question belongs to the
answer it interrupts; one followed directly by a question is a section; one after the
last question, or named like the end of an article, closes the bank.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import PurePath

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.importers.textutil import BULLET_GLYPHS, parse_list_item
from content.model import Difficulty, Question, SourceRef, normalize_difficulty

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LABEL = re.compile(
    r"^(?:Q(?:uestion)?\s*#?\s*\d+\s*[.:)\-–—]|\d+\s*[.)]|Q\s*[:.])\s*", re.IGNORECASE
)
_BOLD_LINE = re.compile(r"^\s{0,3}(\*\*|__)(.+?)\1\s*(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,3})[.)]\s+(\S.*)$")
_LEVEL_WORDS = (
    r"junior|mid(?:-level)?|senior|easy|medium|hard|beginner|intermediate|advanced|expert|basic"
)
_MARKERS = (
    re.compile(r"\[([EMH])\]", re.IGNORECASE),
    re.compile(r"\((" + _LEVEL_WORDS + r")\)", re.IGNORECASE),
    re.compile(r"\bdifficulty\s*[:=]\s*(" + _LEVEL_WORDS + r")\b", re.IGNORECASE),
    re.compile(r"(👶|⭐️?|🚀)"),
)
_DIFFICULTY_LINE = re.compile(
    r"^\s*[*_]*difficulty[*_]*\s*[:=]\s*[*_]*\s*(" + _LEVEL_WORDS + r"|[EMH]|👶|⭐️?|🚀)"
    r"\s*[*_]*\s*$",
    re.IGNORECASE,
)
_END_SECTION = re.compile(
    r"^(?:conclusions?|in conclusion|summary|in summary|final thoughts|references|"
    r"further reading|resources|wrapping up|next steps|about the author|related\b.*|"
    r"table of contents|contents|introduction|intro|overview|"
    r"why (?:should you|you should) learn\b.*)[\s:.!?]*$"
    r"|takeaways",
    re.IGNORECASE,
)
_GENERIC_TOPIC = re.compile(
    r"interview questions|^(?:questions?(?: and answers)?|q\s*&\s*a|faqs?)$", re.IGNORECASE
)
# Tag patterns stop at the next '<' so that a line full of unclosed tags stays linear.
_DETAILS_INLINE = re.compile(r"</?details\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")


@dataclass
class _Line:
    """One source line as the parser sees it."""

    number: int  # 1-based
    text: str
    in_code: bool
    heading: tuple[int, str] | None = None  # level, title


@dataclass
class _Open:
    """The question being read: its prompt, where it is, and the answer so far."""

    prompt: str
    line: int
    level: int
    topic: str
    body: list[_Line] = field(default_factory=list)
    closed: bool = False  # a <details> question whose block has ended


def _strip_emphasis(text: str) -> str:
    text = text.strip()
    while len(text) > 4 and text[:2] in {"**", "__"} and text.endswith(text[:2]):
        text = text[2:-2].strip()
    return text


def _is_question(text: str) -> bool:
    """A prompt asks something: it ends with '?' (markers aside) or carries a Q label."""
    bare, _level = _take_difficulty(_strip_emphasis(text))
    bare = _strip_emphasis(bare)
    return bare.endswith("?") or bool(re.match(r"^Q(?:uestion)?\s*#?\s*\d+", bare, re.I))


def _has_label(text: str) -> bool:
    return bool(re.match(r"^Q(?:uestion)?\s*#?\s*\d+\s*[.:)\-–—]", _strip_emphasis(text), re.I))


def _topic_name(title: str) -> str:
    """A section heading's title as a topic; "" for headings that name no topic."""
    if _END_SECTION.search(title) or _GENERIC_TOPIC.search(title) or _is_question(title):
        return ""
    return _clean_prompt(title)[0]


def _summary(text: str) -> tuple[str, str] | None:
    """(the line without its <summary>...</summary>, the summary's inner text), if any.

    Found with str.find rather than a regex so that a line of unclosed tags stays linear.
    """
    low = text.lower()
    start = low.find("<summary")
    opened = low.find(">", start) if start >= 0 else -1
    end = low.find("</summary>", opened) if opened >= 0 else -1
    if end < 0:
        return None
    return text[:start] + text[end + len("</summary>") :], text[opened + 1 : end]


def _is_wrapper(text: str) -> bool:
    """A line that only opens or closes a <details> toggle: markup, not content."""
    if "<" not in text:
        return False
    found = _summary(text)
    rest = found[0] if found is not None else text
    return not _DETAILS_INLINE.sub("", rest).strip() and (
        found is not None or _DETAILS_INLINE.search(text) is not None
    )


def _take_difficulty(text: str) -> tuple[str, Difficulty | None]:
    """Remove difficulty markers from a prompt, returning the level they gave."""
    found: Difficulty | None = None
    for pattern in _MARKERS:
        for match in pattern.finditer(text):
            level = normalize_difficulty(match.group(1)) or normalize_difficulty(
                f"[{match.group(1)}]"
            )
            found = found or level
        text = pattern.sub("", text)
    text = re.sub(r"\s{2,}", " ", text)
    return text.strip(" \t\r\n-–—|:"), found


def _clean_prompt(raw: str) -> tuple[str, Difficulty | None]:
    text, level = _take_difficulty(_strip_emphasis(raw))
    text = _strip_emphasis(_LABEL.sub("", _strip_emphasis(text), count=1))
    return text, level


def _scan(text: str) -> list[_Line]:
    lines: list[_Line] = []
    fence: str | None = None
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        match = _FENCE.match(raw)
        if fence is not None:
            lines.append(_Line(number, raw, in_code=True))
            if match is not None and match.group(1) == fence:
                fence = None
            continue
        if match is not None:
            fence = match.group(1)
            lines.append(_Line(number, raw, in_code=True))
            continue
        line = _Line(number, raw, in_code=False)
        heading = _HEADING.match(raw)
        if heading is not None:
            line.heading = (len(heading.group(1)), heading.group(2).strip())
        lines.append(line)
    return lines


def _candidates(lines: list[_Line], style: str) -> list[tuple[_Line, str, int]]:
    """(line, raw prompt, heading level) of every line that asks a question in `style`."""
    found: list[tuple[_Line, str, int]] = []
    for line in lines:
        if line.in_code:
            continue
        if style == "heading" and line.heading is not None:
            level, title = line.heading
            if title and _is_question(title) and not _END_SECTION.search(title):
                found.append((line, title, level))
        elif style == "bold" and line.heading is None:
            match = _BOLD_LINE.match(line.text)
            if match is not None:
                rest = match.group(3)
                if _take_difficulty(rest)[0] == "" and _is_question(match.group(2) + rest):
                    found.append((line, match.group(2) + " " + rest, 0))
        elif style == "details":
            summary = _summary(line.text)
            if summary is not None:
                title = html.unescape(_TAG.sub("", summary[1])).strip()
                if title and _is_question(title):
                    found.append((line, title, 0))
        elif style == "numbered" and line.heading is None:
            match = _NUMBERED.match(line.text)
            if match is not None and _is_question(match.group(2)):
                found.append((line, match.group(2), 0))
    labelled = [item for item in found if _has_label(item[1])]
    if style == "heading" and 2 * len(labelled) > len(found):
        # Mostly a numbered Q1..Qn sequence: only labelled headings are questions, so a
        # section title such as "Why Should You Learn MLOps?" is not taken for one.
        found = labelled
    return found


def _pick(lines: list[_Line]) -> list[tuple[_Line, str, int]]:
    """The questions of the style the document uses most (earlier styles win ties)."""
    best: list[tuple[_Line, str, int]] = []
    for style in ("heading", "bold", "details", "numbered"):
        found = _candidates(lines, style)
        if len(found) > len(best):
            best = found
    return best


def _finish_answer(body: list[_Line]) -> tuple[str, Difficulty | None]:
    """The answer as Markdown, without a 'Difficulty:' line or trailing rules.

    Bullet glyphs pasted from web pages (•, ✓) become Markdown list items so that the
    platforms render them as lists; code blocks are left exactly as written.
    """
    level: Difficulty | None = None
    kept: list[str] = []
    for line in body:
        text = line.text
        if line.in_code:
            kept.append(text.rstrip())
            continue
        if _is_wrapper(text):
            continue  # <details>/<summary> wrappers, including "Show answer" toggles
        text = _DETAILS_INLINE.sub("", text)
        if text.strip()[:1] in BULLET_GLYPHS:
            item = parse_list_item(text)
            if item is not None and item.text:
                text = item.markdown()
        match = _DIFFICULTY_LINE.match(text)
        if match is not None:
            token = match.group(1)
            level = level or normalize_difficulty(token) or normalize_difficulty(f"[{token}]")
            continue
        kept.append(text.rstrip())
    while kept and (not kept[-1].strip() or _RULE.match(kept[-1])):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    # Answers indented under a numbered question would otherwise read as code blocks.
    return re.sub(r"\n{3,}", "\n\n", textwrap.dedent("\n".join(kept))), level


class MarkdownImporter:
    """Question banks in Markdown, read with the one question-marking habit they use."""

    name = "markdown"

    def sniff(self, text: str, filename: str) -> float:
        lines = _scan(text)
        markdown_ext = PurePath(filename).suffix.lower() in {".md", ".markdown", ".mdown"}
        headings = sum(1 for ln in lines if ln.heading is not None and not ln.in_code)
        scores = {
            "heading": 0.7 if markdown_ext or headings >= 3 else 0.3,
            "bold": 0.6,
            "details": 0.6,
            "numbered": 0.25,
        }
        best = 0.1 if markdown_ext else 0.0
        for style, score in scores.items():
            if len(_candidates(lines, style)) >= 2:
                best = max(best, score + (0.15 if markdown_ext else 0.0))
        if not markdown_ext and not any(ln.in_code for ln in lines) and headings < 3:
            best = min(best, 0.3)  # prose with questions, not evidently Markdown
        return min(best, 0.79)

    def parse(self, text: str, source_name: str) -> ParseResult:
        lines = _scan(text)
        picked = _pick(lines)
        if not picked:
            raise ParseError(
                source_name,
                1,
                "no questions found: mark each as a heading ('### Q1. ...?'), "
                "a bold line ('**...?**'), a <summary>...?</summary> or a numbered line "
                "('1. ...?')",
            )
        asks = {line.number: (raw, level) for line, raw, level in picked}
        last_question = picked[-1][0].number
        questions: list[Question] = []
        topics: list[tuple[int, str]] = []  # (heading level, title or "" for non-topics)
        current: _Open | None = None
        for index, line in enumerate(lines):
            if line.number in asks:
                if current is not None:
                    questions.append(self._build(current, source_name))
                raw, level = asks[line.number]
                current = _Open(raw, line.number, level, self._topic(topics, level))
                continue
            if line.heading is not None and not line.in_code:
                level, title = line.heading
                if current is not None and self._inside_answer(
                    lines, index, current, asks.keys(), last_question
                ):
                    current.body.append(line)
                    continue
                if current is not None:
                    questions.append(self._build(current, source_name))
                    current = None
                while topics and topics[-1][0] >= level:
                    topics.pop()
                topics.append((level, _topic_name(title)))
                continue
            if current is not None and not current.closed:
                if (
                    current.level == 0
                    and _summary(lines[current.line - 1].text) is not None
                    and "</details>" in line.text.lower()
                    and not line.in_code
                ):
                    current.closed = True  # what follows </details> is not the answer
                current.body.append(line)
        if current is not None:
            questions.append(self._build(current, source_name))
        return ParseResult(questions=tuple(questions))

    @staticmethod
    def _topic(topics: list[tuple[int, str]], level: int) -> str:
        for heading_level, title in reversed(topics):
            if level == 0 or heading_level < level:
                return title
        return ""

    @staticmethod
    def _inside_answer(
        lines: list[_Line], index: int, current: _Open, asks: AbstractSet[int], last: int
    ) -> bool:
        """Whether the non-question heading at `index` is part of the answer being read."""
        level, title = lines[index].heading or (0, "")
        if current.closed or _END_SECTION.search(title) or lines[index].number > last:
            return False
        if current.level and level > current.level:
            return True  # a sub-heading under a question heading
        for later in lines[index + 1 :]:
            if later.number in asks or (later.heading is not None and not later.in_code):
                return False  # straight into a question or another heading: a section
            if later.text.strip() and not _is_wrapper(later.text):
                return True  # text follows, and a later question exists
        return False

    @staticmethod
    def _build(current: _Open, source_name: str) -> Question:
        prompt, level = _clean_prompt(current.prompt)
        answer, answer_level = _finish_answer(current.body)
        source = SourceRef(file=source_name, line=current.line)
        if not prompt:
            raise ParseError(source_name, current.line, "this question has no text")
        try:
            return Question.make(
                prompt=prompt,
                source=source,
                answer=answer,
                difficulty=level or answer_level,
                topic=current.topic,
            )
        except ValidationError as exc:
            reason = "; ".join(str(e["msg"]) for e in exc.errors())
            raise ParseError(source_name, current.line, reason) from None
