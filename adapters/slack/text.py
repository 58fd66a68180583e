"""Slack's text rules in one place, on top of the core's renderer (`content.render`).

Slack parses `<...>` in mrkdwn as links and mentions (`<!everyone>`, `<@U1>`), so every
piece of text that came from a person is first neutralised and then converted, which
escapes `&`, `<` and `>`; that is what makes pings impossible (`link_names` is never set
either). Conversion and splitting are the core's, so Discord and Slack show the same words
and code fences are never cut in half.
"""

from __future__ import annotations

import functools

from content.render import neutralize_mentions, split_markdown, to_slack_mrkdwn


@functools.lru_cache(maxsize=2048)
def to_mrkdwn(markdown: str) -> str:
    """Pure and the costliest step of rendering (a Markdown parse): cached, since a
    message's body is converted for its blocks and again for its fallback text, and a
    post's options and footer repeat across replies."""
    return to_slack_mrkdwn(neutralize_mentions(markdown))


def plain(text: str) -> str:
    """Text for plain_text fields (headers, button labels): one line, no mentions."""
    return " ".join(to_mrkdwn(text).split())


def inline(text: str) -> str:
    return to_mrkdwn(text).strip()


def pack_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines into as few chunks as fit `limit` (an overlong line is split by the
    core's splitter at word boundaries)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        for piece in split_markdown(line, limit) if len(line) > limit else [line]:
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit:
                chunks.append(current)
                current = piece
            else:
                current = candidate
    if current:
        chunks.append(current)
    return chunks


def mrkdwn_chunks(markdown: str, limit: int) -> list[str]:
    """The body as mrkdwn pieces of at most `limit` characters each.

    Converted first, then split: escaping and link syntax change lengths, so splitting the
    Markdown first could leave a converted piece over the limit.
    """
    if not markdown.strip():
        return []
    return split_markdown(to_mrkdwn(markdown).strip(), limit)
