"""A Markdown document as the question finder needs it, read from markdown-it-py's tokens.

markdown-it-py (CommonMark, with the tasklists, front-matter and deflist plugins) decides
what is a heading, a paragraph, a list item, an HTML block or code; this module records,
per source line, which of those blocks could be a question in each of the habits bank
authors use (heading, bold line, label, <summary>, numbered line) and where the checkbox
lists and code are. Line numbers are 0-based here and stay those of the source.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from content.importers.md_html import TOGGLE_LABELS, inline_text
from content.importers.md_prompt import asks, is_anchor_entry, is_chrome, read_prompt
from content.importers.textutil import normalize_invisible

STYLES = ("heading", "bold", "label", "details", "numbered")
_BOLD_LINE = re.compile(r"^\s{0,3}(\*\*|__)(.+?)\1(.*)$")
_PLAIN_LABEL = re.compile(r"^\s{0,3}(?:Q\s*\d{0,4}\s*[.:)]|Question\s+\d{1,4}\s*[:.)\-–—])\s*\S",
                          re.IGNORECASE)
_ORDERED_ITEM = re.compile(r"^\s{0,3}\d{1,9}[.)](?:\s+|$)")
TASK = re.compile(r"^\s{0,3}[-*+]\s+\[([ xX])\]\s*(.*)$")
DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
WRAPPER = re.compile(
    r"^\s*(?:(?:</?details\b[^<>]*>|<summary\b[^<>]*>[^<>]*</summary>|</?p>)\s*)*$", re.I
)
LOOKS_ASKED = re.compile(r"\?(?:\s*(?:\*\*|__))?\s*$")


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin)
    )


@dataclass
class Doc:
    """The source lines and what the parser found in them (0-based line numbers)."""

    lines: list[str]
    code: set[int] = field(default_factory=set)  # lines inside fenced or indented code
    headings: dict[int, tuple[int, int, str, bool]] = field(default_factory=dict)
    # start -> (end, level, title, atx)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    task_lists: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    front_matter: tuple[int, int] | None = None
    fences: int = 0


@dataclass(frozen=True)
class Candidate:
    """A line that asks a question in one style: where it starts and where its answer may."""

    style: str
    start: int  # first line of the question (a <details> block: its opening line)
    body: int  # first line after the prompt
    raw: str
    level: int = 0  # heading level; 0 for everything else
    details: bool = False  # the answer ends where the <details> block does
    indent: int = 0  # the content indent of a list item
    tail: str = ""  # text after </summary> on the summary's own line


def _summary(text: str) -> tuple[str, str, str] | None:
    """(the <summary>'s text, the line before it, the line after it), if the line has one.

    Found with str.find so that a line of ten thousand unclosed tags stays linear.
    """
    low = text.lower()
    start = low.find("<summary")
    opened = low.find(">", start) if start >= 0 else -1
    end = low.find("</summary>", opened) if opened >= 0 else -1
    if end < 0:
        return None
    title = inline_text(text[opened + 1 : end]).strip("* ")
    return title, text[:start], text[end + len("</summary>") :]


def scan(text: str) -> Doc:
    # One line ending, as the parser sees them, so that its line numbers are ours.
    text = normalize_invisible(text.removeprefix("\ufeff")).replace("\r\n", "\n")
    text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    doc = Doc(lines=lines, candidates={s: [] for s in STYLES})
    tokens = _parser().parse(text)
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        start, end = tok.map
        if tok.type in {"fence", "code_block"}:
            doc.code.update(range(start, end))
            doc.fences += tok.type == "fence"
        if tok.level != 0 and not (tok.type == "list_item_open" and tok.level == 1):
            continue
        if tok.type == "front_matter":
            doc.front_matter = (start, end)
        elif tok.type == "heading_open":
            title = tokens[i + 1].content if i + 1 < len(tokens) else ""
            level = int(tok.tag[1:])
            doc.headings[start] = (end, level, title, tok.markup.startswith("#"))
            if title and asks(title) and not is_chrome(title):
                doc.candidates["heading"].append(Candidate("heading", start, end, title, level))
        elif tok.type == "paragraph_open":
            _paragraph(doc, start)
        elif tok.type == "html_block":
            _html_block(doc, start, end, tok.content)
        elif tok.type == "bullet_list_open":
            _task_list(doc, tokens, i, start, end)
        elif tok.type == "list_item_open" and tok.markup in {".", ")"}:
            _numbered(doc, tok, start, end)
    return doc


def _paragraph(doc: Doc, start: int) -> None:
    first = doc.lines[start]
    bold = _BOLD_LINE.match(first)
    if bold is not None:
        inner, rest = bold.group(2), bold.group(3).strip()
        raw = f"{inner} {rest}".strip()
        if rest and not read_prompt(inner).text and asks(raw):
            # A bold label, then the prompt: "**1)** What ...?", "**Q:** What ...?"
            doc.candidates["bold"].append(Candidate("bold", start, start + 1, raw))
            return
        if not read_prompt(rest).text and not is_anchor_entry(rest) and asks(raw):
            doc.candidates["bold"].append(Candidate("bold", start, start + 1, raw))
            return
    if _PLAIN_LABEL.match(first) and asks(first):
        doc.candidates["label"].append(Candidate("label", start, start + 1, first.strip()))


def _html_block(doc: Doc, start: int, end: int, content: str) -> None:
    """Every <summary> that asks, at the top level of its <details> nesting in the block."""
    depth = 0
    for offset, line in enumerate(content.split("\n")[: end - start]):
        n = start + offset
        found = _summary(line)
        if found is not None:
            title, head, tail = found
            nested = depth + len(DETAILS_OPEN.findall(head)) - len(DETAILS_CLOSE.findall(head))
            toggle = title.lower().rstrip(":.") in TOGGLE_LABELS
            if title and not toggle and nested <= 1 and asks(title):
                first = n
                if not DETAILS_OPEN.search(head) and offset and WRAPPER.match(doc.lines[n - 1]):
                    first = n - 1  # "<details>" on the line above
                opens = DETAILS_OPEN.search(doc.lines[first]) is not None
                doc.candidates["details"].append(
                    Candidate("details", first, n + 1, title, details=opens, tail=tail)
                )
        depth += len(DETAILS_OPEN.findall(line)) - len(DETAILS_CLOSE.findall(line))


def _numbered(doc: Doc, tok: Token, start: int, end: int) -> None:
    first = doc.lines[start]
    marker = _ORDERED_ITEM.match(first)
    if marker is None:
        return
    raw = first[marker.end() :]
    if raw.strip() and not is_anchor_entry(raw) and asks(raw, imperatives=False):
        doc.candidates["numbered"].append(
            Candidate("numbered", start, start + 1, raw.strip(), indent=marker.end())
        )


def _task_list(doc: Doc, tokens: list[Token], i: int, start: int, end: int) -> None:
    """Record a list whose every item is a GitHub checkbox (the tasklists plugin's mark)."""
    if tokens[i].attrGet("class") != "contains-task-list":
        return
    items: list[tuple[int, int]] = []
    depth = tokens[i].level
    every = True
    for tok in tokens[i + 1 :]:
        if tok.type == "bullet_list_close" and tok.level == depth:
            break
        if tok.type == "list_item_open" and tok.level == depth + 1 and tok.map is not None:
            items.append((tok.map[0], tok.map[1]))
            every = every and tok.attrGet("class") == "task-list-item"
    if items and every and all(TASK.match(doc.lines[a]) for a, _ in items):
        doc.task_lists[start] = items


def _labelled_filter(found: list[Candidate]) -> list[Candidate]:
    labelled = [c for c in found if read_prompt(c.raw).labelled]
    if 2 * len(labelled) > len(found):
        # Mostly a numbered Q1..Qn sequence: only labelled headings are questions, so a
        # section title such as "Why Should You Learn MLOps?" is not taken for one.
        return labelled
    return found


def primary_style(doc: Doc) -> str | None:
    """The style the document uses most (earlier styles win ties)."""
    best: tuple[int, str] | None = None
    for style in STYLES:
        n = len(style_candidates(doc, style))
        if n and (best is None or n > best[0]):
            best = (n, style)
    return best[1] if best else None


def style_candidates(doc: Doc, style: str) -> list[Candidate]:
    found = doc.candidates[style]
    return _labelled_filter(found) if style == "heading" else found
