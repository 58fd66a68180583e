"""Buttons that keep working after a restart, without discord.py's view machinery.

Every qotd button's custom_id is `qotd:<action>`, the core's opaque action; nothing is
kept in memory. The client's `on_interaction` matches any component whose custom_id fits
`BUTTON_TEMPLATE` and that the message really carries, whether or not this process sent
the message (a self-grade pressed on yesterday's reply still reaches the core), and hands
it to `press`. discord.py's dynamic items did the same, but rebuilt a View of the whole
message and a Button for every component on each press (~0.7 ms of CPU a press, issue 16).

Outgoing buttons are `StaticButton`s: they render the same components, but are not
dispatchable, so discord.py neither keeps a view per message (a `timeout=None` view is
never released) nor dispatches presses itself.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

from adapters.discord.apology import apologise, interaction_ids
from adapters.discord.render import CUSTOM_ID_PREFIX, ButtonSpec, button_rows
from bot.boundary import Button

log = logging.getLogger(__name__)

BUTTON_TEMPLATE = re.compile(re.escape(CUSTOM_ID_PREFIX) + r"(?P<action>.+)")

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class ButtonHandler(Protocol):
    async def button(self, interaction: discord.Interaction[Any], action: str) -> None: ...


class StaticButton(discord.ui.Button[Any]):
    """A button that is rendered, never dispatched by discord.py (see the module doc)."""

    def is_dispatchable(self) -> bool:
        return False


async def press(interaction: discord.Interaction[Any], action: str) -> None:
    """A qotd button was pressed. The bridge logs and answers its own failures; this is
    the last line, so that discord.py never prints a traceback for a press."""
    handler: ButtonHandler | None = getattr(interaction.client, "qotd_bridge", None)
    if handler is None:
        return
    try:
        await handler.button(interaction, action)
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


def _item(spec: ButtonSpec, row: int) -> StaticButton:
    return StaticButton(label=spec.label, custom_id=spec.custom_id, row=row,
                        style=_STYLES.get(spec.style, discord.ButtonStyle.secondary))
