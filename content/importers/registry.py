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

#: What each importer needs to find in a document, said when no importer recognises one,
#: so that a person can see which shape is closest to theirs and what to change.
NEEDS: dict[str, str] = {
    "answer-list": "question lines each followed by an '- Answer: ...' line",
    "article": "one-line paragraphs ending in '?' (or '3. ...?') with prose answers",
    "pdf-qa": "'Q1: ...' lines under numbered section titles ('1. Title')",
    "html-sections": "'Section 01' + title lines, then 'Q1', 'Q2' ... question lines",
    "flashcards": "a study page: level lines, questions and 'Click to reveal answer'",
    "json": "Open Trivia DB JSON or the bank's own schema ({\"questions\": [...]})",
    "aiken": "a prompt, options 'A. ...', then 'ANSWER: X', blank line between questions",
    "csv": "one question per row: CSV/TSV with a header, Anki or Quizlet text exports",
    "markdown": "questions as headings, bold lines, 'Q1.' labels, <summary> or numbered "
    "lines ('1. ...?'), each ending in '?' or starting with Define/Explain/List ...",
}
