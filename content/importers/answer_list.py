"""Question lines each followed by an "- Answer:" line, under plain topic headings (seed 000).

The shape of a list pasted from a chat or a blog: a topic heading, then for each question
its line (sometimes written "- What is ...?"), then "- Answer: ..." (or "-" on one line and
"Answer: ..." on the next), the answer going on as "- " bullet lines. The "Answer:" line
is the anchor: whatever sits right before it is the question, and an unbulleted line just
before a question is the heading of the questions that follow; the subject it names
(`content.topics.subject_of`) is their topic, none when it names only the collection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.importers.textutil import (
    Block,
    clean_line,
    ends_sentence,
    join_blocks,
    parse_list_item,
)
from content.model import Question, SourceRef
from content.topics import subject_of

_ANSWER = re.compile(r"^(?:-\s*)?Answer\s*:\s*(.*)$")
_MD_HEADING = re.compile(r"^#{1,6}\s")
_HEADING_MAX = 80


@dataclass
class _Entry:
    """One question as found: where its prompt and answer lines are."""

    prompt_line: int  # index into the document's lines
    answer_line: int
    topic: str = ""
    blocks: list[Block] = field(default_factory=list)


def _is_dash(line: str) -> bool:
    return line in {"-", "–", "—"}


def _prompt_text(line: str) -> str:
    return line[2:].strip() if line.startswith("- ") else line


def _looks_like_heading(line: str) -> bool:
    return (
        not line.startswith("-")
        and len(line) <= _HEADING_MAX
        and not ends_sentence(line)
        and _ANSWER.match(line) is None
    )


class AnswerListImporter:
    """Reads "question / - Answer:" lists; the answer's bullets become a Markdown list."""

    name = "answer-list"

    def sniff(self, text: str, filename: str) -> float:
        lines = [clean_line(raw) for raw in text.splitlines()]
        answers = 0
        paired = 0
        for index, line in enumerate(lines):
            if _ANSWER.match(line) is None:
                continue
            answers += 1
            before = self._previous_content(lines, index)
            if before is not None and lines[before].endswith("?"):
                paired += 1
        if paired < 2:
            return 0.0
        score = 0.5 + 0.4 * paired / answers
        if any(_MD_HEADING.match(line) for line in lines):
            score *= 0.5  # a Markdown bank that happens to write "Answer:" lines
        return round(score, 3)

    @staticmethod
    def _previous_content(lines: list[str], index: int) -> int | None:
        """The nearest line above `index` that is neither blank nor a lone dash."""
        j = index - 1
        while j >= 0 and (not lines[j] or _is_dash(lines[j])):
            j -= 1
        return j if j >= 0 else None

    def parse(self, text: str, source_name: str) -> ParseResult:
        lines = [clean_line(raw) for raw in text.splitlines()]
        warnings: list[str] = []
        entries = self._find_entries(lines, source_name, warnings)
        if not entries:
            raise ParseError(
                source_name,
                1,
                "no questions found: expected a question line followed by "
                "'- Answer: ...' (or '-' then 'Answer: ...')",
            )
        topic = self._preamble_heading(lines, entries[0].prompt_line)
        for position, entry in enumerate(entries):
            entry.topic = topic
            end = entries[position + 1].prompt_line if position + 1 < len(entries) else len(lines)
            is_last = position + 1 == len(entries)
            topic = self._read_answer(lines, entry, end, topic, is_last, source_name, warnings)
        questions: list[Question] = []
        for entry in entries:
            try:
                questions.append(
                    Question.make(
                        prompt=_prompt_text(lines[entry.prompt_line]),
                        source=SourceRef(file=source_name, line=entry.prompt_line + 1),
                        answer=join_blocks(entry.blocks),
                        topic=entry.topic,
                    )
                )
            except ValidationError as exc:
                raise ParseError(source_name, entry.prompt_line + 1, str(exc)) from exc
        return ParseResult(questions=tuple(questions), warnings=tuple(warnings))

    def _find_entries(
        self, lines: list[str], source_name: str, warnings: list[str]
    ) -> list[_Entry]:
        entries: list[_Entry] = []
        for index, line in enumerate(lines):
            if _ANSWER.match(line) is None:
                continue
            before = self._previous_content(lines, index)
            previous_answer = entries[-1].answer_line if entries else -1
            if before is None or before <= previous_answer or _ANSWER.match(lines[before]):
                warnings.append(
                    f"{source_name}:{index + 1}: an 'Answer:' line with no question "
                    "line before it was left out"
                )
                continue
            entries.append(_Entry(prompt_line=before, answer_line=index))
        return entries

    @staticmethod
    def _preamble_heading(lines: list[str], first_prompt: int) -> str:
        """The heading right above the first question; titles and intros above it are not."""
        j = first_prompt - 1
        while j >= 0 and (not lines[j] or _is_dash(lines[j])):
            j -= 1
        return subject_of(lines[j]) if j >= 0 and _looks_like_heading(lines[j]) else ""

    @staticmethod
    def _read_answer(
        lines: list[str],
        entry: _Entry,
        end: int,
        topic: str,
        is_last: bool,
        source_name: str,
        warnings: list[str],
    ) -> str:
        """Collect the answer of `entry` up to line `end`; return the topic for what follows.

        The answer is the text after "Answer:" and the bullet lines that follow it. The
        first unbulleted line ends it: right before the next question it is that
        question's heading, anywhere else it is stray text and is reported.
        """
        first = _ANSWER.match(lines[entry.answer_line])
        if first is not None and first.group(1).strip():
            entry.blocks.append(Block("text", first.group(1).strip()))
        in_answer = True
        pending: int | None = None
        for index in range(entry.answer_line + 1, end):
            line = lines[index]
            if not line or _is_dash(line):
                continue
            item = parse_list_item(line) if line.startswith("-") else None
            if in_answer and item is not None:
                if item.text:
                    entry.blocks.append(Block("item", item.markdown()))
                continue
            in_answer = False
            if pending is not None:
                warnings.append(f"{source_name}:{pending + 1}: text outside any answer left out")
            pending = index
        if pending is None:
            return topic
        if not is_last and _looks_like_heading(lines[pending]):
            return subject_of(lines[pending])
        warnings.append(f"{source_name}:{pending + 1}: text outside any answer left out")
        return topic
