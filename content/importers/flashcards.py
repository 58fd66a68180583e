"""A flash-card study page copied out of a browser (seed 004).

The page mixes four kinds of items, each recognised by its own structure, never by
position: recall cards (a level line, the question, the answer, "Click to reveal
answer"), quick multiple-choice questions whose option letters are glued to the text
(`AUI testing`) and that carry no key, concept prompts (question, hint, "You got /4
concepts.") that carry no answer, and worked practice questions (`1. ...`, a level,
`A. ...` options, numbered solution steps ending in "Final Answer: ... -> Option C", a
hint and "Common Mistakes"). Everything else (title bar, mode pickers, counters) is
page furniture. Such a page is a lesson on one subject, which its title names ("Why CI/CD
differs for ML vs software in MLOps - Quick Recap"): that subject, the page's own words
taken off (`content.topics.subject_of`), is every question's topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult, guarded_parse
from content.importers.callouts import bullet_note, strip_ok_mark
from content.importers.code_blocks import code_run_end, fence_code, is_code_start
from content.model import LETTERS, Difficulty, Kind, Note, Question, SourceRef, normalize_difficulty
from content.topics import subject_of

_LEVEL_WORDS = frozenset(
    {"beginner", "intermediate", "advanced", "easy", "medium", "hard", "junior", "senior"}
)
_REVEAL = re.compile(r"^click to reveal( the)? answer\.?$", re.IGNORECASE)
_CONCEPTS = re.compile(r"^You got\s*\d*\s*/\s*\d+\s+concepts?\.?$", re.IGNORECASE)
_COUNTER = re.compile(r"^\(\d+\s*/\s*\d+\)$")
_NUMBERED = re.compile(r"^(\d{1,3})[.)]\s+(\S.*)$")
_OPTION = re.compile(r"^([A-J])[.)]\s+(\S.*)$")
_FINAL = re.compile(r"^(?P<text>.*?)\s*(?:->|→|=>)\s*Option\s+(?P<letter>[A-J])\b", re.I)
_STEP = re.compile(r"^(?:Step\s+\d+\s*:|Final Answer\s*:|Quick Check\s*:)", re.IGNORECASE)
_HINT = re.compile(r"^Hint\s*:\s*(.*)$", re.IGNORECASE)
_MISTAKES = re.compile(r"^Common Mistakes\s*:?\s*$", re.IGNORECASE)
_TITLE_SUFFIX = re.compile(r"\s+[-–—|]\s+(?:Quick Recap|Flashcards?|Practice|Quiz)\s*$", re.I)
_GLYPH_BULLET = re.compile(r"^[•◦▪‣·*-]\s+(.*)$")


def _level(line: str) -> Difficulty | None:
    word = line.strip().lower()
    return normalize_difficulty(word) if word in _LEVEL_WORDS else None


def _glued_option(line: str, letter: str) -> str | None:
    """`AUI testing` read as option A: the letter, then the text starting with a capital."""
    s = line.strip()
    if len(s) < 2 or s[0] != letter or not (s[1].isupper() or s[1].isdigit() or s[1] in "\"'"):
        return None
    return s[1:].strip()


@dataclass
class _Ctx:
    lines: list[str]
    source: str
    topic: str
    questions: list[Question] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def s(self, i: int) -> str:
        return self.lines[i].strip() if 0 <= i < len(self.lines) else ""

    def add(
        self,
        line: int,
        *,
        prompt: str,
        answer: str = "",
        kind: Kind = "open",
        choices: tuple[str, ...] = (),
        correct: str | None = None,
        explanation: str = "",
        difficulty: Difficulty | None = None,
        hints: tuple[str, ...] = (),
        notes: tuple[Note, ...] = (),
    ) -> None:
        """Build through `Question.make`; a field the model refuses becomes a ParseError."""
        try:
            question = Question.make(
                prompt=prompt,
                source=SourceRef(file=self.source, line=line + 1),
                answer=answer,
                kind=kind,
                choices=choices,
                correct=correct,
                explanation=explanation,
                difficulty=difficulty,
                topic=self.topic,
                hints=hints,
                notes=notes,
            )
        except ValidationError as exc:
            reason = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            raise ParseError(self.source, line + 1, reason) from exc
        self.questions.append(question)


def _title(lines: Sequence[str]) -> str:
    """The page title: the first line of four or more words, before any item."""
    for line in lines:
        s = line.strip()
        if _level(s) is not None or _NUMBERED.match(s):
            break
        if len(s.split()) >= 4:
            return subject_of(_TITLE_SUFFIX.sub("", s).replace(",", " "))
    return ""


class FlashcardsImporter:
    """Seed 004's shape; see the module docstring."""

    name = "flashcards"

    def sniff(self, text: str, filename: str) -> float:
        lines = [ln.strip() for ln in text.splitlines()]
        features = [
            any(_REVEAL.match(s) for s in lines),
            any(_CONCEPTS.match(s) for s in lines),
            any(_FINAL.match(s) for s in lines),
            any(s.lower() == "recall & review" for s in lines),
            any(_COUNTER.match(s) for s in lines),
        ]
        found = sum(features)
        return 0.9 if found >= 2 else 0.3 if found == 1 else 0.0

    def parse(self, text: str, source_name: str) -> ParseResult:
        return guarded_parse(self._parse, text, source_name, "flash-card page")

    def _parse(self, text: str, source_name: str) -> ParseResult:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        ctx = _Ctx(lines, source_name, _title(lines))
        i = 0
        while i < len(lines):
            if not ctx.s(i):
                i += 1
                continue
            for reader in (_card, _concept, _quick_choice, _practice):
                after = reader(ctx, i)
                if after is not None:
                    i = after
                    break
            else:
                if ctx.s(i).endswith("?"):
                    ctx.warnings.append(
                        f"{source_name}:{i + 1}: reads like a question but is not laid out as "
                        "a card, a choice question, a prompt or a practice question; skipped"
                    )
                i += 1
        if not ctx.questions:
            raise ParseError(
                source_name,
                1,
                "no flash cards found: expected recall cards ending in 'Click to reveal "
                "answer', questions with options A..D, or numbered practice questions",
            )
        return ParseResult(tuple(ctx.questions), tuple(ctx.warnings))


def _card(ctx: _Ctx, i: int) -> int | None:
    """Level line, question, answer lines, "Click to reveal answer"."""
    level = _level(ctx.s(i))
    if level is None or not ctx.s(i + 1) or _REVEAL.match(ctx.s(i + 1)):
        return None
    j = i + 2
    while j < len(ctx.lines) and j < i + 30 and not _REVEAL.match(ctx.s(j)):
        if _level(ctx.s(j)) is not None:
            return None
        j += 1
    if not _REVEAL.match(ctx.s(j)):
        return None
    answer = "\n\n".join(ctx.s(k) for k in range(i + 2, j) if ctx.s(k))
    ctx.add(i + 1, prompt=ctx.s(i + 1), answer=answer, difficulty=level)
    return j + 1


def _concept(ctx: _Ctx, i: int) -> int | None:
    """Prompt, hint, "You got /4 concepts.": no answer on the page."""
    if not (_CONCEPTS.match(ctx.s(i + 2)) and ctx.s(i + 1)):
        return None
    if _CONCEPTS.match(ctx.s(i + 1)) or _CONCEPTS.match(ctx.s(i)):
        return None
    ctx.add(i, prompt=ctx.s(i), hints=(ctx.s(i + 1),))
    return i + 3


def _quick_choice(ctx: _Ctx, i: int) -> int | None:
    """A question followed by options with their letters glued on, and no key."""
    choices: list[str] = []
    j = i + 1
    while len(choices) < len(LETTERS):
        option = _glued_option(ctx.s(j), LETTERS[len(choices)])
        if option is None:
            break
        choices.append(option)
        j += 1
    if len(choices) < 2 or _glued_option(ctx.s(i), "A") is not None:
        return None
    ctx.add(i, prompt=ctx.s(i), kind="choice", choices=tuple(choices))
    return j


def _practice_start(ctx: _Ctx, i: int) -> int | None:
    """The level line's index if line `i` opens a practice question (`N. ...`)."""
    m = _NUMBERED.match(ctx.s(i))
    if m is None or _STEP.match(m.group(2)):
        return None
    for j in range(i + 1, min(len(ctx.lines), i + 40)):
        s = ctx.s(j)
        if _level(s) is not None:
            return j if _OPTION.match(ctx.s(j + 1)) else None
        if _NUMBERED.match(s) or _OPTION.match(s) or s.lower() == "solution":
            return None
    return None


def _prompt(ctx: _Ctx, first: str, start: int, end: int) -> str:
    """The question text, with any code sample in it fenced."""
    parts = [first]
    # Relative indentation is what tells a code line from the question text under it.
    indent = len(ctx.lines[start - 1]) - len(ctx.lines[start - 1].lstrip())
    body = [ln[indent:] if ln[:indent].isspace() else ln.lstrip() for ln in ctx.lines[start:end]]
    k = 0
    while k < len(body):
        if not body[k].strip():
            k += 1
        elif is_code_start(body[k]):
            stop = code_run_end(body, k)
            parts.append(fence_code(body[k:stop]))
            k = stop
        else:
            parts.append(body[k].strip())
            k += 1
    return "\n\n".join(parts)


@dataclass
class _Solution:
    steps: list[str] = field(default_factory=list)
    correct: str | None = None
    final_text: str = ""
    notes: list[Note] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def _item_body(ctx: _Ctx, j: int) -> tuple[str, int]:
    """The indented lines under a numbered solution item, joined; and where they end."""
    parts: list[str] = []
    while j < len(ctx.lines):
        s = ctx.s(j)
        if s and (_NUMBERED.match(s) or _HINT.match(s) or _MISTAKES.match(s)):
            break
        if s:
            parts.append(s)
        j += 1
    return " ".join(parts), j


def _solution(ctx: _Ctx, j: int) -> tuple[_Solution, int]:
    """Numbered steps, the final answer, the quick check, the hint, the common mistakes."""
    sol = _Solution()
    while j < len(ctx.lines):
        s = ctx.s(j)
        if not s or s.lower() == "solution":
            j += 1
            continue
        m = _NUMBERED.match(s)
        if m is not None and _STEP.match(m.group(2)):
            head = m.group(2)
            inline = head.split(":", 1)[1].strip()
            body, j = _item_body(ctx, j + 1)
            text = " ".join(p for p in (inline, body) if p)
            if head.lower().startswith("final answer"):
                final = _FINAL.match(text)
                if final is not None:
                    sol.correct = final.group("letter").upper()
                    sol.final_text = final.group("text").strip()
                else:
                    sol.extra.append(f"**Final Answer:** {text}")
            elif head.lower().startswith("quick check"):
                sol.notes.append(Note(label="Quick Check", text=strip_ok_mark(text)))
            else:
                title = f"**{head.strip().rstrip(':')}**"
                sol.steps.append(f"{title} — {body}" if body else title)
            continue
        hint = _HINT.match(s)
        if hint is not None:
            sol.hints.append(strip_ok_mark(hint.group(1)))
            j += 1
            continue
        if _MISTAKES.match(s):
            items: list[str] = []
            j += 1
            while j < len(ctx.lines) and _GLYPH_BULLET.match(ctx.s(j)):
                bullet = _GLYPH_BULLET.match(ctx.s(j))
                if bullet is not None:
                    items.append(bullet.group(1))
                j += 1
            if items:
                sol.notes.append(bullet_note("Common Mistakes", items))
            continue
        break
    return sol, j


def _practice(ctx: _Ctx, i: int) -> int | None:
    """`N. question`, a level, `A. ...` options, then the worked solution."""
    level_at = _practice_start(ctx, i)
    if level_at is None:
        return None
    m = _NUMBERED.match(ctx.s(i))
    assert m is not None  # _practice_start checked it
    prompt = _prompt(ctx, m.group(2), i + 1, level_at)
    choices: list[str] = []
    j = level_at + 1
    while len(choices) < len(LETTERS):
        option = _OPTION.match(ctx.s(j))
        if option is None or option.group(1) != LETTERS[len(choices)]:
            break
        choices.append(option.group(2).strip())
        j += 1
    sol, j = _solution(ctx, j)
    where = f"{ctx.source}:{i + 1}"
    correct = sol.correct
    if correct is not None and LETTERS.index(correct) >= len(choices):
        ctx.warnings.append(f"{where}: the final answer names option {correct}, which is missing")
        correct = None
    elif (
        correct is not None and sol.final_text and sol.final_text != choices[LETTERS.index(correct)]
    ):
        ctx.warnings.append(
            f"{where}: the final answer's text differs from option {correct}; kept the letter"
        )
    if correct is None:
        ctx.warnings.append(f"{where}: no 'Final Answer: ... -> Option X'; needs a key")
    explanation = list(sol.steps)
    if correct is not None:
        explanation.append(f"**Final Answer:** {correct}. {choices[LETTERS.index(correct)]}")
    explanation.extend(sol.extra)
    ctx.add(
        i,
        prompt=prompt,
        kind="choice",
        choices=tuple(choices),
        correct=correct,
        explanation="\n\n".join(explanation),
        difficulty=_level(ctx.s(level_at)),
        hints=tuple(h for h in sol.hints if h),
        notes=tuple(sol.notes),
    )
    return j
