"""Delimited text: CSV/TSV with or without a header, Anki's text export, Quizlet's export.

Spreadsheets, Anki and Quizlet are where people already keep flash cards, and all three
save one card per row. The separator and the meaning of each column are found from the
file itself (Anki's `#key:value` header lines, a header row, or the row shape) so that
nobody has to say which flavour they have. A row that does not fit stops the import at
its line, because a shifted column would silently turn answers into topics.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.model import LETTERS, Question, SourceRef, normalize_difficulty

# Column names people use, folded (lower case, no spaces, dashes or underscores).
_ALIASES: dict[str, str] = {
    **dict.fromkeys(("question", "front", "term", "prompt", "q", "text"), "question"),
    **dict.fromkeys(("answer", "back", "definition", "a", "response"), "answer"),
    **dict.fromkeys(("topic", "category", "deck", "section", "subject"), "topic"),
    **dict.fromkeys(("difficulty", "level", "diff"), "difficulty"),
    **dict.fromkeys(("tags", "tag", "labels"), "tags"),
    **dict.fromkeys(("choices", "options", "choice", "answers", "alternatives"), "choices"),
    **dict.fromkeys(
        ("correct", "key", "answerletter", "correctanswer", "correctoption", "solution"),
        "correct",
    ),
    **dict.fromkeys(("explanation", "rationale", "why", "extra", "backextra"), "explanation"),
}
_ANKI_SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
    "colon": ":",
}
_SEPARATOR_NAMES = {v: k for k, v in _ANKI_SEPARATORS.items()}
_ANKI_HEADER = re.compile(r"^#([a-z][a-z ]*):(.*)$", re.IGNORECASE)
_SNIFF_DELIMITERS = ("\t", ",", ";")
_MAX_SAMPLE_ROWS = 200


@dataclass
class _Layout:
    """What the top of the file says about the rest: separator, HTML, fixed columns."""

    body_start: int = 0  # index of the first line after Anki's header lines
    delimiter: str | None = None
    html: bool = False
    deck: str = ""
    tags: tuple[str, ...] = ()
    columns: str = ""  # Anki's '#columns:' line, split once the separator is known
    special: dict[str, int] = field(default_factory=dict)  # role -> 0-based column
    anki: bool = False


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def _html_to_markdown(text: str) -> str:
    """Anki stores fields as HTML; keep the simple formatting, drop the rest."""
    text = re.sub(r"\[sound:[^\][]*\]", "", text)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"</?(?:div|p)\b[^<>]*>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<li\b[^<>]*>", "\n- ", text, flags=re.IGNORECASE)
    text = re.sub(r"</?(?:b|strong)\b[^<>]*>", "**", text, flags=re.IGNORECASE)
    text = re.sub(r"</?(?:i|em)\b[^<>]*>", "*", text, flags=re.IGNORECASE)
    text = re.sub(r"</?code\b[^<>]*>", "`", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^<>]*>", "", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _read_layout(lines: list[str], source_name: str) -> _Layout:
    layout = _Layout()
    for index, raw in enumerate(lines):
        match = _ANKI_HEADER.match(raw.strip())
        if match is None:
            break
        layout.body_start = index + 1
        layout.anki = True
        key, value = match.group(1).strip().lower(), match.group(2).strip()
        if key == "separator":
            sep = _ANKI_SEPARATORS.get(value.lower(), value if len(value) == 1 else None)
            if sep is None:
                raise ParseError(
                    source_name,
                    index + 1,
                    f"unknown separator {value!r}: use one of {', '.join(_ANKI_SEPARATORS)}"
                    " or a single character",
                )
            layout.delimiter = sep
        elif key == "html":
            layout.html = value.lower() == "true"
        elif key == "deck":
            layout.deck = value
        elif key == "tags":
            layout.tags = tuple(value.split())
        elif key == "columns":
            layout.columns = value
        elif key.endswith(" column"):
            role = key.removesuffix(" column").strip()
            if not value.isdigit() or int(value) < 1:
                raise ParseError(
                    source_name, index + 1, f"'{key}' needs a column number (1 or more)"
                )
            layout.special[role] = int(value) - 1
    return layout


def _rows(body: list[str], delimiter: str) -> list[tuple[int, list[str]]]:
    """CSV rows with the 0-based index of the body line each starts on."""
    reader = csv.reader(body, delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    consumed = 0
    for row in reader:
        start = consumed
        consumed = reader.line_num
        if any(cell.strip() for cell in row):
            rows.append((start, row))
    return rows


def _guess_delimiter(body: list[str]) -> tuple[str, float] | None:
    """The separator that splits the most rows into the same number (≥2) of fields."""
    best: tuple[str, float] | None = None
    sample = [line for line in body if line.strip()][:_MAX_SAMPLE_ROWS]
    if not sample:
        return None
    for delimiter in _SNIFF_DELIMITERS:
        try:
            widths = [len(row) for _start, row in _rows(sample, delimiter)]
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        share = count / len(widths)
        if width >= 2 and (best is None or share > best[1]):
            best = (delimiter, share)
    return best


def _header_roles(row: list[str]) -> list[str] | None:
    roles = [_ALIASES.get(_fold(cell), "") for cell in row]
    if "question" in roles and ({"answer", "choices"} & set(roles)):
        return roles
    return None


class DelimitedImporter:
    """One card per row; finds the separator and the columns' meaning by itself."""

    name = "csv"

    def sniff(self, text: str, filename: str) -> float:
        lines = text.removeprefix("\ufeff").splitlines()
        try:
            layout = _read_layout(lines, filename)
        except ParseError:
            return 0.3
        if layout.anki and (layout.delimiter or layout.html or layout.special):
            return 0.9
        body = lines[layout.body_start :]
        suffix = PurePath(filename).suffix.lower()
        guess = _guess_delimiter(body)
        if guess is None:
            return 0.0
        delimiter, share = guess
        rows = [line for line in body if line.strip()]
        first = next(csv.reader(rows[:1], delimiter=delimiter), [])
        has_header = _header_roles(first) is not None
        if suffix in {".csv", ".tsv"}:
            return 0.85 if has_header or share >= 0.9 else 0.6
        if len(rows) < 2 or share < 0.9:
            return 0.0
        if has_header:
            return 0.8
        return 0.6 if delimiter == "\t" else 0.4

    def parse(self, text: str, source_name: str) -> ParseResult:
        lines = text.removeprefix("\ufeff").splitlines(keepends=True)
        layout = _read_layout(lines, source_name)
        body = lines[layout.body_start :]
        delimiter = layout.delimiter
        if delimiter is None:
            suffix = PurePath(source_name).suffix.lower()
            guess = _guess_delimiter(body)
            if guess is None and suffix == ".tsv":
                delimiter = "\t"
            elif guess is None:
                raise ParseError(
                    source_name,
                    layout.body_start + 1,
                    "no column separator found: expected rows of question and answer "
                    "separated by a comma, semicolon or tab",
                )
            else:
                delimiter = guess[0]
        try:
            rows = _rows(body, delimiter)
        except csv.Error as exc:
            raise ParseError(source_name, layout.body_start + 1, f"unreadable CSV: {exc}") from None
        return _Reader(layout, delimiter, source_name).read(rows)


class _Reader:
    """Turns rows into questions once the layout and separator are known."""

    def __init__(self, layout: _Layout, delimiter: str, source_name: str) -> None:
        self.layout = layout
        self.delimiter = delimiter
        self.source = source_name
        self.warnings: list[str] = []

    def line(self, start: int) -> int:
        return self.layout.body_start + start + 1

    def roles(self, rows: list[tuple[int, list[str]]]) -> tuple[list[str], bool]:
        """The role of each column, and whether the first row was the header naming them."""
        layout = self.layout
        if layout.columns:
            named = next(csv.reader([layout.columns], delimiter=self.delimiter), [])
            return [_ALIASES.get(_fold(c), "") for c in named], False
        if rows and not layout.special:
            header = _header_roles(rows[0][1])
            if header is not None:
                return header, True
        width = len(rows[0][1]) if rows else 2
        roles = [""] * width
        fields = [i for i in range(width) if i not in layout.special.values()]
        for role, column in layout.special.items():
            if column < width and role in {"deck", "tags"}:
                roles[column] = "topic" if role == "deck" else "tags"
        for role, column in zip(("question", "answer"), fields, strict=False):
            roles[column] = role
        if len(fields) > 2 and not layout.anki:
            self.warnings.append(
                f"{self.source}:{self.line(rows[0][0])}: columns after the second are "
                "ignored; add a header row (question,answer,topic,...) to use them"
            )
        return roles, False

    def read(self, rows: list[tuple[int, list[str]]]) -> ParseResult:
        roles, has_header = self.roles(rows)
        if "question" not in roles:
            line = self.line(rows[0][0]) if rows else self.layout.body_start + 1
            raise ParseError(self.source, line, "no question column: name one 'question'")
        questions = []
        for start, row in rows[1:] if has_header else rows:
            line = self.line(start)
            if len(row) != len(roles):
                sep = _SEPARATOR_NAMES.get(self.delimiter, repr(self.delimiter))
                raise ParseError(
                    self.source,
                    line,
                    f"expected {len(roles)} fields separated by {sep}, found {len(row)} "
                    "(quote fields that contain the separator)",
                )
            questions.append(self.question(dict(zip(roles, row, strict=True)), line))
        return ParseResult(questions=tuple(questions), warnings=tuple(self.warnings))

    def cell(self, cells: dict[str, str], role: str) -> str:
        value = cells.get(role, "")
        if self.layout.html:
            return _html_to_markdown(value)
        return value.strip()

    def question(self, cells: dict[str, str], line: int) -> Question:
        prompt = self.cell(cells, "question")
        if not prompt:
            raise ParseError(self.source, line, "this row has no question text")
        answer = self.cell(cells, "answer")
        topic = self.cell(cells, "topic") or self.layout.deck
        topic = topic.split("::")[-1].strip()
        raw_level = self.cell(cells, "difficulty")
        difficulty = normalize_difficulty(raw_level) if raw_level else None
        if raw_level and difficulty is None:
            self.warnings.append(
                f"{self.source}:{line}: unknown difficulty {raw_level!r} left empty "
                "(use easy, medium or hard)"
            )
        tags = self.layout.tags + tuple(
            t for t in re.split(r"[\s,]+", self.cell(cells, "tags")) if t
        )
        choices, correct = self.choices(cells, answer, line)
        try:
            return Question.make(
                prompt=prompt,
                source=SourceRef(file=self.source, line=line),
                answer=answer,
                kind="choice" if choices else "open",
                choices=choices,
                correct=correct,
                explanation=self.cell(cells, "explanation"),
                difficulty=difficulty,
                topic=topic,
                tags=tuple(dict.fromkeys(tags)),
            )
        except ValidationError as exc:
            reason = "; ".join(str(e["msg"]) for e in exc.errors())
            raise ParseError(self.source, line, reason) from None

    def choices(
        self, cells: dict[str, str], answer: str, line: int
    ) -> tuple[tuple[str, ...], str | None]:
        raw = self.cell(cells, "choices")
        if not raw:
            if self.cell(cells, "correct"):
                raise ParseError(self.source, line, "a correct option is given but no choices")
            return (), None
        splitter = "|" if "|" in raw else ("\n" if "\n" in raw else ";")
        choices = tuple(c.strip() for c in raw.split(splitter) if c.strip())
        if not 2 <= len(choices) <= len(LETTERS):
            raise ParseError(
                self.source,
                line,
                f"choices must list 2 to {len(LETTERS)} options separated by '|', "
                f"found {len(choices)}",
            )
        key = self.cell(cells, "correct") or answer
        if not key:
            return choices, None
        letters = LETTERS[: len(choices)]
        folded = [c.casefold() for c in choices]
        stripped = key.strip().rstrip(".)").upper()
        if len(stripped) == 1 and stripped in letters:
            return choices, stripped
        if key.isdigit() and 1 <= int(key) <= len(choices):
            return choices, LETTERS[int(key) - 1]
        if key.casefold() in folded:
            return choices, LETTERS[folded.index(key.casefold())]
        if not self.cell(cells, "correct"):
            return choices, None  # the answer column is prose, not the key
        raise ParseError(
            self.source,
            line,
            f"correct {key!r} is neither a letter {letters[0]}-{letters[-1]}, "
            "a number, nor the text of one of the choices",
        )
