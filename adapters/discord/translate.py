"""Platform facts -> the core's neutral types: who acted, where, and may they administer.

"Admin" is decided here, in code, from the member's resolved permissions in the channel:
a command's `default_permissions` is only a hint that server owners can override.

Everything here takes what Discord sent loosely typed (`object`) and returns None (or the
names of the refused options) for what does not fit, never raising: discord.py parses
ids with `int()`, so "-5", "٣" or a 30-digit number reach us as ints, and an option can
carry a value of another type than its definition. No discord.py import: the rules stay
testable on their own.
"""

from __future__ import annotations

import re

from adapters.discord.emoji import key_for
from bot.boundary import Actor, ChannelRef, ReactionInput, UserRef

PLATFORM = "discord"
SNOWFLAKE_MAX = (1 << 64) - 1  # snowflakes are unsigned 64-bit integers
ACTION_LIMIT = 90  # bot.boundary.Button: an action fits a custom_id with its prefix
_ACTION_RE = re.compile(rf"[\x21-\x7e]{{1,{ACTION_LIMIT}}}")  # the core's actions are ASCII

ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5

# What the bot needs and nothing more (https://discord.com/developers/docs/topics/permissions)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
ADD_REACTIONS = 1 << 6
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38

BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
    | EMBED_LINKS
    | ADD_REACTIONS
    | READ_MESSAGE_HISTORY
)


_NAMES = {
    VIEW_CHANNEL: "View Channel",
    SEND_MESSAGES: "Send Messages",
    SEND_MESSAGES_IN_THREADS: "Send Messages in Threads",
    CREATE_PUBLIC_THREADS: "Create Public Threads",
    EMBED_LINKS: "Embed Links",
    ADD_REACTIONS: "Add Reactions",
    READ_MESSAGE_HISTORY: "Read Message History",
}


def missing_permissions(granted: int) -> list[str]:
    """The bot's needed permissions that `granted` lacks, by their names in Discord's UI."""
    if granted & ADMINISTRATOR:
        return []
    return [name for bit, name in _NAMES.items() if not granted & bit]


def is_admin(permissions: int) -> bool:
    """Manage Server or Manage Channels (Administrator implies both)."""
    return bool(permissions & (ADMINISTRATOR | MANAGE_GUILD | MANAGE_CHANNELS))


def channel_ref(guild_id: int, channel_id: int) -> ChannelRef:
    return ChannelRef(PLATFORM, str(guild_id), str(channel_id))


def actor(user_id: int, display_name: str | None, permissions: int = 0) -> Actor:
    """An unknown name (a reaction removal carries no member) is passed on as "", which
    the core never stores over a known one."""
    return Actor(str(user_id), display_name or "", is_admin(permissions))


def invite_url(application_id: int | str, permissions: int = BOT_PERMISSIONS) -> str:
    """The OAuth2 URL that adds the bot with slash commands and the minimal permissions."""
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope=bot+applications.commands&permissions={permissions}"
    )


def snowflake(value: object) -> int | None:
    """A Discord id as an int, or None: a positive 64-bit integer, or its ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (0 < len(value) <= 20 and value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= SNOWFLAKE_MAX:
        return value
    return None


def reaction_input(
    *,
    guild_id: object,
    channel_id: object,
    message_id: object,
    user_id: object,
    emoji_id: object,
    emoji_name: object,
    added: bool,
    display_name: object = None,
) -> ReactionInput | None:
    """A reaction as the core takes it, or None: outside a server, an id that is no
    snowflake, a custom emoji (even one named like a letter) or an emoji with no key."""
    ids = [snowflake(v) for v in (guild_id, channel_id, message_id, user_id)]
    if any(i is None for i in ids) or emoji_id is not None or not isinstance(emoji_name, str):
        return None
    key = key_for(emoji_name)
    if key is None:
        return None
    guild, channel, message, user = (str(i) for i in ids)
    name = display_name if isinstance(display_name, str) else None
    return ReactionInput(
        actor=Actor(user, name or ""),
        channel=ChannelRef(PLATFORM, guild, channel),
        message_id=message,
        key=key,
        added=added,
    )


def option_values(options: dict[str, object]) -> tuple[dict[str, str], list[str]]:
    """Slash-command option values as the raw strings the core parses, and the names of
    the options whose value is of no type a Discord option has (a list, a dict...).
    Unset (None) and empty values are left out: the core applies its defaults."""
    values: dict[str, str] = {}
    refused: list[str] = []
    for name, value in options.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            refused.append(name)
            continue
        values[name] = str(value)
    return values, refused


def user_ref(user_id: object, display_name: object) -> UserRef | None:
    uid = snowflake(user_id)
    if uid is None:
        return None
    return UserRef(str(uid), display_name if isinstance(display_name, str) else "")


def button_action(action: object) -> str | None:
    """The core's opaque action from a `qotd:<action>` custom_id, or None for garbage."""
    if isinstance(action, str) and _ACTION_RE.fullmatch(action):
        return action
    return None
