"""The text rules of Slack in one place: mrkdwn conversion, escaping and chunking.

Slack parses `<...>` in mrkdwn as links and mentions (`<!everyone>`, `<@U1>`), so every
piece of text that came from a person is escaped (`&`, `<`, `>`) before it is placed in a
block; that is what makes pings impossible. Conversion from Markdown is the core's
(`content.render`), so Discord and Slack show the same words.
"""

from __future__ import annotations

import re

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def plain(text: str) -> str:
    """Text for plain_text fields (headers, button labels): no markup, no mentions."""
    return " ".join(escape(text).split())


def to_mrkdwn(markdown: str) -> str:
    """Markdown -> Slack mrkdwn, escaped. Fenced code is kept verbatim (escaped only)."""
    out: list[str] = []
    for i, part in enumerate(re.split(r"(```.*?```)", markdown, flags=re.DOTALL)):
        if i % 2:
            out.append(escape(part))
            continue
        part = escape(part)
        part = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", part)
        part = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", part)
        part = _HEADING.sub(lambda m: f"*{m.group(1).strip()}*", part)
        part = _BULLET.sub(lambda m: f"{m.group(1)}• ", part)
        out.append(part)
    return "".join(out)


def inline(text: str) -> str:
    return to_mrkdwn(text).strip()


def pack_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines into as few chunks as fit `limit`; a single overlong line is cut."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def mrkdwn_chunks(markdown: str, limit: int) -> list[str]:
    """The body as mrkdwn pieces of at most `limit` characters, split between lines."""
    if not markdown.strip():
        return []
    return pack_lines(to_mrkdwn(markdown).strip().split("\n"), limit)
