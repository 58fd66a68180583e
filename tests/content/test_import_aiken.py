"""Aiken files: options, keys and the mistakes people make writing them by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.importers import ParseError, ParseResult, sniff
from content.importers.aiken import AikenImporter

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def _parse(text: str) -> ParseResult:
    return AikenImporter().parse(text, "quiz.aiken")


def test_fixture_gives_three_keyed_choice_questions() -> None:
    text = (FIXTURES / "quiz.aiken").read_text()
    result = _parse(text)
    assert [q.source.line for q in result.questions] == [1, 8, 14]
    first, second, third = result.questions
    assert first.prompt == "Which component stores trained models with versions and stages?"
    assert first.kind == "choice"
    assert first.choices == ("Feature store", "Model registry", "Data lake", "Message queue")
    assert first.correct == "B"
    assert first.status == "ready"
    assert second.choices[0] == "A difference between training and serving feature computation"
    assert second.correct == "A"  # the A) spelling of options
    assert third.correct == "C"
    assert third.choices[third.letters.index("C")] == "Blue-green"


def test_sniff_prefers_aiken_for_the_fixture() -> None:
    text = (FIXTURES / "quiz.aiken").read_text()
    assert AikenImporter().sniff(text, "quiz.aiken") >= 0.85
    chosen = sniff(text, "quiz.aiken")
    assert chosen is not None and chosen.name == "aiken"


def test_prose_with_questions_is_not_aiken() -> None:
    assert AikenImporter().sniff("What is MLOps?\nIt is ops for ML.\n", "notes.txt") == 0.0


def test_question_without_answer_line_points_at_the_question() -> None:
    text = "First?\nA. yes\nB. no\nANSWER: A\n\nSecond?\nA. one\nB. two\n"
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 6
    assert "ANSWER" in info.value.reason


def test_blank_line_before_the_key_is_reported_at_the_question() -> None:
    with pytest.raises(ParseError) as info:
        _parse("\n\nWhich?\nA. one\nB. two\n\nANSWER: A\n")
    assert info.value.line == 3


def test_key_outside_the_options_is_refused_at_its_line() -> None:
    with pytest.raises(ParseError) as info:
        _parse("Which?\nA. one\nB. two\nANSWER: C\n")
    assert info.value.line == 4
    assert "A, B" in info.value.reason


def test_options_out_of_order_are_refused() -> None:
    with pytest.raises(ParseError) as info:
        _parse("Which?\nA. one\nC. two\nANSWER: A\n")
    assert info.value.line == 3
    assert "expected B" in info.value.reason


def test_single_option_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        _parse("Which?\nA. only\nANSWER: A\n")
    assert info.value.line == 1


def test_lower_case_key_gets_an_actionable_message() -> None:
    with pytest.raises(ParseError) as info:
        _parse("Which?\nA. one\nB. two\nanswer: a\n")
    assert info.value.line == 4
    assert "capitals" in info.value.reason


def test_multi_line_prompt_is_joined() -> None:
    result = _parse("Given a model in production,\nwhich signal shows drift first?\n"
                    "A. input distribution\nB. accuracy\nANSWER: A\n")
    assert result.questions[0].prompt == (
        "Given a model in production, which signal shows drift first?"
    )
    assert result.questions[0].source.line == 1


def test_byte_order_mark_and_crlf() -> None:
    (question,) = _parse("\ufeffWhich?\r\nA. one\r\nB. two\r\nANSWER: B\r\n").questions
    assert question.prompt == "Which?"
    assert question.correct == "B"


def test_seed_documents_are_not_claimed() -> None:
    """Prose with question marks belongs to the dedicated seed importers."""
    sources = Path(__file__).parent.parent.parent / "content" / "sources"
    for path in sorted(sources.glob("*.txt")):
        assert AikenImporter().sniff(path.read_text(), path.name) <= 0.3, path.name
