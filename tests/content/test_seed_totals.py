"""The whole built-in bank, as the issue pins it: every importer chosen by sniffing alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.importers import sniff

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "content" / "sources").glob("*.txt"))
EXPECTED = {
    "000": ("answer-list", 100, 100),
    "001": ("article", 22, 22),
    "002": ("pdf-qa", 30, 30),
    "003": ("html-sections", 36, 36),
    "004": ("flashcards", 17, 10),
}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name[:3])
def test_each_seed_is_sniffed_to_its_importer_and_counted(path: Path) -> None:
    fmt, found, ready = EXPECTED[path.name[:3]]
    text = path.read_text(encoding="utf-8")
    importer = sniff(text, path.name)
    assert importer is not None and importer.name == fmt
    result = importer.parse(text, f"content/sources/{path.name}")
    assert len(result.questions) == found
    assert sum(q.status == "ready" for q in result.questions) == ready


def test_seed_totals_and_unique_ids() -> None:
    questions = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        importer = sniff(text, path.name)
        assert importer is not None
        questions.extend(importer.parse(text, f"content/sources/{path.name}").questions)
    assert len(questions) == 205
    assert sum(q.status == "ready" for q in questions) == 198
    assert sum(q.status != "ready" for q in questions) == 7
    assert len({q.id for q in questions}) == 205


def test_realworld_markdown_bank_is_sniffed_as_markdown() -> None:
    path = ROOT / "tests" / "fixtures" / "mlops-general-cc0.md"
    text = path.read_text(encoding="utf-8")
    importer = sniff(text, path.name)
    assert importer is not None and importer.name == "markdown"
    assert len(importer.parse(text, path.name).questions) == 36
