"""Buttons that keep working after a restart.

A `DynamicItem` matches any component whose custom_id fits `qotd:<action>`, whether or
not this process sent the message, so a self-grade button pressed on yesterday's reply
still reaches the core. The action is the core's opaque string; nothing is kept in memory.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord

from adapters.discord.apology import apologise, interaction_ids
from adapters.discord.render import ButtonSpec, button_rows
from bot.boundary import Button

log = logging.getLogger(__name__)

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class ButtonHandler(Protocol):
    async def button(self, interaction: discord.Interaction[Any], action: str) -> None: ...


class QotdButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"qotd:(?P<action>.+)"):
    def __init__(self, action: str, label: str = "?", style: str = "secondary") -> None:
        self.action = action
        super().__init__(
            discord.ui.Button(
                label=label,
                style=_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=f"qotd:{action}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> QotdButton:
        label = getattr(item, "label", None) or "?"
        return cls(match["action"], label=label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """The bridge logs and answers its own failures; this is the last line, so that
        discord.py never prints a traceback for a press."""
        handler: ButtonHandler | None = getattr(interaction.client, "qotd_bridge", None)
        if handler is None:
            return
        try:
            await handler.button(interaction, self.action)
        except Exception as exc:
            log.error("discord: a button press failed (%s)%s", type(exc).__name__,
                      interaction_ids(interaction), exc_info=exc)
            await apologise(interaction)


def view_for(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """A timeout-less view of the message's buttons, or None when it has none."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(button_rows(buttons)):
        for spec in row:
            view.add_item(_item(spec, row_index))
    return view


def _item(spec: ButtonSpec, row: int) -> QotdButton:
    item = QotdButton(spec.custom_id.removeprefix("qotd:"), label=spec.label, style=spec.style)
    item.item.row = row
    return item
