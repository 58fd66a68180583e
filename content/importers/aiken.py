"""Aiken multiple-choice format (placeholder until its importer lands)."""

from __future__ import annotations

from content.importers.base import ParseError, ParseResult


class AikenImporter:
    name = "aiken"

    def sniff(self, text: str, filename: str) -> float:
        return 0.0

    def parse(self, text: str, source_name: str) -> ParseResult:
        raise ParseError(source_name, 1, "the aiken importer is not built yet")
