"""Text extracted from a PDF of "Q1: ..." questions under numbered section titles (seed 002).

Extraction keeps the words but loses the layout, so the parser rebuilds it: "N. Title"
lines right before a question are sections (the subject their title names is the topic;
questions before any section get the subject the document's title names, never the title
itself), "Qn:" lines are prompts, and the lines up to the next question are the answer.
In the answer, glyph bullets (✓ ✅ 📌 ♦ ❑), bare and circled digits become Markdown list
items, lines the PDF broke mid-sentence are joined again, tab-separated rows become a pipe
table, and page numbers or repeats of the title lines (page headers) are dropped.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.importers.textutil import (
    Block,
    ListItem,
    clean_line,
    ends_sentence,
    is_page_artifact,
    is_table_row,
    join_blocks,
    join_wrapped,
    parse_list_item,
    table_to_markdown,
)
from content.model import Question, SourceRef
from content.topics import subject_of

_QUESTION = re.compile(r"^Q(\d{1,3})\s*[:.)]\s*(\S.*)$")
_SECTION = re.compile(r"^(\d{1,2})\.\s+(\S.{0,120})$")
_MD_HEADING = re.compile(r"^#{1,6}\s")
# A bullet whose glyph the extraction dropped: "**Term** — text" inside a list.
_LOST_GLYPH = re.compile(r"^\*\*[^*]+\*\*\s*[—–:-]")
_GLYPH_LINE = re.compile(r"^(?:[-*]\s+)?[✓✔✅📌♦❑❖➢►•]")


@dataclass
class _Line:
    number: int  # 1-based
    raw: str
    text: str


@dataclass
class _Draft:
    prompt: str
    line: int
    topic: str
    body: list[_Line] = field(default_factory=list)


def _content_lines(text: str) -> list[_Line]:
    return [
        _Line(number, raw, clean_line(raw))
        for number, raw in enumerate(text.splitlines(), start=1)
        if clean_line(raw)
    ]


class PdfQaImporter:
    """Reads a PDF extraction of "Qn:" questions and rebuilds the Markdown of its answers."""

    name = "pdf-qa"

    def sniff(self, text: str, filename: str) -> float:
        lines = [ln.text for ln in _content_lines(text)]
        numbers = [int(m.group(1)) for ln in lines if (m := _QUESTION.match(ln))]
        if len(numbers) < 2:
            return 0.0
        score = 0.55
        in_order = sum(1 for a, b in itertools.pairwise(numbers) if b == a + 1)
        score += 0.15 * in_order / (len(numbers) - 1)
        if any(_GLYPH_LINE.match(ln) for ln in lines):
            score += 0.1
        if any(
            _SECTION.match(here) and _QUESTION.match(after)
            for here, after in itertools.pairwise(lines)
        ):
            score += 0.1
        if any(_MD_HEADING.match(ln) for ln in lines):
            score *= 0.5  # Markdown with "Q1:" headings belongs to the Markdown importer
        return round(score, 3)

    def parse(self, text: str, source_name: str) -> ParseResult:
        lines = _content_lines(text)
        first = next((i for i, ln in enumerate(lines) if _QUESTION.match(ln.text)), None)
        if first is None:
            raise ParseError(
                source_name,
                1,
                "no questions found: expected lines such as 'Q1: What is ...?'",
            )
        preamble = [ln for i, ln in enumerate(lines[:first]) if self._section(lines, i) is None]
        title_lines = {ln.text.casefold() for ln in preamble}
        title = " ".join(ln.text for ln in preamble)
        subject = subject_of(title)
        topic = ""
        drafts: list[_Draft] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            section = self._section(lines, index)
            if section is not None:
                topic = subject_of(section)
                index += 1
                continue
            match = _QUESTION.match(line.text)
            if match is not None:
                prompt, index = self._prompt(lines, index, match.group(2))
                drafts.append(_Draft(prompt=prompt, line=line.number, topic=topic or subject))
                continue
            if drafts and not self._is_artifact(line, title_lines):
                drafts[-1].body.append(line)
            index += 1
        return ParseResult(questions=tuple(self._question(d, source_name) for d in drafts))

    @staticmethod
    def _section(lines: list[_Line], index: int) -> str | None:
        """The title of a "N. Title" line that introduces a question, else None."""
        match = _SECTION.match(lines[index].text)
        if match is None or ends_sentence(match.group(2)):
            return None
        after = index + 1
        while after < len(lines) and is_page_artifact(lines[after].text):
            after += 1  # a page break between a section title and its first question
        following = lines[after].text if after < len(lines) else ""
        return match.group(2).strip() if _QUESTION.match(following) else None

    @staticmethod
    def _prompt(lines: list[_Line], index: int, prompt: str) -> tuple[str, int]:
        """The prompt, re-joined if the PDF wrapped it; and the index after it."""
        index += 1
        while index < len(lines) and not ends_sentence(prompt) and lines[index].text[:1].islower():
            prompt = join_wrapped(prompt, lines[index].text)
            index += 1
        return prompt, index

    @staticmethod
    def _is_artifact(line: _Line, title_lines: set[str]) -> bool:
        return is_page_artifact(line.text) or line.text.casefold() in title_lines

    @staticmethod
    def _blocks(body: list[_Line]) -> list[Block]:
        """Rebuild the answer's paragraphs, lists and tables from its extracted lines."""
        blocks: list[Block] = []
        table: list[str] = []
        last_item: ListItem | None = None
        glyph_alone = False
        for line in body:
            if is_table_row(line.raw):
                table.append(line.raw)
                continue
            if table:
                blocks.append(Block("table", table_to_markdown(table)))
                table, last_item = [], None
            item = parse_list_item(line.raw, bare_numbers=True)
            if item is None and glyph_alone:
                item = ListItem(line.text)
            glyph_alone = item is not None and not item.text
            if item is None and last_item is not None and _LOST_GLYPH.match(line.text):
                number = None if last_item.number is None else last_item.number + 1
                item = ListItem(line.text, number)
            previous = blocks[-1] if blocks else None
            if glyph_alone:
                continue  # a glyph alone on its line: its text follows on the next line
            if (
                item is None
                and previous is not None
                and previous.kind != "table"
                and (not ends_sentence(previous.markdown) or line.text[:1].islower())
            ):
                blocks[-1] = Block(previous.kind, join_wrapped(previous.markdown, line.text))
                continue
            if item is not None:
                blocks.append(Block("item", item.markdown()))
                last_item = item
            else:
                blocks.append(Block("text", line.text))
                last_item = None
        if table:
            blocks.append(Block("table", table_to_markdown(table)))
        return blocks

    def _question(self, draft: _Draft, source_name: str) -> Question:
        try:
            return Question.make(
                prompt=draft.prompt,
                source=SourceRef(file=source_name, line=draft.line),
                answer=join_blocks(self._blocks(draft.body)),
                topic=draft.topic,
            )
        except ValidationError as exc:
            raise ParseError(source_name, draft.line, str(exc)) from exc
