"""What a user hears when handling their interaction failed, and what the log says.

Kept apart from the bridge so the command tree, the buttons and the client's own
handlers share one wording and one way of saying it: ephemeral, no mentions, and never
an exception of its own (an interaction can expire: 3 s to answer, 15 min to follow up).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

FAILURE_TEXT = "Something went wrong on our side; it has been logged. Please try again."
REFUSED_TEXT = (
    "Discord sent this in a form qotd cannot read, so nothing was changed. Please try again."
)
UNKNOWN_COMMAND_TEXT = (
    "This command is not (or no longer) one of qotd's; Discord's list of commands may be "
    "out of date. Nothing was changed."
)
UNKNOWN_BUTTON_TEXT = (
    "This button is not (or no longer) one of qotd's. Nothing was changed."
)
_ERROR_COLOUR = 0xEF4444
_NO_MENTIONS = discord.AllowedMentions.none()


def interaction_ids(interaction: discord.Interaction[Any]) -> str:
    """` guild=… channel=… user=… interaction=…`: numbers discord.py already parsed."""
    user = getattr(interaction, "user", None)
    parts = [
        ("guild", interaction.guild_id),
        ("channel", interaction.channel_id),
        ("user", getattr(user, "id", None)),
        ("interaction", interaction.id),
    ]
    return "".join(f" {name}={value}" for name, value in parts if isinstance(value, int))


async def apologise(interaction: discord.Interaction[Any], text: str = FAILURE_TEXT) -> None:
    """Tell the user privately, if the interaction can still be answered."""
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
            return
        embed = discord.Embed(description=text, color=_ERROR_COLOUR)
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True,
                                            allowed_mentions=_NO_MENTIONS)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True,
                                                    allowed_mentions=_NO_MENTIONS)
    except Exception as exc:  # expired, or Discord refused this too: the log has the cause
        log.info("discord: could not tell the user about it (%s)%s", type(exc).__name__,
                 interaction_ids(interaction))


def failure_line(exc: BaseException) -> str:
    """How a failed answer is named in the log: Discord's status and code for a refusal
    (no traceback needed), the exception type otherwise."""
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status} (code {exc.code})"
    return type(exc).__name__
