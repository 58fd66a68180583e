"""Every importer, on any text, returns valid questions or raises ParseError: nothing else.

People import whatever file they have; a crash would lose the file:line a person needs to
fix it, and a half-valid question would reach the bank.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.importers import ParseError, ParseResult, all_importers
from content.importers.base import Importer
from content.model import Question

_FRAGMENTS = [
    "Q1:",
    "Q2: What is MLOps?",
    "- Answer:",
    "- Answer: it is ops for ML",
    "### Q1.",
    "### Q3. What is drift? [E]",
    "## Conclusion",
    "## Data and Model drift",
    "# Interview Questions",
    "**x?**",
    "**What is a feature store? (Senior)**",
    "__Why?__",
    "1. What is CI?",
    "2) a step",
    "Section 01",
    "A. x",
    "B) y",
    "J. ten",
    "ANSWER: A",
    "ANSWER: Z",
    "answer: b",
    "\t",
    "a\tb",
    "term\tdefinition\textra",
    "question,answer,topic,difficulty,choices,correct",
    "What?,Yes,Ops,hard,a|b|c,B",
    "x,y,z",
    '"unterminated,quote',
    "front;back",
    "#separator:tab",
    "#separator:Pipe",
    "#separator:weird",
    "#html:true",
    "#tags column:3",
    "#deck column:0",
    "#notetype column:1",
    "<b>bold</b><br>&nbsp;&amp;",
    "• bullet",
    "✓ **Reproducibility** — yes",
    "👶",
    "⭐️ Mid",
    "🚀",
    "[E]",
    "Difficulty: hard",
    "```",
    "~~~python",
    "| a | b |",
    "---",
    "{",
    "}",
    "[",
    "]",
    '{"response_code":0,"results":[',
    '{"type":"multiple","question":"Q?","correct_answer":"a","incorrect_answers":["b"]}',
    '{"type":"boolean","question":"T?","correct_answer":"True","incorrect_answers":[]}',
    '{"prompt":"p","kind":"choice","choices":["a"],"correct":"A"}',
    '[{"prompt":"  ","answer":"x"}]',
    '{"questions":[{"prompt":"p","status":"ready"}]}',
    '{"questions": 3}',
    "&quot;&#039;",
    "",
    " ",
    "?",
]

_structured = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=20)), max_size=25
).map("\n".join)
_glued = st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map(",".join)
_any_text = st.one_of(st.text(), _structured, _glued)


def _check(importer: Importer, text: str) -> None:
    score = importer.sniff(text, "input.txt")
    assert 0.0 <= score <= 1.0
    try:
        result = importer.parse(text, "input.txt")
    except ParseError as exc:
        assert exc.path == "input.txt"
        assert exc.line >= 1
        assert exc.reason
        return
    assert isinstance(result, ParseResult)
    for question in result.questions:
        # Re-validating proves the question satisfies every model rule as it stands.
        assert Question.model_validate(question.model_dump()) == question
        assert question.source.file == "input.txt"
        assert question.prompt.strip()


@pytest.mark.parametrize("importer", all_importers(), ids=lambda imp: imp.name)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_any_text)
def test_parse_returns_questions_or_raises_parse_error(importer: Importer, text: str) -> None:
    _check(importer, text)


@pytest.mark.parametrize("importer", all_importers(), ids=lambda imp: imp.name)
def test_known_hostile_inputs(importer: Importer) -> None:
    """Inputs that broke naive parsers: deep JSON, huge numbers, stray separators, NULs."""
    for text in [
        "[" * 5000 + "]" * 5000,
        '{"questions": [' + "1" * 5000 + "]}",
        "\x00\x00",
        "\ufeff[]",
        "a,b\n" + "x" * 200_000 + ",y",
        "#separator:tab\n#html:true\n\t\t\n",
        "A. x\nB. y\nANSWER: A",
        "### Q1.\n\n### Q2. ?",
        "**?**",
        "\r\n\r\n\u2028",
    ]:
        _check(importer, text)


_LONG = 20_000
_PATHOLOGICAL = [
    "### Q1. " + "- " * _LONG + "x?",
    "<summary>" * _LONG + "?",
    "<details" * _LONG + "\n<summary>a?</summary>\n" + "<summary" * _LONG,
    "#html:true\nq\t" + "<b" * _LONG + "[sound:" * _LONG,
    "**a?**\nDifficulty:" + " *" * _LONG + "x",
    "[" + ",".join(['{"prompt": "p?", "answer": "a"}'] * _LONG) + "]",
]


@pytest.mark.parametrize("importer", all_importers(), ids=lambda imp: imp.name)
def test_pathological_lines_stay_fast(importer: Importer) -> None:
    """Regexes that backtrack quadratically turned 50k-character lines into minutes."""
    for text in _PATHOLOGICAL:
        started = time.perf_counter()
        _check(importer, text)
        assert time.perf_counter() - started < 5.0, text[:40]
