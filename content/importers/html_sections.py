"""A question page copied out of a browser: `Section NN` + title, then `Q1`, `Q2`... (seed 003).

What the copy keeps and loses: each section's title becomes the topic; numbering
restarts in every section, so questions are found by their `Qn` line, never by number;
the level badge is glued to the question (`...the other?Junior`); code samples lose their
fences (put back, with a language tag, by `code_blocks`); tip boxes become a title line
glued to their text (turned into notes by `callouts`); table cells are run together
(`PerformanceExcellentExcellent (often faster)`) and are split again here, using the
rest of the page to tell a word like `PyTorch` from two cells.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from math import comb

from pydantic import ValidationError

from content.importers.base import ParseError, ParseResult, guarded_parse
from content.importers.callouts import split_trailing_callouts
from content.importers.code_blocks import (
    code_run_end,
    fence_code,
    is_bullet,
    is_code_start,
    is_text_line,
)
from content.importers.textutil import Block, join_blocks, parse_list_item, table_to_markdown
from content.model import Difficulty, Note, Question, SourceRef, normalize_difficulty
from content.topics import subject_of

_SECTION = re.compile(r"^Section\s+(\d{1,3})\s*$")
_QLINE = re.compile(r"^Q(\d{1,3})[.:)]?(?:\s+(\S.*))?$")
_LEVEL = re.compile(
    r"^(?P<prompt>.*?\S)(?P<gap>\s*)"
    r"(?P<level>Junior|Mid-level|Mid|Senior|Beginner|Intermediate|Advanced|Expert|Easy|Medium"
    r"|Hard)\s*$"
)
_CLAIM = re.compile(r"^(\d{1,4})\+?\s*(?:Questions)?$")
_FOOTER = re.compile(r"^(?:©|\(c\)|copyright\b|all rights reserved|back to top|made with\b)", re.I)
_PUNCT = "()[]{}.,;:!?\"'“”‘’"
_MAX_COMBINATIONS = 2000


def _glued_level(line: str) -> tuple[str, Difficulty] | None:
    """Split `...over the other?Junior` into the prompt and its difficulty."""
    m = _LEVEL.match(line.strip())
    if m is None:
        return None
    prompt = m.group("prompt")
    if m.group("gap") and not prompt.endswith(("?", ".", "!", ":", ")")):
        return None
    level = normalize_difficulty(m.group("level"))
    return (prompt, level) if level is not None else None


# --- tables whose cells ran together -------------------------------------------------


def _cuts(s: str) -> list[int]:
    """Where a cell may end: a lower-case letter, digit or `)` before a capital, ..."""
    out: list[int] = []
    for p in range(1, len(s)):
        a, b = s[p - 1], s[p]
        if a.isspace() or b.isspace():
            continue
        word_starts = b.isupper() and (a.islower() or a.isdigit() or a in ")]%$")
        price_starts = a.islower() and b == "$"  # `Free + infra$$$$`
        acronym_ends = a.isupper() and b.isupper() and p + 1 < len(s) and s[p + 1].islower()
        if word_starts or price_starts or acronym_ends:
            out.append(p)
    return out


def _is_row(line: str) -> bool:
    s = line.strip()
    return (
        bool(s)
        and not line[:1].isspace()
        and not is_bullet(line)
        and not is_code_start(line)
        and not s.endswith((".", "!", "?", ":", ","))
        and len(s) <= 200
        and bool(_cuts(s))
    )


def _table_end(lines: Sequence[str], start: int) -> int | None:
    """End of a run of three or more glued rows starting at `start`, if there is one."""
    end = start
    while end < len(lines) and _is_row(lines[end]):
        end += 1
    return end if end - start >= 3 else None


@dataclass
class _Tables:
    """What the whole page says about words and cells, to split glued rows consistently."""

    camel_words: frozenset[str]
    known_cells: frozenset[str]

    @classmethod
    def learn(cls, lines: Sequence[str]) -> _Tables:
        rows: list[list[str]] = []
        words: set[str] = set()
        i = 0
        while i < len(lines):
            end = _table_end(lines, i)
            if end is not None:
                rows.append([ln.strip() for ln in lines[i:end]])
                i = end
                continue
            for token in lines[i].split():
                token = token.strip(_PUNCT)
                if len(token) > 2 and _cuts(token):
                    words.add(token)
            i += 1
        tables = cls(frozenset(words), frozenset())
        cells: set[str] = set()
        for table in rows:
            width = len(tables.free_cuts(table[0])) + 1
            for row in table[1:]:
                free = tables.free_cuts(row)
                if len(free) == width - 1:
                    cells.update(_cells(row, free))
        return cls(tables.camel_words, frozenset(cells))

    def free_cuts(self, s: str) -> list[int]:
        """Cuts not inside a word the page writes elsewhere as one word (`PyTorch`)."""
        cuts = _cuts(s)
        inside: set[int] = set()
        for word in self.camel_words:
            at = s.find(word)
            while at >= 0:
                inside.update(p for p in cuts if at < p < at + len(word))
                at = s.find(word, at + 1)
        return [p for p in cuts if p not in inside]

    def split(self, s: str, width: int) -> list[str] | None:
        free = self.free_cuts(s)
        need = width - 1
        if len(free) < need or need < 1:
            return None
        if len(free) == need:
            return _cells(s, free)
        if comb(len(free), need) > _MAX_COMBINATIONS:
            return None
        best = max(
            combinations(free, need),
            key=lambda chosen: sum(c in self.known_cells for c in _cells(s, list(chosen))),
        )
        return _cells(s, list(best))

    def render(self, rows: Sequence[str]) -> str | None:
        """The rows as a Markdown table; rows that cannot be split keep their whole text."""
        header = rows[0].strip()
        cuts = self.free_cuts(header)
        if not cuts:
            return None
        width = len(cuts) + 1
        out = ["\t".join(_cells(header, cuts))]
        split_ok = 0
        for row in rows[1:]:
            cells = self.split(row.strip(), width)
            if cells is None:
                out.append(row.strip())
            else:
                split_ok += 1
                out.append("\t".join(cells))
        if split_ok * 2 < len(rows) - 1:
            return None
        return table_to_markdown(out)


def _cells(s: str, cuts: Sequence[int]) -> list[str]:
    bounds = [0, *cuts, len(s)]
    return [s[a:b].strip() for a, b in pairwise(bounds)]


# --- an answer's body --------------------------------------------------------------


def _next_nonblank(lines: Sequence[str], start: int) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].strip():
            return j
    return None


def _is_heading(lines: Sequence[str], i: int) -> bool:
    s = lines[i].strip()
    followed_by_gap = i + 1 >= len(lines) or not lines[i + 1].strip()
    return followed_by_gap and len(s) <= 70 and not s.endswith((".", ",", ";", ":", "!"))


def render_body(lines: Sequence[str], tables: _Tables) -> str:
    """Markdown from an answer's lines: headings, lists, fenced code, tables, paragraphs."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if not s:
            i += 1
            continue
        item = parse_list_item(line) if is_bullet(line) else None
        if item is not None:
            blocks.append(Block("item", item.markdown()))
            i += 1
            continue
        if is_code_start(line):
            end = code_run_end(lines, i)
            after = _next_nonblank(lines, end)
            lone = end == i + 1 and not line[:1].isspace() and len(s) <= 60
            if lone and _is_heading(lines, i) and (after is None or is_text_line(lines[after])):
                blocks.append(Block("text", f"**{s}**"))
            else:
                blocks.append(Block("text", fence_code(lines[i:end])))
            i = end
            continue
        end_table = _table_end(lines, i)
        table = tables.render(lines[i:end_table]) if end_table is not None else None
        if table is not None and end_table is not None:
            blocks.append(Block("table", table))
            i = end_table
            continue
        blocks.append(Block("text", f"**{s}**" if _is_heading(lines, i) else s))
        i += 1
    return join_blocks(blocks)


# --- the page ------------------------------------------------------------------------


@dataclass
class _Section:
    topic: str
    tags: tuple[str, ...]


def _section_title(raw: str) -> _Section:
    """`Training Frameworks (PyTorch, TensorFlow, JAX)` → topic and tags.

    The parenthetical goes to tags: topic names are typed in comma lists
    (`/qotd topics include:...`), so a topic must not hold commas. A title that names
    the collection ("Interview Questions") gives no topic (`content.topics.subject_of`).
    """
    title = raw.strip()
    m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", title)
    if m is None or not m.group(1):
        return _Section(subject_of(title.replace(",", " ")), ())
    tags = tuple(t.strip().lower() for t in m.group(2).split(",") if t.strip())
    return _Section(subject_of(m.group(1).replace(",", " ")), tags)


@dataclass
class _Start:
    line: int  # 0-based index of the Qn line
    number: int
    rest: str
    section: _Section


def _claimed_total(preamble: Sequence[str]) -> int | None:
    """The question count a page header advertises ("38 / Questions")."""
    for i, line in enumerate(preamble):
        m = _CLAIM.match(line.strip())
        if m is None:
            continue
        if "Questions" in line or (
            i + 1 < len(preamble) and preamble[i + 1].strip() == "Questions"
        ):
            return int(m.group(1))
    return None


class HtmlSectionsImporter:
    """Seed 003's shape; see the module docstring."""

    name = "html-sections"

    def sniff(self, text: str, filename: str) -> float:
        lines = [ln.strip() for ln in text.splitlines()]
        sections = sum(1 for s in lines if _SECTION.match(s))
        q_at = [i for i, s in enumerate(lines) if re.fullmatch(r"Q\d{1,3}", s)]
        if len(q_at) < 2:
            return 0.0
        glued = 0
        for i in q_at:
            nxt = next((s for s in lines[i + 1 : i + 4] if s), "")
            glued += _glued_level(nxt) is not None
        if glued * 2 < len(q_at):
            return 0.0
        return 0.95 if sections else 0.6

    def parse(self, text: str, source_name: str) -> ParseResult:
        return guarded_parse(self._parse, text, source_name, "html-sections page")

    def _parse(self, text: str, source_name: str) -> ParseResult:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        starts, bounds = self._starts(lines)
        if not starts:
            raise ParseError(
                source_name,
                1,
                "no questions found: expected `Q1`, `Q2`... lines, each followed by the "
                "question with its level glued on (`...?Junior`)",
            )
        tables = _Tables.learn(lines)
        warnings: list[str] = []
        questions: list[Question] = []
        for k, start in enumerate(starts):
            end = min((b for b in bounds if b > start.line), default=len(lines))
            if k == len(starts) - 1:
                end = self._strip_footer(lines, start.line, end)
            question = self._question(lines, start, end, tables, source_name, warnings)
            if question is not None:
                questions.append(question)
        if not questions:
            raise ParseError(source_name, starts[0].line + 1, "no question has a prompt")
        claimed = _claimed_total(lines[: starts[0].line])
        if claimed is not None and claimed != len(questions):
            warnings.append(
                f"{source_name}:1: the page header claims {claimed} questions; "
                f"the page holds {len(questions)}"
            )
        return ParseResult(tuple(questions), tuple(warnings))

    @staticmethod
    def _starts(lines: Sequence[str]) -> tuple[list[_Start], list[int]]:
        starts: list[_Start] = []
        bounds: list[int] = []
        section = _Section("", ())
        skip: int | None = None
        for i, line in enumerate(lines):
            s = line.strip()
            if i == skip:
                continue
            if _SECTION.match(s):
                bounds.append(i)
                title_at = _next_nonblank(lines, i + 1)
                if title_at is not None and not _QLINE.match(lines[title_at].strip()):
                    section = _section_title(lines[title_at])
                    skip = title_at
                continue
            m = _QLINE.match(s)
            if m is not None and not line[:1].isspace():
                bounds.append(i)
                starts.append(_Start(i, int(m.group(1)), m.group(2) or "", section))
        return starts, bounds

    @staticmethod
    def _strip_footer(lines: Sequence[str], start: int, end: int) -> int:
        while end > start + 1 and (
            not lines[end - 1].strip() or _FOOTER.match(lines[end - 1].strip())
        ):
            end -= 1
        return end

    @staticmethod
    def _question(
        lines: Sequence[str],
        start: _Start,
        end: int,
        tables: _Tables,
        source_name: str,
        warnings: list[str],
    ) -> Question | None:
        where = f"{source_name}:{start.line + 1}"
        if start.rest:
            prompt_at, prompt_end = start.line, start.line + 1
            raw = start.rest
        else:
            first = _next_nonblank(lines, start.line + 1)
            if first is None or first >= end:
                warnings.append(f"{where}: Q{start.number} has no question under it; skipped")
                return None
            prompt_at, prompt_end, raw = first, first + 1, lines[first].strip()
        found = _glued_level(raw)
        # A long question may wrap: look for the level on the next two lines.
        j = prompt_end
        while found is None and j < min(end, prompt_end + 2) and lines[j].strip():
            raw = f"{raw} {lines[j].strip()}"
            j += 1
            found = _glued_level(raw)
            if found is not None:
                prompt_end = j
        if found is None:
            raw = lines[prompt_at].strip() if not start.rest else start.rest
            warnings.append(f"{source_name}:{prompt_at + 1}: Q{start.number} has no level")
            prompt, difficulty = raw, None
        else:
            prompt, difficulty = found
        split = split_trailing_callouts(lines[prompt_end:end])
        for label in split.dropped:
            warnings.append(f"{where}: call-out {label!r} has no text; left out")
        answer = render_body(split.body, tables)
        notes: tuple[Note, ...] = split.notes
        try:
            return Question.make(
                prompt=prompt,
                source=SourceRef(file=source_name, line=prompt_at + 1),
                answer=answer,
                difficulty=difficulty,
                topic=start.section.topic,
                tags=start.section.tags,
                notes=notes,
            )
        except ValidationError as exc:
            reason = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            raise ParseError(source_name, prompt_at + 1, f"Q{start.number}: {reason}") from exc
