"""Aiken: the plain-text multiple-choice format Moodle and many quiz tools exchange.

A question is its prompt, options `A. text` or `A) text`, then `ANSWER: X`; a blank line
separates questions. The format has no place for anything else, so anything that does
not fit is a mistake a person should fix: it raises ParseError at that line instead of
being guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from content.importers.base import ParseError, ParseResult
from content.model import LETTERS, Question, SourceRef

_OPTION = re.compile(r"^([A-J])[.)]\s+(\S.*)$")
_ANSWER = re.compile(r"^ANSWER:\s*(\S*)\s*$")
_ANSWER_LOOSE = re.compile(r"^answer\s*:", re.IGNORECASE)


@dataclass
class _Block:
    """One question as written: its prompt lines and options, with where each began."""

    line: int
    prompt: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)


class AikenImporter:
    """Reads Aiken files strictly: the format is too small to leave room for guessing."""

    name = "aiken"

    def sniff(self, text: str, filename: str) -> float:
        lines = [ln.strip() for ln in text.removeprefix("\ufeff").splitlines()]
        keys = sum(1 for ln in lines if _ANSWER.match(ln))
        options = sum(1 for ln in lines if _OPTION.match(ln))
        if keys == 0 or options < 2 * keys:
            return 0.0
        # 'ANSWER: X' after lettered options is distinctive; the extension only nudges.
        suffix = PurePath(filename).suffix.lower()
        return 0.9 if suffix in {".aiken", ".txt", ""} else 0.85

    def parse(self, text: str, source_name: str) -> ParseResult:
        questions: list[Question] = []
        block: _Block | None = None
        for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
            line = raw.strip()
            if not line:
                if block is not None and block.options:
                    raise ParseError(
                        source_name,
                        block.line,
                        "this question has options but no 'ANSWER: <letter>' line after them",
                    )
                # A prompt may be followed by a blank line before its options.
                continue
            answer = _ANSWER.match(line)
            if answer is None and _ANSWER_LOOSE.match(line):
                raise ParseError(
                    source_name, number, "write the key as 'ANSWER: <letter>' in capitals"
                )
            if answer is not None:
                if block is None:
                    raise ParseError(source_name, number, "ANSWER line without a question")
                questions.append(self._finish(block, answer.group(1), number, source_name))
                block = None
                continue
            option = _OPTION.match(line)
            if option is not None and block is not None and block.prompt:
                block.options.append((option.group(1), option.group(2).strip(), number))
                continue
            if block is None:
                block = _Block(line=number, prompt=[line])
            elif block.options:
                raise ParseError(
                    source_name,
                    number,
                    "expected another option ('B. text') or 'ANSWER: <letter>' here",
                )
            else:
                block.prompt.append(line)
        if block is not None:
            raise ParseError(
                source_name, block.line, "this question has no 'ANSWER: <letter>' line"
            )
        return ParseResult(questions=tuple(questions))

    @staticmethod
    def _finish(block: _Block, key: str, key_line: int, source_name: str) -> Question:
        """Check the options run A, B, C... and the key names one of them."""
        if len(block.options) < 2:
            raise ParseError(
                source_name, block.line, "an Aiken question needs at least two options (A., B.)"
            )
        for index, (letter, _text, line) in enumerate(block.options):
            if letter != LETTERS[index]:
                raise ParseError(
                    source_name,
                    line,
                    f"option {letter} is out of order: expected {LETTERS[index]}",
                )
        letters = LETTERS[: len(block.options)]
        if len(key) != 1 or key not in letters:
            raise ParseError(
                source_name,
                key_line,
                f"ANSWER must be one of {', '.join(letters)}, not {key!r}",
            )
        return Question.make(
            prompt=" ".join(block.prompt),
            source=SourceRef(file=source_name, line=block.line),
            kind="choice",
            choices=tuple(text for _letter, text, _line in block.options),
            correct=key,
        )
