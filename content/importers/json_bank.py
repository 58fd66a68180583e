"""JSON: Open Trivia DB responses and the bank's own schema.

Open Trivia DB is the most common free source of ready-made multiple-choice questions;
the bank's own schema lets people write or export questions by hand. Both point at the
object's line when something is wrong, which plain `json.loads` cannot do, hence the
small position walker below.
"""

from __future__ import annotations

import base64
import bisect
import html
import json
import re
import urllib.parse
from collections.abc import Callable
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult
from content.model import LETTERS, Question, SourceRef, normalize_difficulty

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
_BANK_FIELDS = frozenset(Question.model_fields) - {"id", "source"}
_IGNORED_FIELDS = frozenset({"id", "source"})
_OTDB_CODES = {
    1: "no results (the category has fewer questions than asked for)",
    2: "an invalid parameter in the request",
    3: "a session token that does not exist",
    4: "a session token that has returned every question (reset it)",
    5: "too many requests (wait five seconds between requests)",
}


@lru_cache(maxsize=1)
def _newlines(text: str) -> tuple[int, ...]:
    return tuple(match.start() for match in re.finditer("\n", text))


def _line_at(text: str, offset: int) -> int:
    """1-based line of `offset`; cached newline offsets keep big files linear."""
    return bisect.bisect_left(_newlines(text), offset) + 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _value_end(text: str, pos: int) -> int:
    _value, end = _DECODER.raw_decode(text, pos)
    return int(end)


def _array_items(text: str, pos: int) -> list[int]:
    """Offsets of the elements of the (already validated) array starting at `pos`."""
    offsets: list[int] = []
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        offsets.append(pos)
        pos = _skip(text, _value_end(text, pos))
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
    return offsets


def _object_members(text: str, pos: int) -> dict[str, int]:
    """Offsets of each member's value in the (already validated) object at `pos`."""
    members: dict[str, int] = {}
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past the colon
        members[str(key)] = pos
        pos = _skip(text, _value_end(text, pos))
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
    return members


def _base64(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


def _trivia_decoder(item: dict[str, Any]) -> Callable[[str], str]:
    """How this result's strings are encoded: the API's `encode` parameter is not echoed.

    The default is HTML entities; `encode=base64` encodes every string (so the type reads
    'bXVsdGlwbGU='), `encode=url3986` and `urlLegacy` percent-encode them.
    """
    kind = item.get("type")
    if isinstance(kind, str) and _base64(kind) in {"multiple", "boolean"}:
        return lambda value: html.unescape(_base64(value)).strip()
    question = item.get("question")
    if isinstance(question, str) and " " not in question.strip() and "%" in question:
        return lambda value: urllib.parse.unquote_plus(value).strip()
    return lambda value: html.unescape(value).strip()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "question"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class JsonImporter:
    """One JSON document: an Open Trivia DB response, or a list of bank questions."""

    name = "json"

    def sniff(self, text: str, filename: str) -> float:
        stripped = text.lstrip("\ufeff \t\r\n")
        if not stripped.startswith(("{", "[")):
            return 0.0
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            return 0.3 if PurePath(filename).suffix.lower() == ".json" else 0.0
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            return 0.95
        if isinstance(data, dict) and isinstance(data.get("questions"), list):
            return 0.9
        if isinstance(data, list) and all(isinstance(d, dict) and "prompt" in d for d in data):
            return 0.9
        return 0.5

    def parse(self, text: str, source_name: str) -> ParseResult:
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # keep offsets, drop the byte-order mark
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(source_name, exc.lineno, f"invalid JSON: {exc.msg}") from None
        except (ValueError, RecursionError) as exc:
            raise ParseError(source_name, 1, f"unreadable JSON: {exc}") from None
        root = _skip(text, 0)
        try:
            if isinstance(data, dict) and "results" in data:
                return self._trivia(text, root, data, source_name)
            if isinstance(data, dict) and "questions" in data:
                return self._bank(text, _object_members(text, root)["questions"], source_name)
            if isinstance(data, list):
                return self._bank(text, root, source_name)
        except RecursionError:
            raise ParseError(source_name, 1, "JSON nested too deeply") from None
        raise ParseError(
            source_name,
            _line_at(text, root),
            "expected a list of questions, {\"questions\": [...]}, "
            "or an Open Trivia DB response with \"results\"",
        )

    # Open Trivia DB ------------------------------------------------------------------

    def _trivia(
        self, text: str, root: int, data: dict[str, Any], source_name: str
    ) -> ParseResult:
        members = _object_members(text, root)
        code = data.get("response_code", 0)
        if code != 0:
            reason = _OTDB_CODES.get(code, "an unknown error") if isinstance(code, int) else ""
            raise ParseError(
                source_name,
                _line_at(text, members.get("response_code", root)),
                f"Open Trivia DB answered response_code {code!r}: {reason or 'not a number'}",
            )
        results = data["results"]
        if not isinstance(results, list):
            raise ParseError(
                source_name, _line_at(text, members["results"]), "\"results\" must be a list"
            )
        questions = []
        for item, offset in zip(results, _array_items(text, members["results"]), strict=True):
            line = _line_at(text, offset)
            questions.append(self._trivia_item(item, line, source_name))
        return ParseResult(questions=tuple(questions))

    @staticmethod
    def _trivia_item(item: object, line: int, source_name: str) -> Question:
        if not isinstance(item, dict):
            raise ParseError(source_name, line, "each Open Trivia DB result must be an object")
        decode = _trivia_decoder(item)
        fields: dict[str, str] = {}
        for key in ("type", "question", "correct_answer"):
            value = item.get(key)
            decoded = decode(value) if isinstance(value, str) else ""
            if not decoded:
                raise ParseError(source_name, line, f"result is missing a text {key!r}")
            fields[key] = decoded
        wrong = item.get("incorrect_answers", [])
        if not isinstance(wrong, list) or not all(isinstance(w, str) for w in wrong):
            raise ParseError(source_name, line, "incorrect_answers must be a list of text")
        category = item.get("category", "")
        level = item.get("difficulty", "")
        topic = decode(category) if isinstance(category, str) else ""
        difficulty = normalize_difficulty(decode(level)) if isinstance(level, str) else None
        correct_text = fields["correct_answer"]
        if fields["type"] == "boolean":
            choices: tuple[str, ...] = ("True", "False")
            if correct_text.casefold() not in {"true", "false"}:
                raise ParseError(source_name, line, "a boolean result's answer must be True/False")
        elif fields["type"] == "multiple":
            options = {decode(w) for w in wrong} | {correct_text}
            options.discard("")
            # Sorted so that the correct option's letter does not give it away and a
            # re-import puts every option in the same place.
            choices = tuple(sorted(options, key=lambda o: (o.casefold(), o)))
            if len(choices) < 2 or len(choices) > len(LETTERS):
                raise ParseError(
                    source_name, line, f"a multiple result needs 2 to {len(LETTERS)} options"
                )
        else:
            raise ParseError(
                source_name, line, f"unknown type {fields['type']!r}: use multiple or boolean"
            )
        index = [c.casefold() for c in choices].index(correct_text.casefold())
        try:
            return Question.make(
                prompt=fields["question"],
                source=SourceRef(file=source_name, line=line),
                kind="choice",
                choices=choices,
                correct=LETTERS[index],
                difficulty=difficulty,
                topic=topic,
            )
        except ValidationError as exc:
            raise ParseError(source_name, line, _describe(exc)) from None

    # The bank's own schema ------------------------------------------------------------

    def _bank(self, text: str, array_at: int, source_name: str) -> ParseResult:
        if text[array_at] != "[":
            raise ParseError(
                source_name, _line_at(text, array_at), "\"questions\" must be a list"
            )
        questions: list[Question] = []
        warned = False
        warnings: list[str] = []
        for offset in _array_items(text, array_at):
            line = _line_at(text, offset)
            item = _DECODER.raw_decode(text, offset)[0]
            if not isinstance(item, dict):
                raise ParseError(source_name, line, "each question must be an object")
            unknown = sorted(set(item) - _BANK_FIELDS - _IGNORED_FIELDS)
            if unknown:
                raise ParseError(
                    source_name,
                    line,
                    f"unknown field(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(_BANK_FIELDS))}",
                )
            if not warned and set(item) & _IGNORED_FIELDS:
                warnings.append(
                    f"{source_name}:{line}: 'id' and 'source' are recomputed from this file"
                )
                warned = True
            prompt_at = _object_members(text, offset).get("prompt", offset)
            questions.append(
                self._bank_item(item, line, _line_at(text, prompt_at), source_name)
            )
        return ParseResult(questions=tuple(questions), warnings=tuple(warnings))

    @staticmethod
    def _bank_item(
        item: dict[str, Any], line: int, prompt_line: int, source_name: str
    ) -> Question:
        fields = {k: v for k, v in item.items() if k in _BANK_FIELDS}
        level = fields.get("difficulty")
        if isinstance(level, str) and normalize_difficulty(level) is not None:
            fields["difficulty"] = normalize_difficulty(level)
        source = SourceRef(file=source_name, line=prompt_line)
        try:
            # First pass checks types and the kind/choices rules with a status that
            # cannot fail them; make() then derives the real status and the id.
            probe = Question.model_validate(
                {"status": "needs_answer", **fields, "id": "q0", "source": source}
            )
            return Question.make(
                prompt=probe.prompt,
                source=source,
                answer=probe.answer,
                kind=probe.kind,
                choices=probe.choices,
                correct=probe.correct,
                explanation=probe.explanation,
                difficulty=probe.difficulty,
                topic=probe.topic,
                tags=probe.tags,
                hints=probe.hints,
                notes=probe.notes,
                status=probe.status if "status" in fields else None,
            )
        except ValidationError as exc:
            raise ParseError(source_name, line, _describe(exc)) from None
