"""Markdown banks: questions as headings, bold lines, labels, <summary> toggles or numbered
lines, read from markdown-it-py's tokens rather than guessed from lines.

Interview-question collections on GitHub are written by hand, mostly with one habit for
marking a question, sometimes with a second in a few sections. The habit used most is
the document's; a question in another habit counts too, unless it sits inside an answer
(a numbered list of questions inside an answer is part of that answer). Answers are the
source lines under a question, HTML made Markdown; the renderer adapts them to a platform.

Headings that are not questions are the hard part: most are sections (the topic of the
questions under them) or the article around the bank (contents, introduction,
conclusion), but some authors put a sub-heading inside an answer. The rule: inside the
run of questions, a non-question heading followed by text and then by a later question
belongs to the answer it interrupts; one followed directly by a question is a section;
one after the last question, or named like the article's chrome, closes the bank.

Nothing disappears: every line that ends up in no question is reported as a skipped
block with its line and the reason, and every question held back says why.

One module per step: `md_scan` (tokens to the lines that may ask), `md_prompt` (what a
question line says), `md_walk` (where questions and sections start and end), `md_answer`
and `md_html` (the answer kept), `md_accounting` (what was left out); this module builds
the questions, including checkbox quizzes, and keeps their ids apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from pydantic import ValidationError

from content.importers.base import HeldBack, ParseError, ParseResult, Skipped, guarded_parse
from content.importers.md_accounting import preview, skipped_blocks
from content.importers.md_answer import finish_answer
from content.importers.md_html import inline_text
from content.importers.md_prompt import Prompt, asks, read_prompt
from content.importers.md_scan import (
    DETAILS_CLOSE,
    TASK,
    Doc,
    primary_style,
    scan,
    style_candidates,
)
from content.importers.md_walk import Open, Walk, walk
from content.model import LETTERS, Question, SourceRef


class MarkdownImporter:
    """Question banks in Markdown, read with the question-marking habits they use."""

    name = "markdown"

    def sniff(self, text: str, filename: str) -> float:
        try:
            doc = scan(text)
        except Exception:  # a sniffer only scores; the parser reports what it cannot read
            return 0.0
        markdown_ext = PurePath(filename).suffix.lower() in {".md", ".markdown", ".mdown"}
        headings = sum(1 for h in doc.headings.values() if h[3])
        scores = {
            "heading": 0.7 if markdown_ext or headings >= 3 else 0.3,
            "bold": 0.6,
            "label": 0.5,
            "details": 0.6,
            "numbered": 0.25,
        }
        best = 0.1 if markdown_ext else 0.0
        for style, score in scores.items():
            # Sniffing counts only prompts that ask: a code comment "# Define a loss"
            # in prose pasted without fences is not evidence of a Markdown bank.
            asking = [c for c in style_candidates(doc, style) if asks(c.raw, imperatives=False)]
            if len(asking) >= 2:
                best = max(best, score + (0.15 if markdown_ext else 0.0))
        if not markdown_ext and not doc.fences and headings < 3:
            best = min(best, 0.3)  # prose with questions, not evidently Markdown
        return min(best, 0.79)

    def parse(self, text: str, source_name: str) -> ParseResult:
        return guarded_parse(self._parse, text, source_name, "Markdown")

    def _parse(self, text: str, source_name: str) -> ParseResult:
        doc = scan(text)
        primary = primary_style(doc)
        if primary is None:
            raise ParseError(
                source_name,
                1,
                "no questions found: mark each as a heading ('### Q1. ...?'), a bold line "
                "('**...?**'), a label ('Q1. ...'), a <summary>...?</summary> or a "
                "numbered line ('1. ...?'); a prompt ends in '?' or starts with an "
                "instruction (Define, Explain, List ...)",
            )
        cut = walk(doc, primary)
        questions, held, skipped_dupes, warnings = _build_all(doc, cut, source_name)
        for line, owner in cut.absorbed:
            warnings.append(
                f"{source_name}:{line + 1}: a bold question line inside the answer of line "
                f"{owner.start + 1}, kept in that answer; write it like the other questions "
                f"({primary}) to import it on its own"
            )
        skipped = sorted(skipped_blocks(doc, cut) + skipped_dupes, key=lambda s: s.line)
        return ParseResult(
            questions=tuple(questions),
            warnings=tuple(warnings),
            skipped=tuple(skipped),
            held_back=tuple(held),
        )


def _body_lines(doc: Doc, q: Open) -> list[tuple[str, bool]]:
    lines: list[tuple[str, bool]] = []
    if q.cand.tail.strip():
        lines.append((DETAILS_CLOSE.split(q.cand.tail)[0], False))
    for n in range(q.cand.body, q.end):
        text = doc.lines[n]
        if n == q.closed_at:
            text = DETAILS_CLOSE.split(text)[0]
        lines.append((text, n in doc.code))
    if q.cand.indent:
        # The rest of a numbered item is indented to its text; lazy lines are not.
        lines = [
            (t[q.cand.indent :] if t[: q.cand.indent].strip() == "" else t, c) for t, c in lines
        ]
    return lines


def _build_all(
    doc: Doc, cut: Walk, source_name: str
) -> tuple[list[Question], list[HeldBack], list[Skipped], list[str]]:
    questions: list[Question] = []
    held: list[HeldBack] = []
    skipped: list[Skipped] = []
    warnings: list[str] = []
    seen: dict[str, Question] = {}
    for q in cut.questions:
        built, reason = _build(doc, q, source_name)
        first = seen.get(built.id)
        if first is not None:
            if _same(first, built):
                skipped.append(Skipped(
                    q.cand.start + 1, q.end, f"the same question as line {first.source.line}, "
                    "written twice (kept once)", preview(doc.lines[q.cand.start])))
                continue
            built, reason = _build(doc, q, source_name, salt=_fingerprint(built))
            warnings.append(
                f"{built.source}: same prompt as line {first.source.line} but other "
                "options or answer; imported as a question of its own"
            )
        seen.setdefault(built.id, built)
        questions.append(built)
        if built.status != "ready":
            held.append(HeldBack(built.id, built.source.line, built.status, reason or ""))
    return questions, held, skipped, warnings


def _same(a: Question, b: Question) -> bool:
    return (a.prompt, a.answer, a.choices, a.correct) == (b.prompt, b.answer, b.choices, b.correct)


def _fingerprint(q: Question) -> str:
    return "\n".join(q.choices) if q.choices else q.answer


def _build(
    doc: Doc, q: Open, source_name: str, salt: str = ""
) -> tuple[Question, str | None]:
    # The line a reviewer jumps to: the question's own line (for <details>, the summary).
    line = q.cand.body if q.cand.style == "details" else q.cand.start + 1
    prompt = read_prompt(inline_text(q.cand.raw))
    if not prompt.text:
        raise ParseError(source_name, line, "this question has no text")
    body = _body_lines(doc, q)
    source = SourceRef(file=source_name, line=line)
    choice = _choices(doc, q, body)
    try:
        if choice is not None:
            return _choice_question(prompt, source, q, choice, salt)
        answer = finish_answer(body)
        built = Question.make(
            prompt=prompt.text,
            source=source,
            answer="" if answer.placeholder else answer.text,
            difficulty=prompt.difficulty or answer.difficulty,
            topic=q.topic,
            tags=prompt.tags,
            notes=prompt.notes,
            status="needs_answer" if answer.placeholder else None,
            id_salt=salt,
        )
        reason = answer.placeholder
        if built.status == "needs_answer" and reason is None:
            reason = "there is no answer under the question; write one"
        return built, reason
    except ValidationError as exc:
        reason = "; ".join(str(e["msg"]) for e in exc.errors())
        raise ParseError(source_name, line, reason) from None


@dataclass(frozen=True)
class _Choice:
    before: list[tuple[str, bool]]  # code or images between the question and its options
    options: list[tuple[str, bool]]  # (text, checked)
    after: list[tuple[str, bool]]  # the explanation under the options


def _choices(doc: Doc, q: Open, body: list[tuple[str, bool]]) -> _Choice | None:
    """The checkbox options right under the question (only code or images may come first)."""
    offset = q.cand.body
    for n in range(q.cand.body, q.end):
        if n in doc.task_lists:
            items = doc.task_lists[n]
            options: list[tuple[str, bool]] = []
            for a, b in items:
                match = TASK.match(doc.lines[a])
                assert match is not None
                more = [doc.lines[k].strip() for k in range(a + 1, min(b, q.end))]
                text = " ".join([match.group(2).strip(), *[m for m in more if m]])
                options.append((inline_text(text), match.group(1) != " "))
            end = items[-1][1]
            return _Choice(body[: n - offset], options, body[end - offset :])
        text = doc.lines[n]
        if text.strip() and n not in doc.code and not _is_prompt_part(text):
            return None
    return None


def _is_prompt_part(text: str) -> bool:
    """A line that may sit between a quiz question and its options: code or an image."""
    stripped = text.strip()
    return stripped.startswith(("```", "~~~", "![", "<img", "<pre", "</pre")) or stripped == ""


def _choice_question(
    prompt: Prompt, source: SourceRef, q: Open, choice: _Choice, salt: str
) -> tuple[Question, str | None]:
    before = finish_answer(choice.before).text
    full = prompt.text + (f"\n\n{before}" if before else "")
    explanation = finish_answer(choice.after)
    options = [text for text, _ in choice.options]
    checked = [LETTERS[i] for i, (_, on) in enumerate(choice.options) if on and i < len(LETTERS)]
    if len(options) < 2 or len(options) > len(LETTERS) or any(not o for o in options):
        listing = "\n".join(f"- {o}" for o in options)
        built = Question.make(
            prompt=full, source=source, answer=listing, topic=q.topic, tags=prompt.tags,
            notes=prompt.notes, difficulty=prompt.difficulty, id_salt=salt,
        )
        return built, None if built.status == "ready" else "no answer under the question"
    reason: str | None = None
    correct: str | None = None
    if len(checked) == 1:
        correct = checked[0]
    elif not checked:
        reason = "no option is checked: mark the right one '- [x]'"
    else:
        reason = (
            f"{len(checked)} options are checked ({', '.join(checked)}): a question with one "
            "key cannot hold several; leave exactly one '- [x]'"
        )
    built = Question.make(
        prompt=full,
        source=source,
        kind="choice",
        choices=tuple(options),
        correct=correct,
        explanation=explanation.text,
        difficulty=prompt.difficulty or explanation.difficulty,
        topic=q.topic,
        tags=prompt.tags,
        notes=prompt.notes,
        id_salt=salt,
    )
    return built, reason
