"""Markdown banks, including the real CC0 bank whose headings are not all questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content.importers import ParseError, ParseResult, sniff
from content.importers.markdown import MarkdownImporter

FIXTURES = Path(__file__).parent.parent / "fixtures"
REAL_BANK = FIXTURES / "mlops-general-cc0.md"


def _parse(text: str, name: str = "bank.md") -> ParseResult:
    return MarkdownImporter().parse(text, name)


@pytest.fixture(scope="module")
def real() -> ParseResult:
    return _parse(REAL_BANK.read_text(), "mlops-general-cc0.md")


def test_real_bank_has_exactly_q1_to_q36(real: ParseResult) -> None:
    source = REAL_BANK.read_text().splitlines()
    assert len(real.questions) == 36
    for number, question in enumerate(real.questions, start=1):
        heading = source[question.source.line - 1]
        assert heading.startswith(f"### Q{number}. "), heading
        assert question.prompt == heading.removeprefix(f"### Q{number}. ")
        assert question.answer.strip()
        assert question.status == "ready"
    assert real.questions[0].prompt == "What is the difference between MLOps, ModelOps, and AIOps?"
    assert real.questions[0].source.line == 24
    assert real.questions[35].prompt == "What is a structure of a typical ML Artifact?"


def test_real_bank_leaves_out_introduction_conclusion_and_takeaways(real: ParseResult) -> None:
    prompts = " ".join(q.prompt for q in real.questions)
    answers = "\n".join(q.answer for q in real.questions)
    assert "Why Should You Learn" not in prompts
    assert "Table of Contents" not in answers
    assert "Increased efficiency" not in answers  # the introduction's body
    assert "Conclusion" not in answers
    assert "bravo" not in answers
    assert "key takeaways" not in answers
    assert "The concept of model drift" not in answers  # a takeaway line
    last = real.questions[-1].answer
    assert last.rstrip().endswith("Artifacts - AI Wiki - Paperspace")


def test_real_bank_keeps_the_stray_heading_inside_q5(real: ParseResult) -> None:
    q5, q6 = real.questions[4], real.questions[5]
    assert q5.prompt == "What is model or concept drift?"
    assert "## Data and Model drift" in q5.answer
    assert "The reasons for this could be many:" in q5.answer
    assert q5.answer.rstrip().endswith("This almost always requires model retraining.")
    assert q6.prompt == "How does monitoring differ from logging?"
    assert q6.answer.startswith("Monitoring refers to observing")


def test_real_bank_answers_keep_their_blocks(real: ParseResult) -> None:
    q1 = real.questions[0].answer
    assert q1.startswith("MLOps, ModelOps, and AIOps are all related")
    assert "\n\nMLOps (Machine Learning Operations) integrates" in q1
    assert q1.rstrip().endswith("incident detection and resolution.")


def test_real_bank_has_no_topic_from_generic_heading(real: ParseResult) -> None:
    # "## Interview Questions" names the whole bank, not a topic.
    assert {q.topic for q in real.questions} == {""}


def test_real_bank_is_sniffed_as_markdown() -> None:
    text = REAL_BANK.read_text()
    assert MarkdownImporter().sniff(text, "mlops-general-cc0.md") >= 0.7
    chosen = sniff(text, "mlops-general-cc0.md")
    assert chosen is not None and chosen.name == "markdown"


def test_bold_line_bank() -> None:
    result = _parse((FIXTURES / "formats" / "bank_bold.md").read_text(), "bank_bold.md")
    drift, unlabeled, canary = result.questions
    assert drift.prompt == "What is data drift?"  # [E] removed
    assert drift.difficulty == "easy"
    assert drift.topic == "Monitoring"
    assert drift.source.line == 7
    assert drift.answer.startswith("A change in the distribution of the **inputs**")
    assert "- Detect it with PSI or KS tests" in drift.answer
    assert unlabeled.prompt == "How do you monitor a model without labels?"  # (Senior) removed
    assert unlabeled.difficulty == "hard"
    assert "| input drift | the world changed |" in unlabeled.answer  # table kept
    assert canary.prompt == "Why use a canary release?"  # 🚀 removed
    assert canary.difficulty == "hard"
    assert canary.topic == "Deployment"
    assert "```yaml\ntraffic:\n  canary: 5\n```" in canary.answer  # code block kept
    assert "Difficulty" not in canary.answer
    assert "good luck" not in canary.answer  # the conclusion is not an answer
    assert "small bank written by hand" not in " ".join(q.answer for q in result.questions)


def test_numbered_line_bank() -> None:
    result = _parse((FIXTURES / "formats" / "bank_numbered.md").read_text(), "bank_numbered.md")
    store, versioning, batch = result.questions
    assert store.prompt == "What is a feature store?"
    assert store.difficulty == "medium"
    assert store.topic == "Data"
    assert store.source.line == 5
    # A numbered list without questions inside an answer stays in the answer.
    assert versioning.answer.endswith("1. pin the data snapshot\n2. pin the code commit")
    assert batch.prompt == "What is the difference between batch and online inference?"
    assert batch.difficulty == "easy"
    assert batch.topic == "Serving"


def test_heading_questions_with_section_topics_and_difficulty_line() -> None:
    text = (
        "# MLOps bank\n\n"
        "## Deployment\n\n"
        "### What is a canary release?\n\n"
        "Difficulty: hard\n\n"
        "A release to a small share of traffic first.\n\n"
        "#### Example\n\n"
        "5% for an hour, then 50%.\n\n"
        "## Monitoring\n\n"
        "### Question 2: How do you detect drift? [M]\n\n"
        "Compare input distributions with PSI.\n"
    )
    canary, drift = _parse(text).questions
    assert canary.topic == "Deployment"
    assert canary.difficulty == "hard"
    assert canary.answer.startswith("A release to a small share")
    assert "#### Example" in canary.answer  # a deeper heading is part of the answer
    assert "5% for an hour" in canary.answer
    assert "Monitoring" not in canary.answer
    assert drift.prompt == "How do you detect drift?"
    assert drift.topic == "Monitoring"
    assert drift.difficulty == "medium"
    assert drift.source.line == 17


def test_question_without_answer_needs_one() -> None:
    result = _parse("### Q1. What is MLOps?\n\n### Q2. What is CI?\nContinuous integration.\n")
    assert result.questions[0].status == "needs_answer"
    assert result.questions[1].status == "ready"


def test_code_fences_hide_headings() -> None:
    text = "**What does this print?**\n\n```python\n# is this a heading?\nprint(1)\n```\n"
    (question,) = _parse(text).questions
    assert "# is this a heading?" in question.answer


def test_document_without_questions_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        _parse("# Notes\n\nSome prose. No questions here.\n")
    assert info.value.line == 1
    assert "no questions found" in info.value.reason


def test_seed_documents_are_not_claimed() -> None:
    """Prose with question marks belongs to the dedicated seed importers."""
    sources = Path(__file__).parent.parent.parent / "content" / "sources"
    for path in sorted(sources.glob("*.txt")):
        assert MarkdownImporter().sniff(path.read_text(), path.name) <= 0.3, path.name


def test_every_prompt_is_free_of_labels_and_markers(real: ParseResult) -> None:
    for question in real.questions:
        assert not re.match(r"Q\d+", question.prompt)
        assert "#" not in question.prompt


def test_unlabelled_headings_skip_article_sections() -> None:
    text = (
        "## Why should you learn MLOps?\n\nBecause models rot.\n\n"
        "## Why should you version data?\n\nTo reproduce a training run.\n\n"
        "## What is a feature store?\n\nA shared store of features.\n\n"
        "## Conclusion\n\nGood luck!\n"
    )
    result = _parse(text)
    assert [q.prompt for q in result.questions] == [
        "Why should you version data?",
        "What is a feature store?",
    ]
    assert result.questions[1].answer == "A shared store of features."


def test_pasted_bullet_glyphs_become_markdown_lists(real: ParseResult) -> None:
    assert "\n- Model file: This is the file" in real.questions[-1].answer
    assert all("•" not in q.answer for q in real.questions)


def test_answers_indented_under_numbered_questions_are_dedented() -> None:
    text = (
        "1. What is CI?\n   Merging often, with tests on every change.\n\n"
        "2. What is CD?\n   Shipping every change that passes.\n"
    )
    first, second = _parse(text).questions
    assert first.answer == "Merging often, with tests on every change."
    assert second.source.line == 4


def test_details_summary_bank() -> None:
    text = (FIXTURES / "formats" / "bank_details.md").read_text()
    assert MarkdownImporter().sniff(text, "bank_details.md") >= 0.7
    serving, batch, rollback = _parse(text, "bank_details.md").questions
    assert serving.prompt == "What is model serving?"  # <b> inside <summary> dropped
    assert serving.source.line == 8
    assert serving.topic == "Serving"
    assert serving.answer.startswith("Exposing a trained model behind an API")
    assert serving.answer.endswith(
        "```bash\ncurl -X POST localhost:8080/predict -d '{\"x\": 1}'\n```"
    )
    assert "details" not in serving.answer
    assert batch.prompt == "Why batch predictions at night?"
    assert batch.difficulty == "easy"
    # The text after </details> is not part of the answer.
    assert batch.answer == "Cheap compute and no latency requirement."
    assert rollback.topic == "Operations"
    assert rollback.answer == "Point the alias back to the previous registry version."


def test_heading_questions_with_show_answer_toggles() -> None:
    text = (
        "## What is a shadow deployment?\n\n<details>\n<summary>Show answer</summary>\n\n"
        "Running a new model on live traffic without using its output.\n</details>\n\n"
        "## What is a canary?\n\n<details><summary>Answer</summary>\nA small first share of "
        "traffic.\n</details>\n"
    )
    shadow, canary = _parse(text).questions
    assert shadow.answer == "Running a new model on live traffic without using its output."
    assert canary.answer == "A small first share of traffic."
