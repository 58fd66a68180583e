"""Seed 004 (a flash-card study page copied as text) through the flashcards importer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.importers.base import ParseError
from content.importers.flashcards import FlashcardsImporter
from content.model import Note, Question
from tests.content.fuzzing import parse_or_refuse

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "content" / "sources"
SEED = next(SOURCES.glob("004_*.txt"))
NAME = f"content/sources/{SEED.name}"
TOPIC = "Why CI/CD differs for ML vs software in MLOps"


@pytest.fixture(scope="module")
def questions() -> tuple[Question, ...]:
    return FlashcardsImporter().parse(SEED.read_text(encoding="utf-8"), NAME).questions


def test_17_items_10_ready_7_flagged(questions: tuple[Question, ...]) -> None:
    assert len(questions) == 17
    statuses = [q.status for q in questions]
    assert statuses.count("ready") == 10
    assert statuses.count("needs_key") == 5
    assert statuses.count("needs_answer") == 2
    assert all(q.topic == TOPIC for q in questions)
    assert len({q.id for q in questions}) == 17


def test_recall_cards(questions: tuple[Question, ...]) -> None:
    cards = questions[:5]
    assert all(q.kind == "open" and q.status == "ready" for q in cards)
    assert [q.difficulty for q in cards] == ["easy", "medium", "easy", "medium", "hard"]
    assert cards[0].prompt == (
        "What is a key difference between CI/CD for ML and traditional software?"
    )
    assert cards[0].answer == (
        "ML CI/CD must handle data and model versioning, not just code changes."
    )
    assert cards[4].source.line == 34
    assert not any("Click to reveal" in q.answer for q in questions)


def test_quick_choices_have_four_unlettered_choices_and_no_key(
    questions: tuple[Question, ...],
) -> None:
    quick = [q for q in questions if q.status == "needs_key"]
    assert len(quick) == 5
    assert all(q.kind == "choice" and q.correct is None for q in quick)
    assert all(len(q.choices) == 4 for q in quick)
    assert quick[0].choices == (
        "UI testing",
        "Code formatting",
        "Data versioning",
        "Static code analysis",
    )
    assert quick[2].choices[1] == "Because it includes data validation and model evaluation"
    assert quick[4].source.line == 57


def test_concept_prompts_keep_their_hint(questions: tuple[Question, ...]) -> None:
    prompts = [q for q in questions if q.status == "needs_answer"]
    assert [q.prompt.split()[0] for q in prompts] == ["Explain", "Describe"]
    assert all(q.kind == "open" and not q.answer for q in prompts)
    assert prompts[0].hints == ("Think about how changing data can change the model outcome.",)
    assert prompts[1].hints == (
        "Consider what happens after the model is trained and put into use.",
    )
    assert not any("You got" in q.prompt or "You got" in h for q in prompts for h in q.hints)


def test_practice_questions(questions: tuple[Question, ...]) -> None:
    practice = [q for q in questions if q.kind == "choice" and q.status == "ready"]
    assert len(practice) == 5
    assert [q.correct for q in practice] == ["A", "D", "C", "A", "B"]
    assert [q.difficulty for q in practice] == ["easy", "easy", "medium", "medium", "hard"]
    first = practice[0]
    assert first.prompt.startswith("Why does CI/CD for machine learning (ML) projects differ")
    assert first.choices[0] == (
        "Because ML CI/CD must handle data and model versioning in addition to code"
    )
    assert first.hints == ("Remember ML needs data and model steps, not just code",)
    assert not any("[OK]" in text for q in practice for text in (q.explanation, *q.hints))


def test_practice_question_3(questions: tuple[Question, ...]) -> None:
    q = next(q for q in questions if q.prompt.startswith("Consider this simplified"))
    assert q.correct == "C"
    assert q.choices[2] == "To ensure the input data meets quality standards before training"
    assert q.prompt == (
        "Consider this simplified ML CI/CD pipeline snippet:\n\n"
        "```yaml\n"
        "steps:\n"
        "  - name: Data Validation\n"
        "    run: python validate_data.py\n"
        "  - name: Train Model\n"
        "    run: python train.py\n"
        "  - name: Test Model\n"
        "    run: python test_model.py\n"
        "  - name: Deploy Model\n"
        "    run: python deploy.py\n"
        "```\n\n"
        "What is the main reason for including the 'Data Validation' step in ML CI/CD?"
    )
    assert q.explanation.startswith(
        "**Step 1: Understand the purpose of data validation** — Data validation checks"
    )
    assert "**Step 2: Relate data validation to ML pipeline quality**" in q.explanation
    assert q.explanation.endswith(
        "**Final Answer:** C. To ensure the input data meets quality standards before training"
    )
    assert q.hints == ("Data validation checks input quality before training",)
    assert q.notes == (
        Note(label="Quick Check", text="Data validation = input data quality check"),
        Note(
            label="Common Mistakes",
            text="- Confusing data validation with code syntax checks\n"
            "- Thinking deployment happens before training\n"
            "- Assuming model compilation is needed",
        ),
    )
    assert q.source.line == 124


def test_sniffer_prefers_its_own_seed() -> None:
    importer = FlashcardsImporter()
    own = importer.sniff(SEED.read_text(encoding="utf-8"), SEED.name)
    assert own >= 0.9
    for other in SOURCES.glob("*.txt"):
        if other != SEED:
            assert importer.sniff(other.read_text(encoding="utf-8"), other.name) < own


@pytest.mark.parametrize(
    "text", ["", "just some words\n", "beginner\n", "A question?\nAx\n", "1. Only a line\n"]
)
def test_garbage_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as err:
        FlashcardsImporter().parse(text, "bad.txt")
    assert err.value.path == "bad.txt" and err.value.line == 1


def test_a_missing_final_answer_leaves_the_question_needing_a_key() -> None:
    text = (
        "1. Which is right?\neasy\nA. This one\nB. That one\n\nSolution\n\n"
        "1. Step 1: Think\n\n  About it.\nHint: look closely [OK]\n"
    )
    result = FlashcardsImporter().parse(text, "p.txt")
    (q,) = result.questions
    assert q.status == "needs_key" and q.correct is None
    assert q.explanation == "**Step 1: Think** — About it."
    assert q.hints == ("look closely",)
    assert any("needs a key" in w for w in result.warnings)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "beginner",
                "hard",
                "What is it?",
                "An answer here.",
                "Click to reveal answer",
                "AOne",
                "BTwo",
                "CThree",
                "A. one",
                "B. two",
                "1. Q here?",
                "2. Step 2: x",
                "3. Final Answer:",
                "x -> Option B",
                "x -> Option J",
                "Hint: h [OK]",
                "Common Mistakes:",
                "• m",
                "You got /4 concepts.",
                "steps:",
                "  - name: x",
                "",
            ]
        ),
        max_size=40,
    )
)
def test_parse_raises_only_parse_error_on_shaped_text(lines: list[str]) -> None:
    parse_or_refuse(FlashcardsImporter(), "\n".join(lines))


def test_a_question_in_no_known_layout_is_reported_not_silently_lost() -> None:
    text = "beginner\nWhat is A?\nA is a letter.\nClick to reveal answer\nWhat is B?\n"
    result = FlashcardsImporter().parse(text, "p.txt")
    assert [q.prompt for q in result.questions] == ["What is A?"]
    assert result.warnings == (
        "p.txt:5: reads like a question but is not laid out as a card, a choice question, "
        "a prompt or a practice question; skipped",
    )
