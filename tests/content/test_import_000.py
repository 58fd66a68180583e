"""Seed 000: questions each followed by "- Answer:", under topic headings (answer-list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.importers.answer_list import AnswerListImporter
from content.importers.base import ParseError, ParseResult
from content.model import Question

SOURCES = Path(__file__).resolve().parents[2] / "content" / "sources"
SEED = next(SOURCES.glob("000_*.txt"))
OTHERS = sorted(p for p in SOURCES.glob("*.txt") if p != SEED)
IMPORTER = AnswerListImporter()


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return IMPORTER.parse(SEED.read_text(encoding="utf-8"), f"content/sources/{SEED.name}")


def _by_prompt(result: ParseResult, prompt: str) -> Question:
    matches = [q for q in result.questions if q.prompt == prompt]
    assert len(matches) == 1, f"{prompt!r} found {len(matches)} times"
    return matches[0]


def test_all_hundred_questions_are_ready_open_questions_with_answers(
    result: ParseResult,
) -> None:
    assert len(result.questions) == 100
    assert all(q.status == "ready" and q.kind == "open" for q in result.questions)
    assert all(q.answer.strip() for q in result.questions)
    assert all(q.difficulty is None for q in result.questions)
    assert len({q.id for q in result.questions}) == 100


def test_every_source_line_points_at_the_prompt(result: ParseResult) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for q in result.questions:
        assert q.source.file == f"content/sources/{SEED.name}"
        assert lines[q.source.line - 1].removeprefix("- ").strip() == q.prompt


def test_prompts_topics_and_lines_of_sample_questions(result: ParseResult) -> None:
    first = result.questions[0]
    assert (first.prompt, first.topic, first.source.line) == (
        "What is MLOps?",
        "General MLOps Concepts",
        5,
    )
    mlflow = _by_prompt(result, "What is MLflow and how is it used?")
    assert (mlflow.topic, mlflow.source.line) == ("MLOps Tools", 36)
    misc = _by_prompt(result, "How do you handle dependencies in MLOps projects?")
    assert misc.topic == "Miscellaneous"
    last = result.questions[-1]
    assert last.prompt == "How does CI/CD differ in traditional DevOps vs. MLOps?"
    assert last.topic == "Collaboration and Team Dynamics in MLOps"


def test_headings_and_title_are_not_questions(result: ParseResult) -> None:
    prompts = {q.prompt for q in result.questions}
    assert "General MLOps Concepts" not in prompts
    assert "Top 100 MLOps interview questions and answers" not in prompts
    topics = {q.topic for q in result.questions}
    assert len(topics) == 21
    assert "Top 100 MLOps interview questions and answers" not in topics


def test_continuation_bullets_become_a_markdown_list(result: ParseResult) -> None:
    shap = _by_prompt(result, "What are some common techniques to explain black-box models?")
    assert shap.answer.startswith("Common techniques include:\n\n- SHAP (Shapley")
    assert "\n- LIME (Local Interpretable" in shap.answer
    assert shap.answer.endswith("outcome.")
    assert len([ln for ln in shap.answer.splitlines() if ln.startswith("- ")]) == 3


def test_dash_on_its_own_line_then_answer(result: ParseResult) -> None:
    # Lines 237-239: the question, "-" alone, then "Answer: ..." without a dash.
    q = _by_prompt(
        result,
        "How would you handle a situation where a model is performing well on training "
        "and validation data but poorly on production data?",
    )
    assert q.source.line == 237
    assert q.answer.startswith("This could indicate overfitting")
    assert "- Investigate feature distribution and data drift." in q.answer
    roles = _by_prompt(
        result, "What role do data engineers and DevOps engineers play in an MLOps team?"
    )
    # "Answer:" with nothing after it: the answer is the list alone.
    assert roles.answer.startswith("- Data Engineers: Focus on building")
    assert roles.answer.count("\n- ") == 1


def test_closing_paragraph_is_left_out_with_a_warning(result: ParseResult) -> None:
    last = result.questions[-1]
    assert "This set of questions" not in last.answer
    assert any(w.endswith(":318: text outside any answer left out") for w in result.warnings)


def test_sniff_prefers_its_own_document() -> None:
    own = IMPORTER.sniff(SEED.read_text(encoding="utf-8"), SEED.name)
    assert own > 0.5
    for other in OTHERS:
        assert IMPORTER.sniff(other.read_text(encoding="utf-8"), other.name) < own, other.name


def test_sniff_ignores_the_file_name() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert IMPORTER.sniff(text, "whatever.md") == IMPORTER.sniff(text, SEED.name)


@pytest.mark.parametrize(
    "garbage",
    ["", "\n\n", "just some prose\nwith no questions", "Answer: orphan", "\x00\ufffd🚀"],
)
def test_garbage_raises_parse_error(garbage: str) -> None:
    with pytest.raises(ParseError) as info:
        IMPORTER.parse(garbage, "junk.txt")
    assert info.value.path == "junk.txt"
    assert info.value.line == 1
    assert "no questions found" in info.value.reason


def test_small_document_both_answer_spellings_and_stray_text() -> None:
    text = "\n".join(
        [
            "Serving",  # 1
            "- What is a canary?",  # 2
            "- Answer: A small slice of traffic first.",  # 3
            "What is shadow mode?",  # 4
            "-",  # 5
            "Answer:",  # 6
            "- Mirror traffic.",  # 7
            "- Drop the replies.",  # 8
            "Some stray sentence that is not a heading at all.",  # 9
            "Monitoring",  # 10
            "-",  # 11
            "What is drift?",  # 12
            "- Answer: The data moved.",  # 13
        ]
    )
    result = IMPORTER.parse(text, "small.txt")
    assert [(q.prompt, q.topic, q.source.line) for q in result.questions] == [
        ("What is a canary?", "Serving", 2),
        ("What is shadow mode?", "Serving", 4),
        ("What is drift?", "Monitoring", 12),
    ]
    assert result.questions[1].answer == "- Mirror traffic.\n- Drop the replies."
    assert result.warnings == ("small.txt:9: text outside any answer left out",)


def test_answer_line_with_nothing_above_is_reported_not_guessed() -> None:
    text = "- Answer: orphan\nWhat is X?\n- Answer: x.\nWhat is Y?\n- Answer: y."
    result = IMPORTER.parse(text, "o.txt")
    assert [q.prompt for q in result.questions] == ["What is X?", "What is Y?"]
    assert result.warnings[0].startswith("o.txt:1:")
