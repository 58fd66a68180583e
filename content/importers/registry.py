"""The ordered list of importers: specific document shapes first, generic formats last
(a tie in sniffing goes to the earlier one)."""

from __future__ import annotations

from content.importers.aiken import AikenImporter
from content.importers.answer_list import AnswerListImporter
from content.importers.article import ArticleImporter
from content.importers.base import Importer
from content.importers.delimited import DelimitedImporter
from content.importers.flashcards import FlashcardsImporter
from content.importers.html_sections import HtmlSectionsImporter
from content.importers.json_bank import JsonImporter
from content.importers.markdown import MarkdownImporter
from content.importers.pdf_qa import PdfQaImporter

IMPORTERS: list[Importer] = [
    AnswerListImporter(),
    ArticleImporter(),
    PdfQaImporter(),
    HtmlSectionsImporter(),
    FlashcardsImporter(),
    JsonImporter(),
    AikenImporter(),
    DelimitedImporter(),
    MarkdownImporter(),
]
