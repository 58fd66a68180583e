"""HTML written inside Markdown, turned into the Markdown (or plain text) it means.

GitHub renders `<b>`, `<br>`, `<details>` and friends inside Markdown, so bank authors use
them freely; Discord and Slack show them literally. Both platforms do show Markdown
emphasis, code, lists and links, so each tag becomes its Markdown equivalent, tags
without one (`<span>`, `<sub>`) leave their text, and entities become characters.
Code (fenced blocks, inline code spans) is never touched: `<b>` in a code sample is code.

The tag scanner is a single regex with no nested repetition, so a line of ten thousand
unclosed `<b` stays linear (the importers' promise of never hanging on a file).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from content.importers.textutil import normalize_invisible

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,15})(\s[^<>]*)?/?>")
_ATTR = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_MD_IMAGE = re.compile(r"!\[([^\[\]]{0,300})\]\(([^()\s]{1,2000})(?:\s+\"[^\"]{0,300}\")?\)")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_TABLE_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)

#: Summary texts that only open a toggle ("Show answer"): the toggle goes, the text stays.
TOGGLE_LABELS = frozenset(
    ["answer", "show answer", "answers", "show", "solution", "show solution", "click to expand", "click here", "click to see answer", "click to show", "reveal", "reveal answer", "explanation", "see answer", "view answer", "expand", "details", "more"]
)

_EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*", "s": "~~", "strike": "~~",
             "del": "~~"}
_CODE = {"code", "kbd", "tt", "samp", "var"}
_BLOCK = {"p", "div", "details", "blockquote", "section", "article", "center", "figure",
          "table", "thead", "tbody", "tfoot", "dl", "header", "footer", "nav", "main"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt"}
_PLAIN = {"span", "font", "sub", "small", "big", "mark", "abbr", "u", "ins", "cite", "q",
          "label", "figcaption", "picture", "source", "video", "audio", "caption", "dd",
          "colgroup", "col", "wbr", "a", "img", "br", "hr", "sup", "ul", "ol", "li", "pre",
          "tr", "td", "th", "input", "iframe", "svg", "path", "object", "embed", "noscript",
          "style", "script", "title", "head", "body", "html", "meta", "link", "main"}
KNOWN_TAGS = frozenset(_EMPHASIS) | _CODE | _BLOCK | _HEADINGS | _PLAIN


def _attrs(raw: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTR.finditer(raw or ""):
        found[match.group(1).lower()] = next(
            (g for g in match.groups()[1:] if g is not None), ""
        )
    return found


def image_link(alt: str, src: str) -> str:
    """An image as a link both platforms show: `[alt](src)`, "image" when it has no alt."""
    alt = " ".join(alt.replace("[", "(").replace("]", ")").split()) or "image"
    return f"[{alt}]({src})"


def _split_code(text: str) -> list[tuple[bool, str]]:
    """`text` cut into (is inline code, piece), code spans delimited as CommonMark does."""
    pieces: list[tuple[bool, str]] = []
    i = start = 0
    while i < len(text):
        if text[i] != "`":
            i += 1
            continue
        j = i
        while j < len(text) and text[j] == "`":
            j += 1
        run = text[i:j]
        close = text.find(run, j)
        while close >= 0 and close + len(run) < len(text) and text[close + len(run)] == "`":
            close = text.find(run, close + len(run) + 1)
        if close < 0:
            i = j
            continue
        if start < i:
            pieces.append((False, text[start:i]))
        pieces.append((True, text[i : close + len(run)]))
        i = start = close + len(run)
    if start < len(text):
        pieces.append((False, text[start:]))
    return pieces


@dataclass
class _Converter:
    """Tag-by-tag translation; the state is what open tags still owe (lists, links, pre)."""

    out: list[str] = field(default_factory=list)
    lists: list[list[int]] = field(default_factory=list)  # [number or -1, items seen]
    links: list[str | None] = field(default_factory=list)
    pre: int = 0
    summary_start: int | None = None
    cells: int = 0

    def text(self, piece: str) -> None:
        self.out.append(html.unescape(piece) if "&" in piece else piece)

    def tag(self, closing: bool, name: str, raw_attrs: str | None) -> None:
        name = name.lower()
        if name in _EMPHASIS:
            self.out.append(_EMPHASIS[name])
        elif name in _CODE:
            if not self.pre:
                self.out.append("`")
        elif name == "pre":
            self.pre += -1 if closing else 1
            self.out.append("\n```\n" if not closing or self.pre == 0 else "")
        elif name == "br":
            self.out.append("\n")
        elif name == "hr":
            self.out.append("\n\n")
        elif name in {"ul", "ol"}:
            if closing:
                if self.lists:
                    self.lists.pop()
            else:
                self.lists.append([0 if name == "ol" else -1, 0])
            self.out.append("\n")
        elif name == "li" and not closing:
            while self.out and not self.out[-1].strip():
                self.out.pop()  # the source's line breaks between items: one item a line
            depth = max(len(self.lists) - 1, 0)
            counter = self.lists[-1] if self.lists else [-1, 0]
            counter[1] += 1
            lead = "\n\n" if counter[1] == 1 and depth == 0 else "\n"
            if counter[0] >= 0:
                counter[0] += 1
                self.out.append(lead + "   " * depth + f"{counter[0]}. ")
            else:
                self.out.append(lead + "  " * depth + "- ")
        elif name == "a":
            self._link(closing, raw_attrs)
        elif name == "img" and not closing:
            attrs = _attrs(raw_attrs)
            src = attrs.get("src", "")
            self.out.append(image_link(attrs.get("alt", ""), src) if src else attrs.get("alt", ""))
        elif name in _HEADINGS:
            self._heading(closing, name)
        elif name in _BLOCK:
            self.out.append("\n\n")
        elif name == "tr" and not closing:
            self.cells = 0
            self.out.append("\n")
        elif name in {"td", "th"} and not closing:
            self.out.append(" | " if self.cells else "")
            self.cells += 1
        elif name == "sup" and not closing:
            self.out.append("^")

    def _link(self, closing: bool, raw_attrs: str | None) -> None:
        if not closing:
            href = _attrs(raw_attrs).get("href") or None
            self.links.append(href)
            self.out.append("[" if href else "")
            return
        href = self.links.pop() if self.links else None
        if href:
            self.out.append(f"]({href})")

    def _heading(self, closing: bool, name: str) -> None:
        if not closing:
            self.summary_start = len(self.out)
            self.out.append("\n\n**")
            return
        start = self.summary_start
        self.summary_start = None
        if start is None:
            return
        inner = "".join(self.out[start + 1 :]).strip().strip("*").strip()
        if not inner or (name == "summary" and inner.lower().rstrip(":.") in TOGGLE_LABELS):
            del self.out[start:]
            self.out.append("\n\n")
            return
        self.out[start + 1 :] = [inner]
        self.out.append("**\n\n")


def html_to_markdown(text: str) -> str:
    """Markdown text (no fenced code) with its HTML tags and entities made Markdown.

    Unknown `<words>` (a generic `<T>`, an autolink `<https://...>`) are text, not tags,
    and stay as written; comments are dropped; Markdown images become links.
    """
    text = _drop_comments(text)
    text = "\n".join(
        _TABLE_BR.sub(" ", line) if line.lstrip().startswith("|") else line
        for line in text.split("\n")
    )
    conv = _Converter()
    for is_code, piece in _split_code(text):
        if is_code:
            conv.out.append(piece)
            continue
        piece = _MD_IMAGE.sub(lambda m: image_link(m.group(1), m.group(2)), piece)
        at = 0
        for match in _TAG.finditer(piece):
            if match.group(2).lower() not in KNOWN_TAGS:
                continue
            conv.text(piece[at : match.start()])
            conv.tag(bool(match.group(1)), match.group(2), match.group(3))
            at = match.end()
        conv.text(piece[at:])
    # Entities may have made new invisible characters (&nbsp; &zwj;): fold them too.
    return normalize_invisible("".join(conv.out))


def _drop_comments(text: str) -> str:
    out: list[str] = []
    at = 0
    while True:
        start = text.find("<!--", at)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[at:start])
        out.append("\n" * text.count("\n", start, end))
        at = end + 3
    out.append(text[at:])
    return "".join(out)


def has_html(text: str) -> bool:
    """Whether `text` holds a tag we would convert or an entity."""
    return any(m.group(2).lower() in KNOWN_TAGS for m in _TAG.finditer(text)) or bool(
        _ENTITY.search(text)
    )


def inline_text(text: str) -> str:
    """One line of HTML-in-Markdown as plain inline Markdown (for prompts and options)."""
    return " ".join(html_to_markdown(text).split())
