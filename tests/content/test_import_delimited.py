"""CSV/TSV with a header, Anki's text export and Quizlet's: separators, columns, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.importers import ParseError, ParseResult, sniff
from content.importers.delimited import DelimitedImporter

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def _parse(text: str, name: str = "bank.csv") -> ParseResult:
    return DelimitedImporter().parse(text, name)


def _fixture(name: str) -> ParseResult:
    return _parse((FIXTURES / name).read_text(), name)


def test_csv_with_header_row() -> None:
    result = _fixture("bank.csv")
    ci, tracking, canary, leakage = result.questions
    assert ci.prompt == "What does CI stand for in CI/CD?"
    assert ci.answer == "Continuous Integration"
    assert ci.topic == "CI/CD"
    assert ci.difficulty == "easy"  # "Junior"
    assert ci.kind == "open"
    assert tracking.kind == "choice"
    assert tracking.choices == ("MLflow", "Terraform", "Nginx", "Redis")
    assert tracking.correct == "A"
    assert tracking.answer.startswith("MLflow tracks")  # quoted comma kept
    assert canary.correct == "B"  # the correct option given as its text
    assert canary.difficulty == "hard"
    assert leakage.prompt == 'What is "data leakage"?'
    assert leakage.answer.endswith("It inflates offline metrics.")  # quoted newline kept
    assert leakage.difficulty == "medium"  # "[M]"
    assert [q.source.line for q in result.questions] == [2, 3, 4, 5]


def test_semicolon_separator_and_front_back_header() -> None:
    result = _fixture("bank_semicolon.csv")
    assert [q.prompt for q in result.questions] == [
        "What is a feature store?",
        "What is model drift?",
    ]
    assert result.questions[1].answer.startswith("A drop in model quality")


def test_anki_text_export() -> None:
    result = _fixture("anki_export.txt")
    drift, canary, numpy, registry = result.questions
    # Header lines are skipped but counted: the first note is on line 6.
    assert [q.source.line for q in result.questions] == [6, 7, 8, 9]
    assert drift.prompt == "What is **data drift**?"  # <b> → Markdown
    assert drift.answer == (
        "A change in the distribution of the *input* data\ncompared with the training data."
    )
    assert drift.topic == "Monitoring"  # deck column, last part of MLOps::Monitoring
    assert drift.tags == ("monitoring", "drift")  # tags column
    assert canary.prompt == "Canary vs blue-green?"  # &nbsp;
    assert "two full environments & a switch" in canary.answer  # &amp; and <div>
    assert numpy.prompt == "Why pin `numpy` in a model image?"
    assert numpy.answer == 'Because a "minor" upgrade can change numerics.'
    assert registry.answer.endswith("<staging> and <production>.")
    assert all(q.status == "ready" for q in result.questions)


def test_quizlet_export_without_header() -> None:
    result = _fixture("quizlet_export.tsv")
    assert len(result.questions) == 5
    first = result.questions[0]
    assert first.prompt == "Feature store"
    assert first.answer.startswith("A central place")
    assert result.questions[3].answer == (
        "A short document describing a model's intended use, data, metrics and limits."
    )


def test_quizlet_export_as_txt_is_sniffed_as_csv() -> None:
    text = (FIXTURES / "quizlet_export.tsv").read_text()
    chosen = sniff(text, "quizlet.txt")
    assert chosen is not None and chosen.name == "csv"


def test_sniff_scores() -> None:
    imp = DelimitedImporter()
    assert imp.sniff((FIXTURES / "anki_export.txt").read_text(), "deck.txt") >= 0.9
    assert imp.sniff((FIXTURES / "bank.csv").read_text(), "bank.csv") >= 0.8
    prose = "What is MLOps? It is, in short, ops for ML.\nWhy? Because models rot.\n"
    assert imp.sniff(prose, "notes.txt") <= 0.3


def test_row_with_wrong_field_count_points_at_that_row() -> None:
    text = "question,answer\nWhat is CI?,Continuous integration\nWhat is CD?,Delivery,extra\n"
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 3
    assert "expected 2 fields" in info.value.reason


def test_row_after_a_multiline_field_has_the_right_line() -> None:
    text = 'question,answer\n"Q1?","line one\nline two"\nQ2?\n'
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 4


def test_unknown_correct_option_is_refused() -> None:
    text = "question,choices,correct\nPick?,a|b|c,Z\n"
    with pytest.raises(ParseError) as info:
        _parse(text)
    assert info.value.line == 2
    assert "'Z'" in info.value.reason


def test_correct_as_number_and_choices_without_key() -> None:
    text = "question,choices,correct\nPick?,a|b|c,3\nOpen key?,x|y,\n"
    first, second = _parse(text).questions
    assert first.correct == "C"
    assert second.status == "needs_key"


def test_unknown_difficulty_is_a_warning_not_a_guess() -> None:
    result = _parse("question,answer,difficulty\nWhat?,That,moderate\n")
    assert result.questions[0].difficulty is None
    assert any("moderate" in w and "bank.csv:2" in w for w in result.warnings)


def test_unknown_anki_separator_is_refused_at_its_line() -> None:
    with pytest.raises(ParseError) as info:
        _parse("#html:false\n#separator:weird\nQ\tA\n", "deck.txt")
    assert info.value.line == 2


def test_empty_question_cell_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        _parse("question,answer\n,an answer without a question\n")
    assert info.value.line == 2


def test_text_without_separator_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        _parse("just one column\nper line\n", "notes.txt")
    assert "separator" in info.value.reason


def test_excel_byte_order_mark_and_crlf() -> None:
    text = "\ufeffQuestion,Answer\r\nWhat is CI?,Continuous integration\r\n"
    (question,) = _parse(text).questions
    assert question.prompt == "What is CI?"
    assert question.answer == "Continuous integration"
    assert question.source.line == 2


def test_anki_columns_header_names_the_fields() -> None:
    text = "#separator:semicolon\n#columns:Back;Front;Tags\nA store;What is a feature store?;ops\n"
    (question,) = _parse(text, "deck.txt").questions
    assert question.prompt == "What is a feature store?"
    assert question.answer == "A store"
    assert question.tags == ("ops",)
    assert question.source.line == 3


def test_seed_documents_are_not_claimed() -> None:
    """Prose with question marks belongs to the dedicated seed importers."""
    sources = Path(__file__).parent.parent.parent / "content" / "sources"
    for path in sorted(sources.glob("*.txt")):
        assert DelimitedImporter().sniff(path.read_text(), path.name) <= 0.3, path.name
