"""Seed 002: a PDF extraction of "Qn:" questions under numbered sections (pdf-qa)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content.importers.base import ParseError, ParseResult
from content.importers.pdf_qa import PdfQaImporter
from content.importers.textutil import (
    ListItem,
    is_page_artifact,
    parse_list_item,
    table_to_markdown,
)
from content.model import Question

SOURCES = Path(__file__).resolve().parents[2] / "content" / "sources"
SEED = next(SOURCES.glob("002_*.txt"))
OTHERS = sorted(p for p in SOURCES.glob("*.txt") if p != SEED)
IMPORTER = PdfQaImporter()
GLYPHS = "✓✅📌♦❑③④⑥⑦•"


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return IMPORTER.parse(SEED.read_text(encoding="utf-8"), f"content/sources/{SEED.name}")


def _number(result: ParseResult, n: int) -> Question:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    matches = [q for q in result.questions if lines[q.source.line - 1].startswith(f"Q{n}:")]
    assert len(matches) == 1
    return matches[0]


def test_thirty_ready_questions_with_answers(result: ParseResult) -> None:
    assert len(result.questions) == 30
    assert all(q.status == "ready" and q.kind == "open" for q in result.questions)
    assert all(q.answer.strip() for q in result.questions)
    assert all(q.difficulty is None for q in result.questions)


def test_every_source_line_points_at_the_prompt(result: ParseResult) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for n, q in enumerate(result.questions, start=1):
        assert lines[q.source.line - 1] == f"Q{n}: {q.prompt}"


def test_topics_are_the_section_titles_without_their_number(result: ParseResult) -> None:
    q1 = _number(result, 1)
    assert (q1.prompt, q1.topic, q1.source.line) == (
        "What is an ML pipeline, and why is it important?",
        "General Questions on ML Pipelines",
        11,
    )
    assert _number(result, 4).topic == "Model Versioning and Registry"
    assert _number(result, 26).topic == "ML Pipeline Deployment & Automation"
    assert _number(result, 30).topic == "Security & Ethical Considerations in ML Pipelines"
    assert len({q.topic for q in result.questions}) == 12


def test_check_marks_become_list_items_and_bold_is_kept(result: ParseResult) -> None:
    q1 = _number(result, 1)
    assert q1.answer.startswith("An ML pipeline is a structured workflow")
    assert "\n\n- **Reproducibility** — Standardized steps ensure consistent results.\n" in (
        q1.answer
    )
    assert q1.answer.count("\n- **") == 4


def test_digits_and_circled_digits_become_a_numbered_list(result: ParseResult) -> None:
    q2 = _number(result, 2)
    items = [ln for ln in q2.answer.splitlines() if re.match(r"^\d+\. ", ln)]
    assert [ln.split(".")[0] for ln in items] == ["1", "2", "3", "4", "5", "6", "7"]
    assert "6. **Deployment** — Serving the model in a production environment." in items


def test_lines_broken_mid_sentence_are_joined(result: ParseResult) -> None:
    q19 = _number(result, 19)
    assert (
        "- **Model Quantization** — Reducing model size by using lower-precision data types."
        in q19.answer.splitlines()
    )
    q22 = _number(result, 22)
    assert (
        "- **Statistical Tests** — Apply Kolmogorov-Smirnov test or Jensen-Shannon "
        "divergence to compare distributions." in q22.answer.splitlines()
    )


def test_bullet_whose_glyph_was_lost_stays_in_the_list(result: ParseResult) -> None:
    q17 = _number(result, 17)
    assert q17.answer.splitlines()[-1] == (
        "- **Model Caching** — Storing frequent predictions for quick retrieval."
    )


def test_q26_keeps_its_table_as_a_pipe_table(result: ParseResult) -> None:
    rows = _number(result, 26).answer.splitlines()
    assert rows[0] == "| Feature | Batch Inference | Real-Time Inference |"
    assert rows[1] == "| --- | --- | --- |"
    assert "| Latency | High | Low |" in rows
    assert len(rows) == 6
    assert all(r.startswith("| ") and r.endswith(" |") for r in rows)


def test_no_answer_keeps_a_glyph_at_a_line_start(result: ParseResult) -> None:
    for q in result.questions:
        for line in q.answer.splitlines():
            stripped = line.removeprefix("- ").lstrip()
            assert not (stripped and stripped[0] in GLYPHS), (q.source, line)


def test_title_lines_are_not_in_any_answer(result: ParseResult) -> None:
    for q in result.questions:
        assert "Interview Questions and" not in q.answer
        assert "ML Pipeline Best Practices" not in q.answer


def test_sniff_prefers_its_own_document() -> None:
    own = IMPORTER.sniff(SEED.read_text(encoding="utf-8"), SEED.name)
    assert own > 0.5
    for other in OTHERS:
        assert IMPORTER.sniff(other.read_text(encoding="utf-8"), other.name) < own, other.name


@pytest.mark.parametrize(
    "garbage",
    ["", "\n \n", "1. A section\n\nSome text.", "Q: no number", "🚀\x00\ufffd\t\t"],
)
def test_garbage_raises_parse_error(garbage: str) -> None:
    with pytest.raises(ParseError) as info:
        IMPORTER.parse(garbage, "junk.txt")
    assert (info.value.path, info.value.line) == ("junk.txt", 1)
    assert "no questions found" in info.value.reason


def test_page_breaks_do_not_leak_into_answers() -> None:
    text = "\n".join(
        [
            "Serving Handbook",  # 1
            "",
            "1. Deployment",  # 3
            "Q1: What is a canary",  # 4
            "deployment?",  # 5
            "A canary sends a slice of traffic to",  # 6
            "",
            "7",  # page number
            "",
            "Serving Handbook",  # running title
            "the new model first:",  # 11
            "✓",  # glyph alone
            "**Watch** — error rates.",
            "Page 8 of 9",
            "2. Monitoring",
            "Q2: What is drift?",  # 16
            "The data moved.",
        ]
    )
    result = IMPORTER.parse(text, "p.txt")
    assert [(q.prompt, q.topic, q.source.line) for q in result.questions] == [
        ("What is a canary deployment?", "Deployment", 4),
        ("What is drift?", "Monitoring", 16),
    ]
    assert result.questions[0].answer == (
        "A canary sends a slice of traffic to the new model first:\n\n- **Watch** — error rates."
    )


def test_questions_before_any_section_take_the_title() -> None:
    result = IMPORTER.parse("Ops Notes\nQ1: Why?\nBecause.\n", "t.txt")
    assert result.questions[0].topic == "Ops Notes"


def test_list_item_shapes() -> None:
    assert parse_list_item("  • Scalability: yes") == ListItem("Scalability: yes")
    assert parse_list_item("- ✅ **Data** ok") == ListItem("**Data** ok")
    assert parse_list_item("⑥ **Deployment**") == ListItem("**Deployment**", 6)
    assert parse_list_item("- 3 **Drift**") == ListItem("**Drift**", 3)
    assert parse_list_item("17 Common Interview Questions") is None
    assert parse_list_item("17 Common Questions", bare_numbers=True) == ListItem(
        "Common Questions", 17
    )
    assert parse_list_item("**bold** start") is None
    assert ListItem("x", 2).markdown() == "2. x"


def test_page_artifacts_and_tables() -> None:
    assert all(is_page_artifact(s) for s in ["12", "Page 3", "3 / 10", "- 4 -", "page 2 of 9"])
    assert not any(is_page_artifact(s) for s in ["12 monkeys", "Q1", "1. Intro"])
    assert table_to_markdown(["a\tb|c", "1"]) == "| a | b\\|c |\n| --- | --- |\n| 1 |  |"


def test_page_number_between_section_and_question_keeps_the_section() -> None:
    result = IMPORTER.parse("3. Logging\n\n14\n\nQ6: Why log?\nTo debug.\n", "s.txt")
    assert [(q.topic, q.answer) for q in result.questions] == [("Logging", "To debug.")]
