"""The check every importer fuzz test makes, for the tests that feed one importer
its own shape's vocabulary (the all-importer fuzzing is test_importers_never_crash)."""

from __future__ import annotations

from content.importers.base import Importer, ParseError


def parse_or_refuse(importer: Importer, text: str) -> None:
    """Either a ParseError naming the file, or questions that point inside the text."""
    try:
        result = importer.parse(text, "fuzz.txt")
    except ParseError as err:
        assert err.path == "fuzz.txt" and err.line >= 1
        return
    assert result.questions
    for q in result.questions:
        assert q.prompt.strip()
        assert 1 <= q.source.line <= len(text.splitlines()) + 1
