"""A PDF extraction with Q1: ... Q30: under numbered sections (seed 002) (placeholder until its importer lands)."""

from __future__ import annotations

from content.importers.base import ParseError, ParseResult


class PdfQaImporter:
    name = "pdf-qa"

    def sniff(self, text: str, filename: str) -> float:
        return 0.0

    def parse(self, text: str, source_name: str) -> ParseResult:
        raise ParseError(source_name, 1, "the pdf-qa importer is not built yet")
