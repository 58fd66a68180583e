"""A blog article of question headings with prose answers (seed 001).

Paragraphs are separated by blank lines. A question is a paragraph of one line: either
numbered ("3. How do you ...?") or a single-sentence line ending in "?". Its answer is
the paragraphs up to the next question; "  • " bullets become a Markdown list. A short
unpunctuated line right before a question is a section heading: the subject it names
(`content.topics.subject_of`: "17 Common Interview Questions for MLOps" names MLOps) is
the topic of the questions under it. Questions under no such heading, or under one that
names nothing ("50 Common Interview Questions"), get the subject the article's title
names, never the title itself: a title names the collection, not what a question is about.
A run of two or more blank lines closes the current answer: what follows it up to the
next question (closing remarks, "Leave a Comment") belongs to no question.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.importers.textutil import (
    Block,
    clean_line,
    ends_sentence,
    join_blocks,
    join_wrapped,
    parse_list_item,
    sentence_count,
)
from content.model import Question, SourceRef
from content.topics import subject_of

_NUMBERED_QUESTION = re.compile(r"^(\d{1,3})[.)]\s+(\S.*\?)$")
_HEADING_MAX = 100
_QUESTION_MAX = 250
# Markup that says "this is Markdown, or a format of its own", not a pasted article.
_FOREIGN = re.compile(r"^(?:#{1,6}\s|[-*+]\s|```|\*\*|Q\d+\s*[:.]|(?:-\s*)?Answer\s*:)")


@dataclass
class _Paragraph:
    """Consecutive non-blank lines, with the 1-based number of the first and the gap above."""

    line: int
    lines: list[str]
    blank_before: int

    @property
    def single(self) -> str | None:
        return clean_line(self.lines[0]) if len(self.lines) == 1 else None


@dataclass
class _Draft:
    prompt: str
    line: int
    topic: str
    blocks: list[Block] = field(default_factory=list)
    closed: bool = False


def _paragraphs(text: str) -> list[_Paragraph]:
    result: list[_Paragraph] = []
    current: _Paragraph | None = None
    blanks = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not clean_line(raw):
            current = None
            blanks += 1
            continue
        if current is None:
            current = _Paragraph(line=number, lines=[], blank_before=blanks)
            result.append(current)
        current.lines.append(raw)
        blanks = 0
    return result


def _numbered_question(paragraph: _Paragraph) -> str | None:
    line = paragraph.single
    if line is None or len(line) > _QUESTION_MAX:
        return None
    match = _NUMBERED_QUESTION.match(line)
    return match.group(2).strip() if match else None


def _plain_question(paragraph: _Paragraph) -> str | None:
    line = paragraph.single
    if (
        line is None
        or len(line) > _QUESTION_MAX
        or not line.endswith("?")
        or sentence_count(line) > 1
        or parse_list_item(line) is not None
    ):
        return None
    return line


def _heading(paragraph: _Paragraph) -> str | None:
    line = paragraph.single
    if line is None or len(line) > _HEADING_MAX or ends_sentence(line):
        return None
    if parse_list_item(line) is not None:
        return None
    return line


def _body_blocks(paragraph: _Paragraph) -> list[Block]:
    """A prose paragraph (soft-wrapped lines joined) or the items of a bulleted list."""
    blocks: list[Block] = []
    text: str | None = None
    for raw in paragraph.lines:
        item = parse_list_item(raw)
        if item is not None:
            if text is not None:
                blocks.append(Block("text", text))
                text = None
            if item.text:
                blocks.append(Block("item", item.markdown()))
            continue
        line = clean_line(raw)
        text = line if text is None else join_wrapped(text, line)
    if text is not None:
        blocks.append(Block("text", text))
    return blocks


class ArticleImporter:
    """Reads an article whose questions are headings and whose answers are the prose below."""

    name = "article"

    def sniff(self, text: str, filename: str) -> float:
        paragraphs = _paragraphs(text)
        if len(paragraphs) < 4:
            return 0.0
        numbered = sum(1 for p in paragraphs if _numbered_question(p) is not None)
        if numbered < 3:
            return 0.0
        lines = [raw for p in paragraphs for raw in p.lines]
        foreign = sum(1 for raw in lines if _FOREIGN.match(raw.strip()))
        if foreign > len(lines) // 20:
            return 0.0
        # Each question heading stands alone between blank lines and is followed by prose.
        answered = sum(
            1
            for here, after in itertools.pairwise(paragraphs)
            if _numbered_question(here) is not None and _numbered_question(after) is None
        )
        score = 0.45 + 0.3 * answered / numbered
        if any("•" in raw for raw in lines):
            score += 0.05
        return round(score, 3)

    def parse(self, text: str, source_name: str) -> ParseResult:
        paragraphs = _paragraphs(text)
        title = _heading(paragraphs[0]) if paragraphs else None
        subject = subject_of(title) if title else ""
        topic = subject
        warnings: list[str] = []
        drafts: list[_Draft] = []
        numbered_run = False
        for index, paragraph in enumerate(paragraphs):
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            prompt = _numbered_question(paragraph)
            if prompt is None and not numbered_run:
                prompt = _plain_question(paragraph)
                if prompt is not None and (following is None or self._starts(following, False)):
                    prompt = None  # a question with no answer under it is prose, not a heading
            if prompt is not None:
                numbered_run = numbered_run or _numbered_question(paragraph) is not None
                drafts.append(_Draft(prompt=prompt, line=paragraph.line, topic=topic))
                continue
            heading = _heading(paragraph)
            if heading is not None and following is not None and self._starts(following, True):
                topic, numbered_run = subject_of(heading) or subject, False
                if drafts:
                    drafts[-1].closed = True
                continue
            if index == 0 and title is not None:
                continue
            current = drafts[-1] if drafts else None
            if current is not None and paragraph.blank_before >= 2:
                current.closed = True
            if current is None or current.closed:
                if current is not None:
                    warnings.append(
                        f"{source_name}:{paragraph.line}: text after an answer's end left out"
                    )
                continue
            current.blocks.extend(_body_blocks(paragraph))
        if not drafts:
            raise ParseError(
                source_name,
                1,
                "no questions found: expected question lines such as '1. What is ...?' "
                "standing alone between blank lines, each followed by its answer",
            )
        return ParseResult(
            questions=tuple(self._question(d, source_name) for d in drafts),
            warnings=tuple(warnings),
        )

    @staticmethod
    def _starts(paragraph: _Paragraph, plain_allowed: bool) -> bool:
        """Whether `paragraph` opens a question (a plain one only where allowed)."""
        if _numbered_question(paragraph) is not None:
            return True
        return plain_allowed and _plain_question(paragraph) is not None

    @staticmethod
    def _question(draft: _Draft, source_name: str) -> Question:
        try:
            return Question.make(
                prompt=draft.prompt,
                source=SourceRef(file=source_name, line=draft.line),
                answer=join_blocks(draft.blocks),
                topic=draft.topic,
            )
        except ValidationError as exc:
            raise ParseError(source_name, draft.line, str(exc)) from exc
