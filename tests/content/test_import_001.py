"""Seed 001: an article of question headings with prose answers (article)."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.importers.article import ArticleImporter
from content.importers.base import ParseError, ParseResult
from content.model import Question

SOURCES = Path(__file__).resolve().parents[2] / "content" / "sources"
SEED = next(SOURCES.glob("001_*.txt"))
OTHERS = sorted(p for p in SOURCES.glob("*.txt") if p != SEED)
IMPORTER = ArticleImporter()
TITLE = "The Ultimate Guide to MLOps Interview Questions"
SECTION = "17 Common Interview Questions for MLOps"
SUBJECT = "MLOps"  # what both the title and the listicle heading name


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return IMPORTER.parse(SEED.read_text(encoding="utf-8"), f"content/sources/{SEED.name}")


def _by_prompt(result: ParseResult, prompt: str) -> Question:
    matches = [q for q in result.questions if q.prompt == prompt]
    assert len(matches) == 1, f"{prompt!r} found {len(matches)} times"
    return matches[0]


def test_twenty_two_ready_questions_with_answers(result: ParseResult) -> None:
    assert len(result.questions) == 22
    assert all(q.status == "ready" and q.kind == "open" for q in result.questions)
    assert all(q.answer.strip() for q in result.questions)
    assert all(q.difficulty is None for q in result.questions)


def test_unnumbered_questions_come_first_under_the_titles_subject(result: ParseResult) -> None:
    first, second = result.questions[:2]
    assert (first.prompt, first.topic, first.source.line) == ("What is MLOps?", SUBJECT, 5)
    assert (second.prompt, second.topic, second.source.line) == (
        "Why is MLOps important?",
        SUBJECT,
        9,
    )
    assert first.answer.startswith("MLOps, short for Machine Learning Operations")


def test_numbered_questions_drop_their_number_and_sit_under_the_section(
    result: ParseResult,
) -> None:
    numbered = result.questions[2:]
    assert len(numbered) == 20
    assert all(q.topic == SUBJECT for q in numbered)  # the listicle heading names MLOps
    assert numbered[0].prompt == "What is the difference between MLOps and DevOps?"
    assert numbered[0].source.line == 15
    assert numbered[-1].prompt == "What are some tips for success in MLOps?"
    assert numbered[-1].source.line == 132


def test_every_source_line_points_at_the_prompt(result: ParseResult) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for q in result.questions:
        assert lines[q.source.line - 1].strip().endswith(q.prompt)


def test_heading_intro_and_closing_are_not_questions(result: ParseResult) -> None:
    prompts = {q.prompt for q in result.questions}
    assert SECTION not in prompts
    assert "Leave a Comment" not in prompts
    assert TITLE not in prompts
    assert not any(p.startswith("Are you preparing") for p in prompts)
    everything = "\n".join(q.answer for q in result.questions)
    assert "Leave a Comment" not in everything
    assert "Good luck with your interview" not in everything
    assert "Are you preparing for an MLOps interview" not in everything


def test_bullets_become_a_markdown_list(result: ParseResult) -> None:
    challenges = _by_prompt(
        result, "What are some common challenges in deploying machine learning models?"
    )
    assert challenges.answer.splitlines()[0].endswith("including:")
    items = [ln for ln in challenges.answer.splitlines() if ln.startswith("- ")]
    assert len(items) == 5
    assert items[0] == (
        "- Dependency management: Managing dependencies and ensuring consistency across "
        "different environments."
    )
    assert "•" not in "\n".join(q.answer for q in result.questions)


def test_last_answer_ends_before_the_closing_paragraph(result: ParseResult) -> None:
    tips = result.questions[-1]
    assert tips.answer.endswith("always looking for ways to improve models and processes.")
    assert len(result.warnings) == 2
    assert result.warnings[0].endswith(":143: text after an answer's end left out")


def test_sniff_prefers_its_own_document() -> None:
    own = IMPORTER.sniff(SEED.read_text(encoding="utf-8"), SEED.name)
    assert own > 0.5
    for other in OTHERS:
        assert IMPORTER.sniff(other.read_text(encoding="utf-8"), other.name) < own, other.name


def test_sniff_leaves_markdown_banks_alone() -> None:
    markdown = (
        "# Questions\n\n1. What is a feature store?\n\nA shared service.\n\n"
        "2. What is drift?\n\nThe data moved.\n\n3. What is a canary?\n\nA slice.\n"
    )
    assert IMPORTER.sniff(markdown, "bank.md") == 0.0


@pytest.mark.parametrize(
    "garbage",
    ["", "   \n\n", "Just a paragraph.\n\nAnother one.", "Why?", "🚀\x00\ufffd"],
)
def test_garbage_raises_parse_error(garbage: str) -> None:
    with pytest.raises(ParseError) as info:
        IMPORTER.parse(garbage, "junk.txt")
    assert (info.value.path, info.value.line) == ("junk.txt", 1)
    assert "no questions found" in info.value.reason


def test_small_article_sections_wrapped_prose_and_closing() -> None:
    text = "\n".join(
        [
            "My Title",  # 1
            "",
            "Basics",  # 3
            "",
            "1. What is a canary?",  # 5
            "",
            "A small slice of traffic",  # 7
            "gets the new model first.",  # 8
            "",
            "  • Watch the errors.",  # 10
            "  • Roll back fast.",  # 11
            "",
            "2. Can you explain drift?",  # 13
            "",
            "The data moved.",  # 15
            "",
            "",
            "Thanks for reading!",  # 18
        ]
    )
    result = ArticleImporter().parse(text, "a.txt")
    assert [(q.prompt, q.topic, q.source.line) for q in result.questions] == [
        ("What is a canary?", "Basics", 5),
        ("Can you explain drift?", "Basics", 13),
    ]
    assert result.questions[0].answer == (
        "A small slice of traffic gets the new model first.\n\n"
        "- Watch the errors.\n- Roll back fast."
    )
    assert result.questions[1].answer == "The data moved."
    assert result.warnings == ("a.txt:18: text after an answer's end left out",)
