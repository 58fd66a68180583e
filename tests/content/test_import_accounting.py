"""Nothing disappears silently: every line of a Markdown source is a question, part of an
answer, a section heading, or reported as skipped with its line and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from content.bank import load_bank
from content.importers import all_importers
from content.importers.base import Skipped
from content.importers.markdown import MarkdownImporter
from content.importers.registry import NEEDS

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_question_the_importer_cannot_read_is_reported() -> None:
    result = MarkdownImporter().parse(
        (FIXTURES / "wild" / "unreadable.md").read_text(), "unreadable.md"
    )
    assert [q.prompt for q in result.questions] == [
        "What is a model server?",
        "What is a shadow deployment?",
    ]
    # The bullet question is neither dropped nor merged into the answer above it.
    assert result.questions[0].answer == (
        "A process that loads a model and answers prediction requests."
    )
    assert result.skipped == (
        Skipped(
            11,
            12,
            "unparseable: line 11 looks like a question but is in none of the shapes read "
            "(heading, bold line, Qn label, <summary>, numbered line); mark it like the "
            "other questions",
            "- What is training-serving skew?",
        ),
        Skipped(
            18,
            20,
            "after the last question: the 'Credits' section is article text, not questions",
            "## Credits",
        ),
    )


def test_dry_run_json_lists_skipped_blocks_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = FIXTURES / "wild" / "unreadable.md"
    code, out, _ = _run(capsys, "import", "--dry-run", "--json", "--bank-dir", tmp_path, source)
    assert code == 0
    (report,) = json.loads(out)["files"]
    shown = report["path"]
    assert (report["found"], report["ready"], report["needs_key"], report["needs_answer"]) == (
        2, 2, 0, 0,
    )
    assert [(s["at"], s["end_line"], s["text"]) for s in report["skipped"]] == [
        (f"{shown}:11", 12, "- What is training-serving skew?"),
        (f"{shown}:18", 20, "## Credits"),
    ]
    assert report["skipped"][0]["reason"].startswith("unparseable: line 11 looks like a question")
    assert list(tmp_path.iterdir()) == []


def test_human_report_shows_held_back_and_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = FIXTURES / "wild" / "checkbox_quiz.md"
    code, out, _ = _run(capsys, "import", "--dry-run", "--bank-dir", tmp_path, source)
    assert code == 0
    assert "(markdown): found 7, ready 5, needs_key 2, needs_answer 0" in out
    assert "checkbox_quiz.md:38 [needs_key]: no option is checked: mark the right one" in out
    assert "checkbox_quiz.md:44 [needs_key]: 2 options are checked (A, C)" in out


DOC = """\
---
title: Ops bank
---
Welcome to the bank.

## Serving

<details><summary>What is a model server?</summary>

A process that answers prediction requests.
</details>

Stray notes between the toggles.

<details><summary>What is a model server?</summary>

A process that answers prediction requests.
</details>

## Conclusion

Thanks for reading.
"""


def test_every_kind_of_leftover_is_reported_with_its_lines() -> None:
    result = MarkdownImporter().parse(DOC, "ops.md")
    (server,) = result.questions
    assert (server.prompt, server.source.line, server.topic) == (
        "What is a model server?", 8, "Serving",
    )
    assert [(s.line, s.end_line, s.reason) for s in result.skipped] == [
        (1, 3, "front matter (document metadata, not questions)"),
        (4, 4, "before the first question"),
        (13, 13, "between questions, after the <details> block of line 8 (outside its answer)"),
        (15, 18, "the same question as line 8, written twice (kept once)"),
        (20, 22, "after the last question: the 'Conclusion' section is article text, "
                 "not questions"),
    ]


def test_found_counts_exactly_the_questions_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "ops.md"
    source.write_text(DOC, encoding="utf-8")
    bank = tmp_path / "bank"
    code, out, _ = _run(capsys, "import", "--json", "--bank-dir", bank, source)
    assert code == 0
    (report,) = json.loads(out)["files"]
    assert report["found"] == 1
    assert len(load_bank(bank)) == 1


def test_labelled_bank_reports_an_unlabelled_question_heading() -> None:
    text = (
        "## Questions\n\n### Q1. What is CI?\n\nMerging often.\n\n"
        "### Q2. What is CD?\n\nShipping often.\n\n"
        "## Bonus\n\n### Is this one read?\n\n## Q3. What is MLOps?\n\nOps for ML.\n"
    )
    result = MarkdownImporter().parse(text, "ci.md")
    assert [q.prompt for q in result.questions] == ["What is CI?", "What is CD?", "What is MLOps?"]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (
            13,
            "unparseable: looks like a question but is not read as one (a question-like "
            "heading without the 'Qn.' label the other questions carry; read as a section)",
        )
    ]


def test_a_document_no_importer_reads_says_what_each_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("Some notes\n\nNothing to ask here.\n", encoding="utf-8")
    code, _, err = _run(capsys, "import", "--dry-run", "--bank-dir", tmp_path / "b", source)
    assert code == 1
    assert "notes.txt:1: no importer recognises this file (tried: " in err
    for importer in all_importers():
        assert f"{importer.name} needs {NEEDS[importer.name]}" in err
    assert set(NEEDS) == {imp.name for imp in all_importers()}


def test_real_cc0_bank_reports_its_article_text() -> None:
    path = FIXTURES / "mlops-general-cc0.md"
    result = MarkdownImporter().parse(path.read_text(), path.name)
    assert len(result.questions) == 36
    assert [(s.line, s.end_line) for s in result.skipped] == [
        (1, 5), (7, 22), (446, 447), (450, 459),
    ]
    assert all("article text, not questions" in s.reason for s in result.skipped)


def test_a_bold_question_inside_an_answer_is_kept_there_and_named() -> None:
    text = (
        "### Q1. What is a canary release?\n\nA small first share of traffic.\n\n"
        "**Why does it help?**\n\nIt limits the blast radius.\n\n"
        "### Q2. What is a rollback?\n\nGoing back to the previous version.\n"
    )
    result = MarkdownImporter().parse(text, "ops.md")
    canary, rollback = result.questions
    assert canary.answer == (
        "A small first share of traffic.\n\n**Why does it help?**\n\nIt limits the blast radius."
    )
    assert rollback.prompt == "What is a rollback?"
    assert result.warnings == (
        "ops.md:5: a bold question line inside the answer of line 1, kept in that answer; "
        "write it like the other questions (heading) to import it on its own",
    )
    assert result.skipped == ()


def test_chrome_sections_end_at_their_sibling() -> None:
    text = (
        "# Bank\n\n## Introduction\n\nRead this first.\n\n### Background\n\nMore intro.\n\n"
        "## Serving\n\n**What is a model server?**\n\nA process that answers requests.\n\n"
        "<details><summary>What is a canary?</summary>\n\nA small share first.\n</details>\n"
    )
    result = MarkdownImporter().parse(text, "bank.md")
    assert [(q.prompt, q.topic) for q in result.questions] == [
        ("What is a model server?", "Serving"),
        ("What is a canary?", "Serving"),
    ]
    intro = "before the first question: the 'Introduction' section is article text, not questions"
    assert [(s.line, s.end_line, s.reason) for s in result.skipped] == [
        (3, 5, intro),
        (7, 9, intro),
    ]
