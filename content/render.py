"""Platform-neutral rendering: Markdown read by a parser and written in each platform's
dialect (Discord Markdown, Slack mrkdwn), split to platform limits, safe mentions.

Adapters never cut text themselves: a question's answer can be longer than one message,
and a cut inside a code fence turns the rest of the reveal into code. Everything here is
pure text → text so that it can be property-tested. The splitter and the truncator read
fences line by line; they run on what the writers below produce, which always puts a
fence at the start of its own line.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

# Discord limits (characters).
DISCORD_CONTENT = 2000
DISCORD_EMBED_DESCRIPTION = 4096
DISCORD_EMBED_TOTAL = 6000
DISCORD_EMBED_TITLE = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FIELDS = 25
# Slack Block Kit limits.
SLACK_SECTION_TEXT = 3000
SLACK_BLOCKS = 50
SLACK_HEADER_TEXT = 150

ELLIPSIS = "…"
ZWSP = "\u200b"

_OPEN_RE = re.compile(r"^ {0,3}(`{3,})([^`]*)$")
_CLOSE_RE = re.compile(r"^ {0,3}(`{3,})\s*$")


def _fence_roles(lines: list[str]) -> tuple[list[str], str | None]:
    """Each line's role: "open" or "close" (a fence line), "code" (inside a fence) or
    "text"; and the fence still open after the last line, if any. The one place that
    knows how fences nest, for every pass that must leave code alone."""
    roles: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            m = _OPEN_RE.match(line)
            if m:
                fence = m.group(1)
            roles.append("open" if m else "text")
        else:
            m = _CLOSE_RE.match(line)
            if m and len(m.group(1)) >= len(fence):
                fence = None
                roles.append("close")
            else:
                roles.append("code")
    return roles, fence


@dataclass
class _Block:
    """A paragraph (kind "text") or a fenced code block (kind "code")."""

    kind: str
    lines: list[str] = field(default_factory=list)
    fence: str = "```"
    info: str = ""


def _blocks(text: str) -> list[_Block]:
    """Paragraphs and fenced blocks; an unclosed fence runs to the end (and gets closed)."""
    blocks: list[_Block] = []
    current: _Block | None = None
    lines = text.replace("\r\n", "\n").split("\n")
    for line, role in zip(lines, _fence_roles(lines)[0], strict=True):
        if role == "open":
            m = _OPEN_RE.match(line)
            assert m is not None
            current = _Block("code", fence=m.group(1), info=m.group(2).strip())
            blocks.append(current)
        elif role == "code":
            assert current is not None
            current.lines.append(line)
        elif role == "close" or not line.strip():
            current = None
        else:
            if current is None:
                current = _Block("text")
                blocks.append(current)
            current.lines.append(line)
    return blocks


def _opens_fence(piece: str) -> bool:
    return bool(_OPEN_RE.match(piece.split("\n", 1)[0]))


def _hard_split(text: str, limit: int) -> list[str]:
    """Last resort: cut at `limit`, moving the cut so no piece starts like a fence."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = limit
        while cut > 1 and _opens_fence(text[cut:]):
            cut -= 1
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def _split_on(text: str, limit: int, sep: str, finer: list[str]) -> list[str]:
    """Pack the parts of `text` between `sep` greedily; parts still too long go finer.

    A part that would start a line looking like a fence is glued to the one before it:
    cutting there would open a code block in the next message.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    for part in text.split(sep):
        if parts and _opens_fence(part):
            parts[-1] = f"{parts[-1]}{sep}{part}"
        else:
            parts.append(part)
    out: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        if len(part) <= limit:
            current = part
        else:
            subs = _split_on(part, limit, finer[0], finer[1:]) if finer else _hard_split(part, limit)
            out.extend(subs[:-1])
            current = subs[-1] if subs else ""
    if current:
        out.append(current)
    return [p for p in out if p.strip()]


def _render_code(block: _Block, body: list[str]) -> str:
    inner = "\n".join(body)
    return f"{block.fence}{block.info}\n{inner}\n{block.fence}" if body else (
        f"{block.fence}{block.info}\n{block.fence}"
    )


def _code_items(block: _Block, limit: int) -> list[str]:
    """A fenced block as one or more fenced blocks, each re-opened with its language."""
    whole = _render_code(block, block.lines)
    if len(whole) <= limit:
        return [whole]
    overhead = len(block.fence) * 2 + len(block.info) + 2
    room = limit - overhead
    if room < 1:
        raise ValueError(f"limit {limit} is too small for a {block.fence}{block.info} block")
    lines: list[str] = []
    for line in block.lines:
        lines.extend(_hard_split(line, room) if len(line) > room else [line])
    items: list[str] = []
    body: list[str] = []
    size = 0
    for line in lines:
        extra = len(line) + (1 if body else 0)
        if body and size + extra > room:
            items.append(_render_code(block, body))
            body, size = [], 0
            extra = len(line)
        body.append(line)
        size += extra
    if body:
        items.append(_render_code(block, body))
    return items


def split_markdown(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, cut between blocks, never inside a fence.

    Paragraphs are kept whole when they fit, else cut at line, then word boundaries;
    an oversized code block becomes several fenced blocks with the same language tag.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    items: list[str] = []
    for block in _blocks(text):
        if block.kind == "code":
            items.extend(_code_items(block, limit))
        else:
            items.extend(_split_on("\n".join(block.lines), limit, "\n", [" "]))
    chunks: list[str] = []
    current = ""
    for item in items:
        if current and len(current) + 2 + len(item) <= limit:
            current = f"{current}\n\n{item}"
        else:
            if current:
                chunks.append(current)
            current = item
    if current:
        chunks.append(current)
    return chunks


def _open_fence_at_end(text: str) -> str | None:
    """The fence string left open at the end of `text`, if any."""
    return _fence_roles(text.split("\n"))[1]


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis, with any code fence closed."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    budget = limit - len(ELLIPSIS)
    while budget >= 0:
        cut = text[:budget]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if not text[budget].isspace() and space > budget // 2:
            cut = cut[:space]
        cut = cut.rstrip()
        fence = _open_fence_at_end(cut)
        result = f"{cut}{ELLIPSIS}" if fence is None else f"{cut}{ELLIPSIS}\n{fence}"
        if len(result) <= limit:
            return result
        budget -= len(result) - limit
    return ELLIPSIS[:limit]


# --------------------------------------------------------------------------- tables

# Neither Discord nor Slack renders Markdown tables: raw pipes are hard to read, worse on a
# phone. A table narrow enough becomes an aligned code block; a wider one, whose code block
# would wrap mid-row on a phone, becomes a nested list (row label, then one line per column).
TABLE_CODE_WIDTH = 56
_TABLE_DELIM_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    row = line.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT_RE.split(row)]


def _plain_cell(cell: str) -> str:
    """A cell's characters without its Markdown, for an aligned code block: what the
    parser reads as text or code, so `__init__` stays and `**bold**` loses its stars."""
    tokens = _markdown().parseInline(cell)[0].children or [] if cell.strip() else []
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok, ident = tokens[i], _identifier_run(tokens, i)
        if ident is not None:
            out.append(ident)
            i += 2
        elif tok.type in ("text", "code_inline", "image") or (
                tok.type == "html_inline" and not _is_html_tag(tok.content)):
            out.append(tok.content)
        i += 1
    return "".join(out)


def _is_table_start(lines: list[str], roles: list[str], i: int) -> bool:
    return (i + 1 < len(lines) and roles[i] == roles[i + 1] == "text" and "|" in lines[i]
            and bool(_TABLE_DELIM_RE.match(lines[i + 1])))


def _table_lines(rows: list[list[str]], width: int) -> list[str]:
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    plain = [[_plain_cell(cell) for cell in row] for row in rows]
    widths = [max(len(row[c]) for row in plain) for c in range(columns)]
    header, body = plain[0], rows[1:]
    if sum(widths) + 3 * (columns - 1) <= width or not body:
        def line(cells: list[str]) -> str:
            return " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

        rule = "-+-".join("-" * w for w in widths)
        return ["```", line(header), rule, *(line(row) for row in plain[1:]), "```"]
    out: list[str] = []
    for row, plain_row in zip(body, plain[1:], strict=True):
        out.append(f"- **{plain_row[0]}**" if plain_row[0] else "-")
        for name, cell in zip(header[1:], row[1:], strict=True):
            if cell:
                out.append(f"  - {name}: {cell}" if name else f"  - {cell}")
    return out


def tables_for_chat(md: str, width: int = TABLE_CODE_WIDTH) -> str:
    """Markdown pipe tables (outside code and HTML, as the parser reads them) rewritten
    for chat platforms, which have no tables. Every cell is kept, except in the list form the top-left one (it
    names the row labels, which the list shows in bold). Everything else is unchanged."""
    md = md.replace("\r\n", "\n")
    lines = md.split("\n")
    code = _code_line_numbers(md) if "|" in md else set()
    roles = ["code" if i in code else "text" for i in range(len(lines))]
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_table_start(lines, roles, i):
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and roles[i] == "text" and lines[i].strip() and "|" in lines[i]:
                rows.append(_cells(lines[i]))
                i += 1
            if out and out[-1].strip():
                out.append("")
            out.extend(_table_lines(rows, width))
            if i < len(lines) and lines[i].strip():
                out.append("")
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


# --------------------------------------------------------------------------- mentions

_EVERYONE_RE = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_DISCORD_MENTION_RE = re.compile(r"<@([!&]?\d+)>")
_SLACK_MENTION_RE = re.compile(r"<((?:!(?:channel|here|everyone|subteam\^)|@[UWB])[^<>]*)>", re.I)


def neutralize_mentions(text: str) -> str:
    """User text can never ping: Discord's @everyone/@here, user and role mentions get a
    zero-width space; so do Slack's <!channel>, <!here>, <!everyone>, <!subteam^…> and
    <@U…> (after the "<", which Slack then no longer parses). No platform's escaping is
    applied here: the result goes to every platform, and `&lt;` would show as typed on
    Discord; Slack's renderer escapes `<`, `>` and `&` itself."""
    text = _SLACK_MENTION_RE.sub(lambda m: f"<{ZWSP}{m.group(1)}>", text)
    text = _DISCORD_MENTION_RE.sub(lambda m: f"<@{ZWSP}{m.group(1)}>", text)
    return _EVERYONE_RE.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


# --------------------------------------------------------------------------- reading Markdown

# Bodies are CommonMark, read by markdown-it-py: the parser, not a guess per line, decides
# what is a fence, a heading, a list, emphasis or HTML. Each platform then gets the same
# document written in its own dialect: Discord's Markdown (headings up to ###, no tables,
# no HTML) or Slack's mrkdwn (no headings, no lists, single-character bold). One addition
# to CommonMark: `||text||`, Discord's spoiler, which hides a hint on Discord.

Dialect = Literal["discord", "slack"]

# the tags that people who write HTML into Markdown use; any other `<word>` is text,
# such as `List<String>` or `<run_id>`, and is shown as written
_HTML_TAG_RE = re.compile(  # CommonMark's open and closing tags (attributes and all)
    r"^<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z_:][\w.:-]*"
    r"(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*(/?)>$")
_INLINE_TAGS = {
    "b": "strong", "strong": "strong", "i": "em", "em": "em", "s": "s", "del": "s",
    "strike": "s", "code": "code", "kbd": "code", "tt": "code", "samp": "code",
}
_DROPPED_TAGS = frozenset({
    "sub", "sup", "span", "small", "big", "mark", "u", "ins", "font", "center", "div", "p",
    "details", "summary", "abbr", "cite", "q", "var", "wbr", "section", "article", "picture",
    "source", "figure", "figcaption", "nobr", "html", "body", "head", "ul", "ol", "li", "dl",
    "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "hr", "pre", "h1",
    "h2", "h3", "h4", "h5", "h6", "blockquote", "caption", "colgroup", "col", "label",
})
_WEB_LINK_RE = re.compile(r"^(?:https?://|mailto:)[^\s<>]+$", re.IGNORECASE)


def _is_html_tag(raw: str) -> bool:
    """A tag HTML writers use (`<b>`, `</details>`, `<br/>`), not a `<word>` of prose."""
    m = _HTML_TAG_RE.match(raw.strip())
    name = m.group(2).lower() if m else ""
    return name in _INLINE_TAGS or name in _DROPPED_TAGS or name in ("br", "img", "a")


# a word of identifier characters with an underscore where emphasis could start or end
# (`__getitem__`, `_private`, `name_`): intraword underscores (`snake_case_name`) are
# never emphasis on either platform
_EDGE_IDENT_RE = re.compile(r"(?<![\w`])(?=\w*_)(?:_+\w*|\w+_+)(?![\w`])")
_STAR_IDENT_RE = re.compile(r"(?<![\w*`])\*{1,2}[A-Za-z_]\w*(?![\w*`])")  # *args, **kwargs
_DISCORD_LINE_START_RE = re.compile(r"^(#{1,3} |-# |> |- |\d+[.)] )")
_MAX_HTML_DEPTH = 3


def _spoiler(state: StateInline, silent: bool) -> bool:
    """`||text||` as a span, flanked like emphasis so that `a || b` in prose stays text."""
    src, start, end_max = state.src, state.pos, state.posMax
    if not src.startswith("||", start) or start + 3 > end_max or src[start + 2].isspace():
        return False
    end = src.find("||", start + 3)
    while end != -1 and end + 2 <= end_max and src[end - 1].isspace():
        end = src.find("||", end + 1)
    if end == -1 or end + 2 > end_max:
        return False
    if not silent:
        state.push("spoiler_open", "span", 1).markup = "||"
        state.pos, state.posMax = start + 2, end
        state.md.inline.tokenize(state)
        state.push("spoiler_close", "span", -1).markup = "||"
        state.posMax = end_max
    state.pos = end + 2
    return True


_SCHEME_RE = re.compile(r"(?:^|[^A-Za-z0-9.+-])(https?)$", re.IGNORECASE)
_BARE_URL_RE = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


def _bare_url(state: StateInline, silent: bool) -> bool:
    """`https://…` in text is a link, as GitHub reads it (GFM's autolinks): its `_` and
    `*` are part of the address, never emphasis. Trailing punctuation and an unmatched
    `)` stay text, as on GitHub."""
    pos = state.pos
    if not state.src.startswith("://", pos) or state.linkLevel > 0:
        return False
    scheme = _SCHEME_RE.search(state.pending)
    if scheme is None:
        return False
    start = pos - len(scheme.group(1))
    m = _BARE_URL_RE.match(state.src, start, state.posMax)
    if m is None:
        return False
    url = m.group(0).rstrip(".,:;!?*_~'\"")
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(".,:;!?*_~'\"")
    if len(url) <= len(scheme.group(1)) + 3:
        return False
    if not silent:
        state.pending = state.pending[: -len(scheme.group(1))]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": state.md.normalizeLink(url)}
        token.markup = "linkify"
        state.push("text", "", 0).content = url
        state.push("link_close", "a", -1).markup = "linkify"
    state.pos = start + len(url)
    return True


@functools.cache
def _markdown() -> MarkdownIt:
    """The one parser, built on first use (not at import: the CLI's help never needs it)."""
    md = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
    md.inline.ruler.before("emphasis", "spoiler", _spoiler)
    md.inline.ruler.before("linkify", "bare_url", _bare_url)
    md.inline.add_terminator_char("|")
    return md


def _code_line_numbers(md: str) -> set[int]:
    """The lines of `md` that the parser reads as code or raw HTML: never tables."""
    lines: set[int] = set()
    for token in _markdown().parse(md):
        if token.type in ("fence", "code_block", "html_block") and token.map:
            lines.update(range(*token.map))
    return lines


def starts_with_block(md: str) -> bool:
    """Whether `md` opens with a list, code, a quote, a heading or a table: text that
    cannot follow a label on the label's line ("**Tip:** - a" shows a literal dash)."""
    first = next((t for t in _markdown().parse(md.strip()) if t.level == 0), None)
    if first is None:
        return False
    if first.type == "paragraph_open":
        lines = md.strip().split("\n", 2)
        return len(lines) > 1 and "|" in lines[0] and bool(_TABLE_DELIM_RE.match(lines[1]))
    return first.type != "hr"


# --------------------------------------------------------------------------- HTML


class _HtmlToMarkdown(HTMLParser):
    """An HTML block as Markdown: formatting tags become their Markdown, structure
    (paragraphs, lists, tables, <details>) becomes lines, every other tag goes, text
    stays. Text is escaped so that HTML's words do not become Markdown syntax."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.links: list[tuple[int, str]] = []
        self.lists: list[list[int]] = []  # per open list: [next number] or [] for <ul>
        self.row: list[str] | None = None
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.bold = 0  # <summary><b>…</b></summary> is bold once, not `****`
        self.code = 0

    def _put(self, text: str) -> None:
        (self.cell if self.cell is not None else self.out).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("b", "strong", "summary"):
            self.bold += 1
            if self.bold == 1:
                self._put("**")
        elif tag in ("i", "em"):
            self._put("*")
        elif tag in ("s", "del", "strike"):
            self._put("~~")
        elif tag in ("code", "kbd", "tt", "samp") and not self.pre:
            self.code += 1
            self._put("`")
        elif tag == "pre":
            self.pre += 1
            self._put("\n\n```\n")
        elif tag == "br":
            self._put("\n" if self.pre else "  \n")
        elif tag in ("p", "div", "details", "blockquote", "section"):
            self._put("\n\n")
        elif tag in ("ul", "ol"):
            self.lists.append([1] if tag == "ol" else [])
            self._put("\n")
        elif tag == "li":
            numbering = self.lists[-1] if self.lists else []
            marker = f"{numbering[0]}." if numbering else "-"
            if numbering:
                numbering[0] += 1
            self._put("\n" + "  " * max(0, len(self.lists) - 1) + marker + " ")
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._put("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "img":
            alt = a.get("alt", "").strip() or "image"
            src = a.get("src", "").strip()
            self._put(f"[{_md_escape(alt)}]({src})" if src else _md_escape(alt))
        elif tag == "a":
            self.links.append((len(self.cell if self.cell is not None else self.out),
                               a.get("href", "").strip()))
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "hr":
            self._put("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong", "summary") and self.bold:
            self.bold -= 1
            if not self.bold:
                self._put("**")
            if tag == "summary":
                self._put("\n\n")
        elif tag in ("i", "em"):
            self._put("*")
        elif tag in ("s", "del", "strike"):
            self._put("~~")
        elif tag in ("code", "kbd", "tt", "samp") and not self.pre:
            self.code = max(0, self.code - 1)
            self._put("`")
        elif tag == "pre" and self.pre:
            self.pre -= 1
            if self.out and self.out[-1].endswith("\n"):
                self.out[-1] = self.out[-1].rstrip("\n")
            self._put("\n```\n\n")
        elif tag in ("p", "div", "details", "blockquote", "section") or tag in (
            "h1", "h2", "h3", "h4", "h5", "h6"):
            self._put("\n\n")
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._put("\n\n" if not self.lists else "")
        elif tag == "a" and self.links:
            start, href = self.links.pop()
            target = self.cell if self.cell is not None else self.out
            label = "".join(target[start:]).strip()
            del target[start:]
            target.append(f"[{label or href}]({href})" if href else label)
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is not None:
                self.row.append(" ".join("".join(self.cell).split()).replace("|", "\\|"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.rows:
            width = max(len(r) for r in self.rows)
            lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in self.rows]
            lines.insert(1, "|" + "---|" * width)
            self.out.append("\n\n" + "\n".join(lines) + "\n\n")
            self.rows = []

    def handle_data(self, data: str) -> None:
        if self.pre:
            self._put(data)
        elif self.code:
            self._put(re.sub(r"\s+", " ", data))
        else:
            self._put(_md_escape(re.sub(r"\s+", " ", data)))

    def markdown(self) -> str:
        self.close()
        text = "".join(self.out)
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n")))


def _md_escape(text: str) -> str:
    """Text from HTML, so that its `*`, `_`, `#` ... stay characters in Markdown."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


def html_to_markdown(fragment: str) -> str:
    """An HTML fragment as Markdown (what `<details>`, `<b>`, `<br>` ... mean), for bank
    text that still holds HTML: neither platform shows HTML, both would print the tags."""
    parser = _HtmlToMarkdown()
    parser.feed(fragment)
    return parser.markdown().strip()


# --------------------------------------------------------------------------- writing a dialect


def _fence_for(code: str, info: str = "") -> list[str]:
    """A fenced block that its own content cannot close. Discord and Slack only know
    backtick fences, so `~~~` blocks and indented code become backtick fences too."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    body = code[:-1] if code.endswith("\n") else code
    return [f"{fence}{info}", *body.split("\n"), fence] if body else [f"{fence}{info}", fence]


class _Writer:
    """One document written in one dialect. Blocks keep the source's blank lines (from
    the parser's line map), so a re-rendered answer reads like the one in the bank."""

    def __init__(self, dialect: Dialect, depth: int = 0) -> None:
        self.dialect = dialect
        self.depth = depth

    # ---------------------------------------------------------------- blocks

    def document(self, md: str) -> list[str]:
        source = tables_for_chat(md)
        tree = SyntaxTreeNode(_markdown().parse(source))
        return self.blocks(tree.children, source.split("\n"))

    def blocks(self, nodes: Sequence[SyntaxTreeNode], src: list[str]) -> list[str]:
        out: list[str] = []
        previous_end: int | None = None
        for node in nodes:
            lines = self.block(node, src)
            if not lines:
                continue
            start = node.map[0] if node.map else None
            if out and (start is None or previous_end is None or start > previous_end
                        or (0 < start <= len(src) and not src[start - 1].strip())):
                out.append("")
            out.extend(lines)
            previous_end = node.map[1] if node.map else None
        return out

    def block(self, node: SyntaxTreeNode, src: list[str]) -> list[str]:
        kind = node.type
        if kind == "paragraph":
            return self.paragraph(node)
        if kind == "heading":
            return self.heading(node)
        if kind in ("fence", "code_block"):
            # the language word only, and only characters a backtick fence can carry
            info = re.sub(r"[^\w+#.-]", "", node.info.split()[0]) if node.info.strip() else ""
            if self.dialect == "discord":
                return _fence_for(node.content, info)
            body = node.content.removesuffix("\n")  # Slack knows no longer fences
            return ["```", *(_slack_escape(ln) for ln in body.split("\n")), "```"]
        if kind in ("bullet_list", "ordered_list"):
            return self.items(node, src)
        if kind == "blockquote":
            inner = self.blocks(node.children, src)
            if any(line.startswith("```") for line in inner):
                return inner  # a quoted code block: the fence must start its line
            return [f"> {line}" if line else "" for line in inner]
        if kind == "html_block":
            return self.html(node.content)
        if kind == "hr":
            return ["⎯" * 12]
        return []

    def paragraph(self, node: SyntaxTreeNode) -> list[str]:
        text = self.inline(node.children[0] if node.children else None)
        lines = text.split("\n")
        if self.dialect == "discord":
            lines = [_discord_line_start(line) for line in lines]
        return [line.rstrip() for line in lines] if text.strip() else []

    def heading(self, node: SyntaxTreeNode) -> list[str]:
        level = int(node.tag[1])
        plain = self.dialect == "slack" or level > 3
        text = " ".join(self.inline(node.children[0] if node.children else None,
                                    bold=plain).split())
        if not text:
            return []
        if self.dialect == "discord":
            return [f"{'#' * level} {text}" if not plain else f"**{text}**"]
        return [f"*{text}*"]

    def items(self, node: SyntaxTreeNode, src: list[str]) -> list[str]:
        out: list[str] = []
        ordered = node.type == "ordered_list"
        for index, item in enumerate(node.children):
            if ordered:
                number = item.info or str(int(node.attrs.get("start", 1) or 1) + index)
                marker = f"{number}. "
            else:
                marker = "- " if self.dialect == "discord" else "• "
            body = self.blocks(item.children, src)
            if index and item.map and 0 < item.map[0] <= len(src) and not src[item.map[0] - 1].strip():
                out.append("")  # a loose list keeps its blank lines
            if not body:
                out.append(marker.rstrip())
                continue
            pad = " " * len(marker)
            roles, _ = _fence_roles(body)  # code keeps its columns, fences start lines
            for i, (line, role) in enumerate(zip(body, roles, strict=True)):
                if i == 0 and role == "text":
                    out.append(marker + line)
                elif i == 0:
                    out.extend([marker.rstrip(), line])
                elif role != "text" or not line:
                    out.append(line)
                else:
                    out.append(pad + line)
        return out

    def html(self, fragment: str) -> list[str]:
        """An HTML block: converted when it holds HTML a writer meant (`<details>`,
        `<p>`...); a block the parser calls HTML for a `<!word>` or `<Word>` of its own
        (Slack's `<!channel>`, a generic type) is text."""
        fragment = re.sub(r"<!--.*?(?:-->|$)", "", fragment, flags=re.S)  # notes to editors
        if not fragment.strip():
            return []
        tags = re.findall(r"<[^<>]*>", fragment)
        if self.depth >= _MAX_HTML_DEPTH or not any(_is_html_tag(t) for t in tags):
            return [self.text(line) for line in fragment.strip().split("\n")]
        md = html_to_markdown(fragment)
        return _Writer(self.dialect, self.depth + 1).document(md) if md else []

    # ---------------------------------------------------------------- inline

    def inline(self, node: SyntaxTreeNode | None, *, bold: bool = False) -> str:
        """An inline run in the dialect; `bold` when the whole run is set bold by its
        caller (a heading as a bold line), so bold inside it is not nested."""
        if node is None or node.token is None or not node.token.children:
            return ""
        return self.run(node.token.children, bold=bold)

    def run(self, tokens: list[Token], *, bold: bool = False) -> str:
        out: list[str] = []
        discord = self.dialect == "discord"
        links: list[tuple[int, str, int]] = []  # where its label starts: in out, in tokens
        html_open: list[str] = []
        code_from: int | None = None
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if code_from is not None and kind not in ("html_inline", "softbreak", "hardbreak"):
                out.append(tok.content)  # inside <code>: the characters, as typed
            elif kind == "text":
                out.append(self.text(tok.content))
            elif kind == "code_inline":
                out.append(self.code(tok.content))
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
            elif kind in ("strong_open", "strong_close"):
                ident = _identifier_run(tokens, i)
                if ident is not None:
                    out.append(self.identifier(ident))
                    i += 2
                elif not bold:
                    out.append("**" if discord else "*")
            elif kind in ("em_open", "em_close"):
                out.append("*" if discord else "_")
            elif kind in ("s_open", "s_close"):
                out.append("~~" if discord else "~")
            elif kind in ("spoiler_open", "spoiler_close"):
                out.append("||" if discord else "")
            elif kind == "link_open" and tok.markup in ("autolink", "linkify"):
                raw = tokens[i + 1].content if i + 1 < len(tokens) else ""
                out.append(self.address(raw, str(tok.attrGet("href") or "")))
                i += 2  # its text and its close
            elif kind == "link_open":
                links.append((len(out), str(tok.attrGet("href") or ""), i + 1))
            elif kind == "link_close" and links:
                start, href, first = links.pop()
                label = "".join(out[start:])
                del out[start:]
                out.append(self.link(label, href, _plain_text(tokens[first:i])))
            elif kind == "image":
                alt = self.run(list(tok.children or [])) or self.text("image")
                out.append(self.link(alt, str(tok.attrGet("src") or "")))
            elif kind == "html_inline":
                code_from = self.html_inline(tok.content, out, links, html_open, code_from,
                                             bold=bold)
            i += 1
        if code_from is not None:  # <code> never closed: what followed is code
            out[code_from:] = [self.code("".join(out[code_from:]))]
        for tag in reversed(html_open):  # close what the HTML left open
            out.append(self.marker(tag, bold))
        return "".join(out)

    def html_inline(self, raw: str, out: list[str], links: list[tuple[int, str, int]],
                    html_open: list[str], code_from: int | None, *, bold: bool) -> int | None:
        m = _HTML_TAG_RE.match(raw.strip())
        if raw.startswith("<!--"):
            return code_from
        if m is None:
            out.append(raw if code_from is not None else self.text(raw))
            return code_from
        closing, name = m.group(1) == "/", m.group(2).lower()
        role = _INLINE_TAGS.get(name)
        if role == "code":
            if not closing and code_from is None:
                return len(out)
            if closing and code_from is not None:
                out[code_from:] = [self.code("".join(out[code_from:]))]
            return None
        if code_from is not None:
            out.append(raw)
        elif role is not None:
            if not closing:
                html_open.append(role)
                out.append(self.marker(role, bold))
            elif role in html_open:
                html_open.reverse()
                html_open.remove(role)
                html_open.reverse()
                out.append(self.marker(role, bold))
        elif name == "br":
            out.append("\n")
        elif name == "img":
            attrs = _attributes(m.group(3))
            alt = self.text(attrs.get("alt", "").strip() or "image")
            out.append(self.link(alt, attrs.get("src", "").strip()))
        elif name == "a":
            if closing and links:
                start, href, _ = links.pop()
                label = "".join(out[start:])
                del out[start:]
                out.append(self.link(label, href) if href else label)
            elif not closing:
                links.append((len(out), _attributes(m.group(3)).get("href", "").strip(), 0))
        elif name in _DROPPED_TAGS:
            if name in ("p", "div", "li") and closing:
                out.append("\n")
        else:
            out.append(self.text(raw))  # `List<String>`: not HTML to a reader either
        return code_from

    def marker(self, role: str, bold: bool) -> str:
        discord = self.dialect == "discord"
        if role == "strong":
            return "" if bold else ("**" if discord else "*")
        if role == "em":
            return "*" if discord else "_"
        return "~~" if discord else "~"

    def text(self, text: str) -> str:
        return _slack_text(text) if self.dialect == "slack" else _discord_text(text)

    def code(self, code: str) -> str:
        if self.dialect == "slack":
            return f"`{_slack_escape(code)}`"
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        ticks = "`" * (longest + 1)
        pad = " " if code.startswith("`") or code.endswith("`") else ""
        return f"{ticks}{pad}{code}{pad}{ticks}"

    def identifier(self, name: str) -> str:
        return self.code(name) if self.dialect == "slack" else name.replace("_", "\\_")

    def address(self, raw: str, href: str) -> str:
        """A bare or `<…>` address: as written on Discord (which links it, and where an
        escape would break it), a Slack link on Slack."""
        if self.dialect == "discord":
            return raw if _WEB_LINK_RE.match(raw) else _discord_text(raw)
        if _WEB_LINK_RE.match(href):
            return f"<{_slack_escape(href.replace('|', '%7C'))}>"
        return _slack_text(raw)

    def link(self, label: str, href: str, plain: str | None = None) -> str:
        """A link; `plain` is its label's characters without Markdown, for Slack,
        whose link labels show no formatting (from `label` when not given)."""
        label = label.strip()
        if self.dialect == "discord":
            if _WEB_LINK_RE.match(href):
                if not label or label == href:
                    return href
                return f"[{label.replace('[', '(').replace(']', ')')}]({href})"
            if href.startswith("#") or not href:
                return label
            return f"{label} ({_discord_text(href)})"
        if _WEB_LINK_RE.match(href):
            # Slack ends the URL at the first `|`, and a label cannot hold formatting
            target = _slack_escape(href.replace("|", "%7C"))
            if plain is None:
                plain = html_lib.unescape(re.sub(r"(?<!\w)[*_~]|[*_~](?!\w)|`", "", label))
            plain = _slack_escape(" ".join(plain.split())).replace("|", "/")
            return f"<{target}|{plain}>" if plain else f"<{target}>"
        if href.startswith("#") or not href:
            return label
        # `<!here|x>`, `<!subteam^S1|x>`, `<@U1|x>` would ping: only web links become
        # Slack links; anything else stays visible text
        return f"{label} ({_slack_escape(href)})"


def _plain_text(tokens: Sequence[Token]) -> str:
    """The characters of an inline run without its Markdown (a link's label)."""
    out: list[str] = []
    for tok in tokens:
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type == "image":
            out.append(_plain_text(tok.children or []))
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def _identifier_run(tokens: list[Token], i: int) -> str | None:
    """`__getitem__`: CommonMark reads a bare dunder as bold "getitem"; the writer
    means the identifier. A `__` pair around one word of identifier characters."""
    if tokens[i].type != "strong_open" or tokens[i].markup != "__" or i + 2 >= len(tokens):
        return None
    inner, close = tokens[i + 1], tokens[i + 2]
    if inner.type == "text" and close.type == "strong_close" and re.fullmatch(r"\w+", inner.content):
        return f"__{inner.content}__"
    return None


def _attributes(raw: str) -> dict[str, str]:
    found = re.findall(r"""([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", raw)
    return {name.lower(): html_lib.unescape(a or b or c) for name, a, b, c in found}


def _discord_text(text: str) -> str:
    """Characters Discord would read as formatting, escaped: the parser has already
    said they are text. An underscore inside a word stays as is (Discord does not read
    `snake_case_name` as emphasis); one at a word's edge gets a backslash."""
    text = re.sub(r"([\\*`])", r"\\\1", text)
    text = re.sub(r"~~", r"\~\~", text)
    text = re.sub(r"\|\|", r"\|\|", text)
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\_", text)


def _discord_line_start(line: str) -> str:
    """A paragraph line that Discord would take for a heading, quote or list item (the
    parser said it is text: the source escaped it, or it continues a paragraph)."""
    m = _DISCORD_LINE_START_RE.match(line)
    if m is None:
        return line
    if m.group(0)[0].isdigit():
        cut = len(m.group(0)) - 2
        return f"{line[:cut]}\\{line[cut:]}"
    return "\\" + line


def _slack_escape(text: str) -> str:
    """Slack's three entities, `&`, `<` and `>`: the only escapes mrkdwn has."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_text(text: str) -> str:
    """Text for mrkdwn: escaped, and identifiers Slack could read as emphasis
    (`__init__`, `**kwargs`) set as code, the one form mrkdwn leaves alone."""
    escaped = _slack_escape(text)
    escaped = _STAR_IDENT_RE.sub(lambda m: f"`{m.group(0)}`", escaped)
    return _EDGE_IDENT_RE.sub(lambda m: f"`{m.group(0)}`", escaped)


def _render(md: str, dialect: Dialect) -> str:
    return "\n".join(_Writer(dialect).document(md.replace("\r\n", "\n"))).strip("\n")


def for_discord(md: str) -> str:
    """Markdown as Discord shows it: headings `#` to `###` kept and deeper ones as bold
    lines, tables through tables_for_chat, HTML turned into its Markdown, characters
    that CommonMark reads as text escaped (so `__getitem__` never turns bold),
    `~~~` and indented code as backtick fences, images as links."""
    return _render(md, "discord")


def to_slack_mrkdwn(md: str) -> str:
    """Markdown as Slack mrkdwn: *bold*, _italic_, ~strike~, <url|text>, headings as bold
    lines, bullets as •, fenced code without its language tag, tables through
    tables_for_chat (Slack has none), HTML turned into its Markdown, &<> escaped."""
    return _render(md, "slack")


_SPOILER_RE = re.compile(r"\|\|(?=\S)(.+?)(?<=\S)\|\|")


def _spoilers_shown(line: str) -> str:
    """One line's spoilers as text; its code spans (which may sit inside a spoiler)
    are set aside first and put back as they were."""
    spans = [m.group(0) for m in re.finditer(r"(`+).+?\1", line)]
    masked = re.sub(r"(`+).+?\1", "\x00", line)
    shown = _SPOILER_RE.sub(r"\1", masked).split("\x00")
    return "".join(piece + (spans[k] if k < len(spans) else "") for k, piece in enumerate(shown))


def without_spoilers(md: str) -> str:
    """`||hint||` shown as plain text, outside code: for places that cannot hide text
    (the console)."""
    lines = md.split("\n")
    roles, _ = _fence_roles(lines)
    out = []
    for line, role in zip(lines, roles, strict=True):
        if role != "text":
            out.append(line)
            continue
        out.append(_spoilers_shown(line))
    return "\n".join(out)


def with_hard_breaks(md: str) -> str:
    """Each line break inside a paragraph made a hard one (two trailing spaces), as chat
    platforms show them: for renderers that follow CommonMark and would join the lines
    ("**Answer**" and its first line) into one (rich, in the console)."""
    lines = md.split("\n")
    roles, _ = _fence_roles(lines)
    out: list[str] = []
    for i, (line, role) in enumerate(zip(lines, roles, strict=True)):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if role == "text" and line.strip() and following.strip() and roles[i + 1] == "text":
            line = line.rstrip() + "  "
        out.append(line)
    return "\n".join(out)
