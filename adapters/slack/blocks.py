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
from content.render import SLACK_BLOCKS, SLACK_HEADER_TEXT, SLACK_SECTION_TEXT

MAX_BLOCKS = SLACK_BLOCKS
SECTION_LIMIT = SLACK_SECTION_TEXT
HEADER_LIMIT = SLACK_HEADER_TEXT
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
CONTEXT_ELEMENTS = 10
BUTTONS_PER_ACTIONS = 25
FALLBACK_LIMIT = 3000
BUTTON_ACTION_PREFIX = "qotd_button"

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


def _choices(message: OutMessage) -> list[Block]:
    lines = [
        f":{emoji_for(c.key)}: *{c.key}.* {slack_text.inline(c.text)}" for c in message.choices
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


def render_blocks(message: OutMessage) -> list[Block]:
    """The blocks for a message, never more than Slack's 50.

    When a very long body would overflow, the body is cut (with a note) rather than the
    options, context or buttons, which a reader needs to answer.
    """
    head: list[Block] = [_header(message.title)] if message.title.strip() else []
    body = message.body
    if message.tone == "error" and body:
        body = f":warning: {body}"
    body_blocks = [_section(c) for c in slack_text.mrkdwn_chunks(body, SECTION_LIMIT)]
    tail: list[Block] = [*_choices(message), *_fields(message)]
    if message.footer.strip():
        tail.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _clip(slack_text.inline(message.footer), SECTION_LIMIT),
                    }
                ],
            }
        )
    tail.extend(_actions(message))
    room = MAX_BLOCKS - len(head) - len(tail)
    if len(body_blocks) > room:
        body_blocks = [
            *body_blocks[: max(room - 1, 0)],
            _section("_… shortened to fit Slack's limits._"),
        ]
    return [*head, *body_blocks, *tail][:MAX_BLOCKS]


def fallback_text(message: OutMessage) -> str:
    """The notification/accessibility text that accompanies the blocks."""
    parts = [slack_text.plain(message.title)] if message.title.strip() else []
    if message.body.strip():
        parts.append(slack_text.inline(message.body))
    parts.extend(f"{c.key}. {slack_text.inline(c.text)}" for c in message.choices)
    joined = "\n".join(parts) or "qotd"
    return _clip(joined, FALLBACK_LIMIT)
