"""OutMessage -> Block Kit (plus the `text` fallback Slack shows in notifications).

Layout: header (title), sections (body, split within 3,000 characters each), the options
each with its keycap emoji, a context line for fields (topic, difficulty), a context
footer (how to answer), and an actions block for buttons. Everything a user could have
typed goes through the mrkdwn converter, which escapes `<`, `>` and `&`, so no text can
become `<!everyone>`, `<!here>` or a user/group mention; `link_names` is never set.
"""

from __future__ import annotations

from typing import Any

from adapters.slack import text as slack_text
from adapters.slack.emoji import emoji_for
from bot.boundary import Button, OutMessage
from content.render import SLACK_BLOCKS, SLACK_HEADER_TEXT, SLACK_SECTION_TEXT, truncate

MAX_BLOCKS = SLACK_BLOCKS
SECTION_LIMIT = SLACK_SECTION_TEXT
HEADER_LIMIT = SLACK_HEADER_TEXT
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
CONTEXT_ELEMENTS = 10
BUTTONS_PER_ACTIONS = 25
FALLBACK_LIMIT = 3000
BUTTON_ACTION_PREFIX = "qotd_button"
# Slack refuses a message whose blocks' text adds up to more than about 12,000 characters
# (`msg_blocks_too_long`) even when every block is within its own limit. Not in Slack's
# reference; reported by app developers: slackapi/bolt-js#2509 (refused at ~13,200
# characters; a Slack maintainer answered "12,000 text characters with a buffer for block
# containers") and slackapi/bolt-js#2867 (refused at 11,341 characters counted as the sum
# of every `text` string, which is how `text_size` counts). Hence a budget well below both.
TEXT_BUDGET = 10_000
SHORTENED = "_… shortened to fit Slack's limits._"
MIN_PIECE = 200  # a cut body piece shorter than this is dropped rather than shown
CHOICE_FLOOR = 80  # options are clipped to no less than this when even they do not fit

Block = dict[str, Any]


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _header(title: str) -> Block:
    plain = slack_text.plain(title)
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(plain, HEADER_LIMIT), "emoji": True},
    }


def text_size(blocks: object) -> int:
    """The characters Slack counts against its per-message total: every `text` string."""
    if isinstance(blocks, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else text_size(v)
            for k, v in blocks.items()
        )
    if isinstance(blocks, list):
        return sum(text_size(b) for b in blocks)
    return 0


def _choices(message: OutMessage, clip: int | None = None) -> list[Block]:
    lines = [
        f":{emoji_for(c.key)}: *{c.key}.* "
        + (slack_text.inline(c.text) if clip is None else _clip(slack_text.inline(c.text), clip))
        for c in message.choices
    ]
    return [_section(chunk) for chunk in slack_text.pack_lines(lines, SECTION_LIMIT)]


def _fields(message: OutMessage) -> list[Block]:
    elements = [
        {
            "type": "mrkdwn",
            "text": _clip(
                f"*{slack_text.inline(f.name)}:* {slack_text.inline(f.value)}", SECTION_LIMIT
            ),
        }
        for f in message.fields
    ]
    return [
        {"type": "context", "elements": elements[i : i + CONTEXT_ELEMENTS]}
        for i in range(0, len(elements), CONTEXT_ELEMENTS)
    ]


def _button(index: int, button: Button) -> Block:
    block: Block = {
        "type": "button",
        "text": {
            "type": "plain_text",
            "text": _clip(slack_text.plain(button.label), BUTTON_LABEL_LIMIT),
            "emoji": True,
        },
        # action_id must be unique within an actions block; the listener matches the prefix.
        "action_id": f"{BUTTON_ACTION_PREFIX}:{index}",
        "value": button.action[:BUTTON_VALUE_LIMIT],
    }
    if button.style == "primary" or button.style == "success":
        block["style"] = "primary"
    elif button.style == "danger":
        block["style"] = "danger"
    return block


def _actions(message: OutMessage) -> list[Block]:
    buttons = [_button(i, b) for i, b in enumerate(message.buttons)]
    return [
        {
            "type": "actions",
            "block_id": f"qotd_actions_{i}",
            "elements": buttons[i : i + BUTTONS_PER_ACTIONS],
        }
        for i in range(0, len(buttons), BUTTONS_PER_ACTIONS)
    ]


def _footer(message: OutMessage) -> list[Block]:
    if not message.footer.strip():
        return []
    text = _clip(slack_text.inline(message.footer), SECTION_LIMIT)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def _tail(message: OutMessage, clip: int | None = None) -> list[Block]:
    """What a reader needs to answer: options, fields, the footer and the buttons."""
    return [*_choices(message, clip), *_fields(message), *_footer(message), *_actions(message)]


def render_blocks(message: OutMessage) -> list[Block]:
    """The blocks for a message, within Slack's 50 blocks and its total text budget.

    When the message is too long, the body is cut (with a visible note) rather than the
    options, context or buttons, which a reader needs to answer; options are clipped
    only when even they do not fit.
    """
    head: list[Block] = [_header(message.title)] if message.title.strip() else []
    body = message.body
    if message.tone == "error" and body:
        body = f":warning: {body}"
    chunks = slack_text.mrkdwn_chunks(body, SECTION_LIMIT)
    tail = _tail(message)
    blocks = [*head, *(_section(c) for c in chunks), *tail]
    if len(blocks) <= MAX_BLOCKS and text_size(blocks) <= TEXT_BUDGET:
        return blocks
    return _shortened(message, head, chunks, tail)


def _shortened(
    message: OutMessage, head: list[Block], chunks: list[str], tail: list[Block]
) -> list[Block]:
    note = _section(SHORTENED)
    fixed = [*head, note, *tail]
    if text_size(fixed) > TEXT_BUDGET - MIN_PIECE and message.choices:
        others = text_size([*head, note, *_fields(message), *_footer(message), *_actions(message)])
        share = (TEXT_BUDGET - MIN_PIECE - others) // len(message.choices) - 16  # keycap, letter
        tail = _tail(message, clip=max(share, CHOICE_FLOOR))
        fixed = [*head, note, *tail]
    room = TEXT_BUDGET - text_size(fixed)
    slots = MAX_BLOCKS - len(fixed)
    kept: list[Block] = []
    for chunk in chunks:
        if len(kept) >= slots or room < MIN_PIECE:
            break
        piece = chunk if len(chunk) <= room else truncate(chunk, room)
        kept.append(_section(piece))
        room -= len(piece)
    return [*head, *kept, note, *tail][:MAX_BLOCKS]


def fallback_text(message: OutMessage) -> str:
    """The notification/accessibility text that accompanies the blocks."""
    parts = [slack_text.plain(message.title)] if message.title.strip() else []
    if message.body.strip():
        parts.append(slack_text.inline(message.body))
    parts.extend(f"{c.key}. {slack_text.inline(c.text)}" for c in message.choices)
    joined = "\n".join(parts) or "qotd"
    return _clip(joined, FALLBACK_LIMIT)
