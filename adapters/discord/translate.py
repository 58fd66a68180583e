"""Platform facts -> the core's neutral types: who acted, where, and may they administer.

"Admin" is decided here, in code, from the member's resolved permissions in the channel:
a command's `default_permissions` is only a hint that server owners can override.
"""

from __future__ import annotations

from bot.boundary import Actor, ChannelRef

PLATFORM = "discord"

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
