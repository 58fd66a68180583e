"""Why the Discord client stopped, as `qotd run` needs to hear it: fatal or not, and what
the operator should do. Never the token.

Gateway close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes):
4004 and 4010-4014 cannot be fixed by reconnecting, so discord.py raises them out of
`client.start()`; every other code it resumes or re-identifies by itself.
"""

from __future__ import annotations

import discord

from bot.plugins import AdapterFailed

ADAPTER = "discord"
PORTAL = "https://discord.com/developers/applications"

FATAL_CLOSES: dict[int, tuple[str, str]] = {
    4004: ("authentication failed",
           "the token was reset or is wrong; set DISCORD_TOKEN to the bot's current token "
           f"({PORTAL} > Bot > Reset Token)"),
    4010: ("invalid shard",
           "DISCORD_SHARD_IDS names a shard that DISCORD_SHARD_COUNT does not have; fix the "
           "two settings"),
    4011: ("sharding required",
           "the bot is in too many servers for one connection; unset DISCORD_SHARD_COUNT "
           "(automatic sharding) or raise it"),
    4012: ("invalid API version",
           "Discord no longer accepts the API version this discord.py speaks; upgrade qotd"),
    4013: ("invalid intents",
           "Discord refused the intents value; upgrade qotd"),
    4014: ("disallowed intents",
           "the application may not use an intent the bot asks for; qotd asks for no "
           f"privileged intent, so check the application in {PORTAL} (Bot > Privileged "
           "Gateway Intents) and whether Discord restricted it"),
}

LOGIN_REFUSED = (
    "Discord refused the token (401 Unauthorized): it was reset or mistyped; set "
    f"DISCORD_TOKEN to the bot's current token ({PORTAL} > Bot > Reset Token)"
)


def close_cause(code: int) -> str:
    meaning, action = FATAL_CLOSES[code]
    return f"Discord closed the gateway with {code} ({meaning}): {action}"


def failure_for(exc: BaseException, token: str = "") -> AdapterFailed:
    """The AdapterFailed for an exception that escaped `client.start()`."""
    if isinstance(exc, AdapterFailed):
        return exc
    if isinstance(exc, discord.LoginFailure):
        return AdapterFailed(ADAPTER, LOGIN_REFUSED, fatal=True)
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return AdapterFailed(ADAPTER, close_cause(4014), fatal=True)
    if isinstance(exc, discord.ConnectionClosed):
        if exc.code in FATAL_CLOSES:
            return AdapterFailed(ADAPTER, close_cause(exc.code), fatal=True)
        return AdapterFailed(
            ADAPTER, f"Discord closed the gateway with {exc.code}; reconnecting", fatal=False
        )
    return AdapterFailed(ADAPTER, f"the Discord client stopped: {describe(exc, token)}",
                         fatal=False)


def describe(exc: BaseException, token: str = "") -> str:
    """`TypeName: message`, one line, at most 200 characters, the token blanked out."""
    text = " ".join(str(exc).split())
    if token:
        text = text.replace(token, "**********")
    text = text[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
