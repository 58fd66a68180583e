"""What every importer is: a name, a sniffer and a parser from text to questions.

Importers are pure (text in, questions out) so that the atomicity of an import lives in
one place, the caller, and so that they can be property-tested on arbitrary text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from content.model import Question


class ParseError(Exception):
    """A file the importer cannot read; carries file:line so a person can fix it."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Skipped:
    """A block of the source that became no question, and why: nothing goes unreported.

    `line`..`end_line` are 1-based and inclusive; `preview` is its first line, shortened.
    """

    line: int
    end_line: int
    reason: str
    preview: str = ""


@dataclass(frozen=True)
class HeldBack:
    """A question imported but not ready (needs a key or an answer), and what to fix."""

    id: str
    line: int
    status: str
    reason: str


@dataclass(frozen=True)
class ParseResult:
    """The questions of one file, in document order, and non-fatal remarks (file:line).

    `skipped` lists the text that is no question (importers that account for every line
    fill it); `held_back` says why each question that is not ready is held back.
    """

    questions: tuple[Question, ...]
    warnings: tuple[str, ...] = field(default=())
    skipped: tuple[Skipped, ...] = field(default=())
    held_back: tuple[HeldBack, ...] = field(default=())


class Importer(Protocol):
    """One document shape.

    `name` is what `--format` takes. `sniff` returns a confidence in [0, 1] that `text`
    has this shape (0 = certainly not); the highest wins. `parse` must never raise
    anything but ParseError, whatever the text.
    `source_name` is the file name recorded in each question's SourceRef (and id).
    """

    name: str

    def sniff(self, text: str, filename: str) -> float: ...

    def parse(self, text: str, source_name: str) -> ParseResult: ...


def guarded_parse(parse: Callable[[str, str], ParseResult], text: str, source_name: str,
                  what: str) -> ParseResult:
    """Run a parser whose internals may trip on text nobody foresaw, keeping the
    Importer contract: nothing but ParseError (file:line) leaves `parse`."""
    try:
        return parse(text, source_name)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(source_name, 1, f"unreadable {what} ({exc!r})") from exc
