"""Slack payloads -> the facts a handler needs, or None when the payload does not fit.

Bolt hands listeners the raw dicts. Slack's own payloads are well formed, but a field of
the wrong type or shape (a number where an id belongs, a string where `item` should be an
object) must end as "dropped, one log line", never as an exception halfway through a
handler, and never as a write. Ids are checked for Slack's shape (letters and digits)
before they reach the core or a log line, and message timestamps for `seconds.micros`.

`Where` carries the ids an operator needs to find an event in Slack — workspace, channel,
user and command or action name — and never the user's text or a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
TS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
COMMAND_NAME = re.compile(r"/[A-Za-z0-9_.-]{1,32}")
REPLY_URL = re.compile(r"https?://[^\s]{1,2000}")
NAME_LIMIT = 200  # longer than any Slack name; the core cleans and shortens it further


def display_name(value: Any) -> str:
    """A display name from a payload, as is (the core cleans it), or "" when there is
    none: the core then keeps the name it has."""
    return value if isinstance(value, str) and len(value) <= NAME_LIMIT else ""


def slack_id(value: Any) -> str | None:
    return value if isinstance(value, str) and ID.fullmatch(value) else None


def ts(value: Any) -> str | None:
    return value if isinstance(value, str) and TS.fullmatch(value) else None


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def can_reply(body: dict[str, Any]) -> bool:
    """Whether the payload's response_url is one (Bolt's `respond` posts to it as is)."""
    url = body.get("response_url")
    return isinstance(url, str) and REPLY_URL.fullmatch(url) is not None


@dataclass(frozen=True)
class Where:
    kind: str  # "command", "button", "reaction"
    team: str | None = None
    channel: str | None = None
    user: str | None = None
    name: str | None = None  # "/qotd schedule", an action id, a reaction key

    def __str__(self) -> str:
        parts = [f"team {self.team or '?'}", f"channel {self.channel or '?'}"]
        parts.append(f"user {self.user or '?'}")
        if self.name:
            parts.append(self.name)
        return ", ".join(parts)


@dataclass(frozen=True)
class CommandFacts:
    where: Where
    command: str
    text: str
    team: str
    channel: str
    user: str
    user_name: str = ""  # the payload's `user_name`; "" when absent


def command_facts(body: dict[str, Any]) -> CommandFacts | Where:
    """A slash command's facts, or (when a field does not fit) the ids it had."""
    command = body.get("command")
    name = command if isinstance(command, str) and COMMAND_NAME.fullmatch(command) else None
    team = slack_id(body.get("team_id")) or ""
    channel, user = slack_id(body.get("channel_id")), slack_id(body.get("user_id"))
    where = Where("command", team or None, channel, user, name)
    text = body.get("text")
    if text is None:
        text = ""
    if name is None or channel is None or user is None or not isinstance(text, str):
        return where
    return CommandFacts(where, name, text, team, channel, user,
                        display_name(body.get("user_name")))


@dataclass(frozen=True)
class ReactionFacts:
    where: Where
    team: str
    channel: str
    user: str
    message_ts: str
    emoji: str
    added: bool


def reaction_facts(
    event: dict[str, Any], body: dict[str, Any], context_team: Any
) -> ReactionFacts | Where | None:
    """None: a reaction to something that is not a message (a file), not ours to read."""
    item = obj(event.get("item"))
    if item.get("type") != "message":
        return None
    team = slack_id(body.get("team_id")) or slack_id(context_team) or ""
    user, channel = slack_id(event.get("user")), slack_id(item.get("channel"))
    emoji = event.get("reaction")
    where = Where("reaction", team or None, channel, user, None)
    message_ts = ts(item.get("ts"))
    if (
        user is None
        or channel is None
        or message_ts is None
        or not isinstance(emoji, str)
        or len(emoji) > 100
    ):
        return where
    added = event.get("type") == "reaction_added"
    return ReactionFacts(where, team, channel, user, message_ts, emoji, added)


@dataclass(frozen=True)
class ButtonFacts:
    where: Where
    team: str
    channel: str
    user: str
    value: str
    message_ts: str | None
    user_name: str = ""  # the payload's user.name (or user.username); "" when absent
    # the button is on a message everyone sees (not an ephemeral, not in a DM): an
    # answer must never replace it
    on_public_message: bool = False


def button_facts(body: dict[str, Any], action: Any) -> ButtonFacts | Where:
    action = obj(action)
    container, user_obj = obj(body.get("container")), obj(body.get("user"))
    channel = slack_id(obj(body.get("channel")).get("id")) or slack_id(container.get("channel_id"))
    user = slack_id(user_obj.get("id"))
    team = slack_id(obj(body.get("team")).get("id")) or slack_id(user_obj.get("team_id")) or ""
    action_id = action.get("action_id")
    name = action_id if isinstance(action_id, str) and len(action_id) <= 255 else None
    where = Where("button", team or None, channel, user, name)
    value = action.get("value")
    if channel is None or user is None or not isinstance(value, str) or len(value) > 2000:
        return where
    public = (container.get("type") == "message" and container.get("is_ephemeral") is not True
              and not channel.startswith("D"))
    return ButtonFacts(where, team, channel, user, value, ts(container.get("message_ts")),
                       display_name(user_obj.get("name")) or display_name(user_obj.get("username")),
                       public)
