"""The typed boundary between the core and every platform adapter.

Inbound: what a user did (a command, a reaction, a button), with the facts only the
platform knows (display name, "is an admin here") attached. Outbound: platform-neutral
messages that each adapter renders its own way (an embed, Block Kit, plain text).
Reactions travel as neutral keys ("A".."J" for options, "yes"/"no" for knew-it/not-yet);
each adapter maps them to and from its emoji.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

YES = "yes"  # ✅ "I knew it"
NO = "no"  # ❌ "not yet"
OPTION_KEYS = "ABCDEFGHIJ"

# How members answer a channel's posts (issue 16). "buttons" (the default): the post
# carries one Button per option (or "I knew it" / "Not yet"), a vote is private and the
# post is one request. "reactions": the post carries no answer buttons; the core seeds
# its reaction keys with Outbound.add_reactions *after* the post is marked sent. In both
# modes a reaction a member adds by themselves counts as their vote.
AnswerMode = Literal["buttons", "reactions"]
ANSWER_MODES: tuple[str, ...] = ("buttons", "reactions")
VOTE_PREFIX = "vote:"


def vote_action(post_id: int, key: str) -> str:
    """The Button.action of an answer button: `vote:<post id>:<key>`, key one of
    OPTION_KEYS or YES/NO. Pressing the option you chose again withdraws the vote."""
    return f"{VOTE_PREFIX}{post_id}:{key}"


def parse_vote_action(action: str) -> tuple[int, str] | None:
    """(post id, key) of a vote action, or None if `action` is not a well-formed one."""
    if not action.startswith(VOTE_PREFIX):
        return None
    post, _, key = action[len(VOTE_PREFIX):].partition(":")
    if not post.isdigit() or len(post) > 18 or key not in (*OPTION_KEYS, YES, NO):
        return None
    return int(post), key

Platform = str  # "console", "discord", "slack"
# "update": replace the message the pressed button is on (a reply to a ButtonInput only;
# a private review session moves card to card in one message). Anywhere else an adapter
# shows it as "ephemeral".
Visibility = Literal["ephemeral", "public", "update"]
Tone = Literal["question", "reveal", "answer", "info", "error"]


@dataclass(frozen=True)
class ChannelRef:
    """A channel, unique across platforms and workspaces (guild / team)."""

    platform: Platform
    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class UserRef:
    user_id: str
    display_name: str


@dataclass(frozen=True)
class Actor:
    """Who acted. `is_admin` is decided by the adapter from platform permissions."""

    user_id: str
    display_name: str  # raw; "" when the platform did not say: the stored name is kept
    is_admin: bool = False


@dataclass(frozen=True)
class CommandInput:
    """A slash command: name is "qotd", "answer", "leaderboard" or "streak".

    `options` holds raw strings exactly as typed/selected, keyed by the option names
    the core declares for the command (bot.service.commands.QOTD / TOP_LEVEL): the core
    cleans them (bot.text), refuses unknown names and over-long values, validates the
    rest and answers with the valid choices, every problem in one reply. `user` is the
    resolved user option, if any (`/streak @someone`, `/qotd stats @someone`).
    """

    name: str
    actor: Actor
    channel: ChannelRef
    subcommand: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    user: UserRef | None = None


@dataclass(frozen=True)
class ReactionInput:
    """A reaction added or removed on a message, `key` already mapped to a neutral key.

    Adapters drop reactions whose emoji maps to no key; `message_id` is the platform id
    of the message reacted to (the core ignores messages that are not its posts).
    """

    actor: Actor
    channel: ChannelRef
    message_id: str
    key: str
    added: bool


@dataclass(frozen=True)
class ButtonInput:
    """A button press. `action` is the opaque string the core put on the Button."""

    actor: Actor
    channel: ChannelRef
    action: str
    message_id: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True)
class Choice:
    key: str  # "A".."J"
    text: str


@dataclass(frozen=True)
class Button:
    """A button; `action` comes back verbatim in ButtonInput (at most 90 characters so it
    fits Discord's 100-character custom_id with a prefix and Slack's action value)."""

    label: str
    action: str
    style: Literal["primary", "secondary", "success", "danger"] = "secondary"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a chart). `alt_text` says in words what it shows:
    screen readers read it, and the console prints it instead of the file."""

    filename: str
    data: bytes
    alt_text: str
    content_type: str = "image/png"


@dataclass(frozen=True)
class DirectRef:
    """A person on a platform, for a direct message (a review nudge)."""

    platform: Platform
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class OutMessage:
    """A platform-neutral message. `body` is Markdown (bold, lists, fenced code, tables);
    adapters render it with content.render, which splits it within their limits."""

    tone: Tone
    title: str = ""
    body: str = ""
    fields: tuple[Field, ...] = ()
    choices: tuple[Choice, ...] = ()
    footer: str = ""
    buttons: tuple[Button, ...] = ()
    # neutral keys of the seed reactions (reactions mode). Outbound.send does NOT add them:
    # the core calls Outbound.add_reactions once the post is marked sent (issue 16)
    reactions: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # files uploaded with the message


@dataclass(frozen=True)
class Reply:
    """A direct answer to an input: `ephemeral` is seen by the acting user alone."""

    visibility: Visibility
    message: OutMessage


def info(text: str, *, title: str = "") -> Reply:
    return Reply("ephemeral", OutMessage(tone="info", title=title, body=text))


def error(text: str) -> Reply:
    return Reply("ephemeral", OutMessage(tone="error", body=text))
