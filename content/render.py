"""Platform-neutral rendering: Markdown split to platform limits, Slack mrkdwn, safe mentions.

Adapters never cut text themselves: a question's answer can be longer than one message,
and a cut inside a code fence turns the rest of the reveal into code. Everything here is
pure text → text so that it can be property-tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
    return cell.replace("**", "").replace("__", "").replace("`", "")


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
    """Markdown pipe tables (outside code fences) rewritten for chat platforms, which
    have no tables. Every cell is kept, except in the list form the top-left one (it
    names the row labels, which the list shows in bold). Everything else is unchanged."""
    lines = md.replace("\r\n", "\n").split("\n")
    roles, _ = _fence_roles(lines)
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


# --------------------------------------------------------------------------- Slack mrkdwn

_ESCAPE_RE = re.compile(r"&(?!(?:amp|lt|gt);)|<|>")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_WEB_LINK_RE = re.compile(r"^(?:https?://|mailto:)[^\s<>]+$", re.IGNORECASE)
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")


def _escape(text: str) -> str:
    """Slack's three entities; entities already present (neutralised mentions) are kept."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)[0]], text)


def _inline(text: str) -> str:
    """Emphasis, links and escaping for text outside code spans."""
    links: list[str] = []

    def keep_link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if not _WEB_LINK_RE.match(target):
            # `<!here|x>`, `<!subteam^S1|x>`, `<@U1|x>` would ping: only web links
            # become Slack links; anything else stays visible text.
            return _escape(f"{label} ({target})")
        label = label.replace("|", "/")  # Slack ends the URL at the first `|`
        links.append(f"<{_escape(target.replace('|', '%7C'))}|{_escape(label)}>")
        return f"\x00{len(links) - 1}\x00"

    text = _LINK_RE.sub(keep_link, text)
    text = _escape(text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"\x01{m.group(1) or m.group(2)}\x01", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"_\1_", text)
    text = re.sub(r"~~(.+?)~~", r"~\1~", text)
    text = text.replace("\x01", "*")
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _line(line: str) -> str:
    heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
    if heading:
        title = heading.group(1).replace("**", "").replace("__", "")
        return f"*{_escape(title)}*" if title else ""
    prefix = ""
    quote = re.match(r"^(\s*>\s?)", line)
    if quote:
        prefix, line = "> ", line[quote.end() :]
    bullet = re.match(r"^(\s*)[-*+]\s+", line)
    if bullet:
        prefix, line = f"{prefix}{bullet.group(1)}• ", line[bullet.end() :]
    parts: list[str] = []
    last = 0
    for m in _CODE_SPAN_RE.finditer(line):
        parts.append(_inline(line[last : m.start()]))
        parts.append(f"`{_escape(m.group(2))}`")
        last = m.end()
    parts.append(_inline(line[last:]))
    return prefix + "".join(parts)


def to_slack_mrkdwn(md: str) -> str:
    """Markdown as Slack mrkdwn: *bold*, _italic_, ~strike~, <url|text>, headings as bold,
    fenced code without its language tag, tables through tables_for_chat (Slack has
    none), &<> escaped."""
    lines = tables_for_chat(md).split("\n")
    roles, still_open = _fence_roles(lines)
    out = [
        "```" if role in ("open", "close") else _escape(line) if role == "code" else _line(line)
        for line, role in zip(lines, roles, strict=True)
    ]
    if still_open is not None:  # an unclosed fence is closed, as Slack would not
        out.append("```")
    return "\n".join(out)
