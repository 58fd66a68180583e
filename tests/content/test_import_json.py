"""JSON: Open Trivia DB responses and the bank's own schema, with file:line errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from content.importers import ParseError, ParseResult, sniff
from content.importers.json_bank import JsonImporter

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def _parse(text: str, name: str = "bank.json") -> ParseResult:
    return JsonImporter().parse(text, name)


def test_open_trivia_db_response() -> None:
    result = _parse((FIXTURES / "opentdb.json").read_text(), "opentdb.json")
    assert len(result.questions) == 3
    multiple, boolean, not_question = result.questions
    # Entities decoded everywhere: &quot; &amp; &#039;
    assert multiple.prompt == 'What does the "MLOps" term combine?'
    assert "Machine learning & operations" in multiple.choices
    assert multiple.choices == tuple(sorted(multiple.choices, key=str.casefold))
    assert multiple.choices[multiple.letters.index(multiple.correct or "")] == (
        "Machine learning & operations"
    )
    assert multiple.difficulty == "medium"
    assert multiple.topic == "Science: Computers"
    assert multiple.status == "ready"
    assert boolean.prompt == "Docker's images are built from a Dockerfile."
    assert boolean.choices == ("True", "False")
    assert boolean.correct == "A"
    assert boolean.difficulty == "easy"
    assert not_question.correct is not None
    assert not_question.choices[not_question.letters.index(not_question.correct)] == "Jenkins"
    assert not_question.difficulty == "hard"
    assert [q.source.line for q in result.questions] == [1, 2, 3]


def test_open_trivia_db_placement_is_deterministic() -> None:
    text = (FIXTURES / "opentdb.json").read_text()
    assert _parse(text).questions == _parse(text).questions


def test_open_trivia_db_error_code_is_reported() -> None:
    with pytest.raises(ParseError) as info:
        _parse('{\n  "response_code": 5,\n  "results": []\n}')
    assert info.value.line == 2
    assert "too many requests" in info.value.reason


def test_open_trivia_db_unknown_type_points_at_its_result() -> None:
    text = (
        '{"response_code": 0, "results": [\n'
        ' {"type": "boolean", "question": "Q?", "correct_answer": "False",'
        ' "incorrect_answers": ["True"]},\n'
        ' {"type": "essay", "question": "Why?", "correct_answer": "x", "incorrect_answers": []}\n'
        "]}"
    )
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 3
    assert "essay" in info.value.reason


def test_own_schema_with_questions_key() -> None:
    result = _parse((FIXTURES / "own_schema.json").read_text(), "own_schema.json")
    registry, metric, rollback = result.questions
    assert registry.prompt == "What is a model registry?"
    assert registry.answer.startswith("A versioned catalogue")
    assert registry.tags == ("registry", "mlflow")
    assert registry.difficulty == "easy"
    assert registry.source.line == 4  # the line of the prompt
    assert metric.kind == "choice"
    assert metric.correct == "B"
    assert metric.difficulty == "hard"  # "Senior" normalised
    assert metric.explanation.startswith("Precision-recall")
    assert rollback.status == "needs_answer"
    assert rollback.topic == "Deployment"


def test_own_schema_as_a_plain_list() -> None:
    result = _parse((FIXTURES / "own_schema_list.json").read_text(), "own_schema_list.json")
    assert [q.prompt for q in result.questions] == [
        "What is shadow deployment?",
        "Name one data validation tool.",
    ]
    assert result.questions[1].hints == ("It starts with G",)
    assert [q.source.line for q in result.questions] == [2, 3]


def test_validation_error_names_the_object_line_and_field() -> None:
    text = (
        "[\n"
        '  {"prompt": "Fine?", "answer": "yes"},\n'
        "  {\n"
        '    "prompt": "Pick one",\n'
        '    "kind": "choice",\n'
        '    "choices": ["only one"]\n'
        "  }\n"
        "]\n"
    )
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 3
    assert "two choices" in info.value.reason


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        _parse('[\n{"prompt": "x?", "answer": "y", "difficulty": "galactic"}\n]')
    assert info.value.line == 2
    assert "difficulty" in info.value.reason


def test_unknown_field_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ParseError) as info:
        _parse('[{"prompt": "x?", "answr": "typo"}]')
    assert "answr" in info.value.reason
    assert "answer" in info.value.reason


def test_invalid_json_reports_the_line_of_the_error() -> None:
    with pytest.raises(ParseError) as info:
        _parse('[\n  {"prompt": "a?", "answer": "b"},\n  {"prompt": "c?" "answer": "d"}\n]')
    assert info.value.line == 3
    assert info.value.reason.startswith("invalid JSON")


def test_unexpected_shape_is_explained() -> None:
    with pytest.raises(ParseError) as info:
        _parse('{"items": []}')
    assert "questions" in info.value.reason


def test_sniff_scores() -> None:
    imp = JsonImporter()
    assert imp.sniff((FIXTURES / "opentdb.json").read_text(), "x.json") >= 0.9
    assert imp.sniff((FIXTURES / "own_schema.json").read_text(), "x.json") >= 0.85
    assert imp.sniff("What is JSON? A format.", "notes.txt") == 0.0
    chosen = sniff((FIXTURES / "opentdb.json").read_text(), "opentdb.json")
    assert chosen is not None and chosen.name == "json"


def test_open_trivia_db_base64_and_url_encodings() -> None:
    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()

    def result(encode: Callable[[str], str]) -> dict[str, object]:
        return {
            "type": encode("multiple"),
            "difficulty": encode("hard"),
            "category": encode("Science: Computers"),
            "question": encode("Which tool serves features online?"),
            "correct_answer": encode("Feast"),
            "incorrect_answers": [encode("Airflow"), encode("Grafana")],
        }

    for variant in (result(b64), result(quote)):
        text = json.dumps({"response_code": 0, "results": [variant]})
        (question,) = _parse(text).questions
        assert question.prompt == "Which tool serves features online?"
        assert question.choices == ("Airflow", "Feast", "Grafana")
        assert question.correct == "B"
        assert question.topic == "Science: Computers"
        assert question.difficulty == "hard"


def test_byte_order_mark_is_ignored() -> None:
    (question,) = _parse('\ufeff[{"prompt": "BOM?", "answer": "ignored"}]').questions
    assert question.prompt == "BOM?"


def test_seed_documents_are_not_claimed() -> None:
    """Prose with question marks belongs to the dedicated seed importers."""
    sources = Path(__file__).parent.parent.parent / "content" / "sources"
    for path in sorted(sources.glob("*.txt")):
        assert JsonImporter().sniff(path.read_text(), path.name) <= 0.3, path.name
