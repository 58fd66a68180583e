"""An HTML extraction with Section NN and per-section Qn (seed 003) (placeholder until its importer lands)."""

from __future__ import annotations

from content.importers.base import ParseError, ParseResult


class HtmlSectionsImporter:
    name = "html-sections"

    def sniff(self, text: str, filename: str) -> float:
        return 0.0

    def parse(self, text: str, source_name: str) -> ParseResult:
        raise ParseError(source_name, 1, "the html-sections importer is not built yet")
