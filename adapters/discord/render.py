"""OutMessage -> Discord wire payloads (embed dicts, button rows, nonces), with no I/O.

Kept free of discord.py so the rules about limits and mentions are testable on their own:
every text field passes through `neutralize` (embeds never ping, but the same text may
end up in thread names or message content), and long bodies are split by
`split_markdown`, which never cuts inside a fenced code block.

Only Discord's own mention syntax is defused here. content.render.neutralize_mentions
also escapes Slack's (`<!here>` -> `&lt;!here&gt;`), but Discord shows entities as typed,
so on Discord that would print `&lt;`: Slack syntax is plain text here and stays as is.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from adapters.discord.emoji import emoji_for
from bot.boundary import Attachment, Button, OutMessage
from content.render import (
    DISCORD_EMBED_DESCRIPTION,
    DISCORD_EMBED_TITLE,
    DISCORD_EMBED_TOTAL,
    DISCORD_FIELD_VALUE,
    DISCORD_FIELDS,
    for_discord,
    split_markdown,
    truncate,
)

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_LIMIT = DISCORD_EMBED_TITLE
DESCRIPTION_LIMIT = DISCORD_EMBED_DESCRIPTION
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = DISCORD_FIELD_VALUE
FIELDS_LIMIT = DISCORD_FIELDS
FOOTER_LIMIT = 2048
MESSAGE_EMBEDS_TOTAL = DISCORD_EMBED_TOTAL
THREAD_NAME_LIMIT = 100
NONCE_LIMIT = 25
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5

CUSTOM_ID_PREFIX = "qotd:"
ZWSP = "\u200b"
# @everyone / @here, and <@id> <@!id> <@&id> (user, nickname and role mentions)
_EVERYONE_RE = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
_MENTION_RE = re.compile(r"<@([!&]?\d+)>")

COLOURS: dict[str, int] = {
    "question": 0x3B82F6,
    "reveal": 0x22C55E,
    "answer": 0x8B5CF6,
    "info": 0x64748B,
    "error": 0xEF4444,
}


def neutralize(text: str) -> str:
    """Discord mentions made inert with a zero-width space; nothing else changes."""
    text = _MENTION_RE.sub(lambda m: f"<@{ZWSP}{m.group(1)}>", text)
    return _EVERYONE_RE.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def clean(text: str, limit: int) -> str:
    """User-influenced text made safe: no pings, within `limit` characters."""
    return truncate(neutralize(text), limit) if text else ""


# content.render.for_discord parses the Markdown (markdown-it) on every call: ~1.5 ms of
# CPU for a one-line reply, most of an interaction's own cost in this adapter. It is a
# pure function of its text, and the bot says the same things over and over (a vote's
# "You chose B", status lines, the post's options), so the renderings are kept (bounded).
_for_discord = functools.lru_cache(maxsize=1024)(for_discord)


def body_text(message: OutMessage) -> str:
    """The Markdown that goes into descriptions: the body, then the lettered options,
    written as Discord shows Markdown (content.render.for_discord: headings up to ###,
    no tables, no HTML, identifiers never emphasis)."""
    body = message.body.strip()
    parts = [_for_discord(body)] if body else []
    if message.choices:
        parts.append("\n".join(f"{emoji_for(c.key)} {_option(c.text)}" for c in message.choices))
    return "\n\n".join(parts)


def _option(text: str) -> str:
    """An option on the line of its emoji: one line, whatever the source held."""
    return " ".join(_for_discord(text).split("\n")).strip()


def embeds(message: OutMessage) -> list[dict[str, Any]]:
    """One embed per Discord message: the first carries title and fields, later ones
    continue the description; the footer goes on the last. Each stays under the
    6000-character total that Discord counts over a message's embeds."""
    title = clean(message.title, TITLE_LIMIT)
    fields: list[dict[str, Any]] = [
        {
            "name": clean(f.name, FIELD_NAME_LIMIT) or "\u200b",
            "value": clean(f.value, FIELD_VALUE_LIMIT) or "\u200b",
            "inline": len(f.value) <= 40,
        }
        for f in message.fields[:FIELDS_LIMIT]
    ]
    footer = clean(message.footer, FOOTER_LIMIT)

    def fixed_size() -> int:
        return len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)

    # Fields alone can pass the 6000 total (25 x 1280): drop trailing ones rather than
    # have Discord refuse the whole message.
    while fields and fixed_size() > MESSAGE_EMBEDS_TOTAL - 200:
        fields.pop()
    fixed = fixed_size()
    first_limit = max(200, min(DESCRIPTION_LIMIT, MESSAGE_EMBEDS_TOTAL - fixed))
    text = neutralize(body_text(message))
    chunks = split_markdown(text, first_limit) if text else []
    if len(chunks) > 1 and first_limit < DESCRIPTION_LIMIT:
        rest = "\n\n".join(chunks[1:])
        chunks = chunks[:1] + split_markdown(rest, DESCRIPTION_LIMIT - len(footer))
    colour = COLOURS.get(message.tone, COLOURS["info"])
    first: dict[str, Any] = {"color": colour}
    if title:
        first["title"] = title
    if chunks:
        first["description"] = chunks[0]
    if fields:
        first["fields"] = fields
    pages = [first] + [{"color": colour, "description": chunk} for chunk in chunks[1:]]
    if footer:
        pages[-1]["footer"] = {"text": footer}
    if not any(k in pages[0] for k in ("title", "description", "fields")):
        pages[0]["description"] = "\u200b"
    return pages


@dataclass(frozen=True)
class ButtonSpec:
    custom_id: str
    label: str
    style: str


def custom_id(action: str) -> str:
    """The component custom_id for a core action; what comes back in the interaction."""
    cid = CUSTOM_ID_PREFIX + action
    if len(cid) > CUSTOM_ID_LIMIT:
        raise ValueError(f"button action is {len(action)} characters; at most 90 fit Discord")
    return cid


def action_of(custom_id_value: str) -> str | None:
    if not custom_id_value.startswith(CUSTOM_ID_PREFIX):
        return None
    return custom_id_value[len(CUSTOM_ID_PREFIX):] or None


def button_rows(buttons: tuple[Button, ...]) -> list[list[ButtonSpec]]:
    """Buttons in rows of five, at most five rows (Discord's component limits)."""
    limit = BUTTONS_PER_ROW * ROWS_PER_MESSAGE
    if len(buttons) > limit:
        raise ValueError(f"{len(buttons)} buttons do not fit one Discord message (max {limit})")
    specs = [
        ButtonSpec(custom_id(b.action), clean(b.label, BUTTON_LABEL_LIMIT) or "?", b.style)
        for b in buttons
    ]
    return [specs[i : i + BUTTONS_PER_ROW] for i in range(0, len(specs), BUTTONS_PER_ROW)]


def nonce(idempotency_key: str, part: int = 0) -> str:
    """A deterministic nonce (Discord allows 25 characters) so that a retried create with
    the same key is dropped by Discord (`enforce_nonce`)."""
    digest = hashlib.sha256(f"{idempotency_key}#{part}".encode()).hexdigest()
    return ("q" + digest)[:NONCE_LIMIT]


def thread_name(message: OutMessage) -> str:
    name = clean(message.title, THREAD_NAME_LIMIT).strip()
    return name or "Answer"


# -- attachments ---------------------------------------------------------------------------

ATTACHMENT_DESCRIPTION_LIMIT = 1024  # the alt text Discord keeps on an attachment
_ATTACHMENT_NAME_RE = re.compile(r"[^A-Za-z0-9_.-]+")


def attachment_name(filename: str, index: int = 0) -> str:
    """A filename `attachment://` can reference: Discord resolves only names made of
    letters, digits, `_`, `-` and `.`; anything else would leave the embed's image empty."""
    cleaned = _ATTACHMENT_NAME_RE.sub("_", filename).strip("._")[:80]
    return cleaned or f"file{index}"


def with_image(page: dict[str, Any], attachments: tuple[Attachment, ...]) -> dict[str, Any]:
    """The page showing the message's first image attachment inside the embed (the
    chart in the card, not a loose file under it); the alt text stays on the file."""
    for index, attachment in enumerate(attachments):
        if attachment.content_type.startswith("image/"):
            name = attachment_name(attachment.filename, index)
            return {**page, "image": {"url": f"attachment://{name}"}}
    return page
