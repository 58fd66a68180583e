"""Discord events -> core inputs -> interaction responses. Translation only: every rule
about questions, scores or streaks lives in the core.

Interactions must be acknowledged within 3 seconds. The core usually answers in
milliseconds, so we give it `defer_after` seconds and answer directly; past that we
defer (ephemeral when the reply is expected to be) and send the replies as follow-ups.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Awaitable
from typing import Any

import discord

from adapters.discord import render
from adapters.discord.emoji import key_for
from adapters.discord.outbound import NO_MENTIONS, DiscordOutbound
from adapters.discord.translate import actor, channel_ref, missing_permissions
from adapters.discord.views import view_for
from bot.boundary import (
    ButtonInput,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
    UserRef,
    error,
)
from bot.plugins import CoreHandle

log = logging.getLogger(__name__)

AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_SECONDS = 2.0  # Discord drops an autocomplete answer after 3 s
FAILURE_TEXT = "Something went wrong on our side and nothing was changed. Please try again."
GUILD_ONLY_TEXT = "qotd works in server channels, not in direct messages."


class Bridge:
    def __init__(self, core: CoreHandle, outbound: DiscordOutbound, *, defer_after: float) -> None:
        self.core = core
        self.outbound = outbound
        self.defer_after = defer_after
        self._zones: list[str] | None = None
        # discord.py runs each event handler as its own task, so a user's quick A-then-B
        # could reach the core as B-then-A. One lock per (message, user), taken before
        # the first await, keeps their reactions in gateway order.
        self._order: dict[tuple[int, int], tuple[asyncio.Lock, int]] = {}

    # -- inputs --------------------------------------------------------------------------

    async def command(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        subcommand: str | None = None,
        *,
        likely_ephemeral: bool = True,
        user: discord.abc.User | None = None,
        **options: object,
    ) -> bool:
        """Answer a slash command; True when the core accepted it (no error reply)."""
        channel_id = home_channel_id(interaction)
        if interaction.guild_id is None or channel_id is None:
            await self._deliver(interaction, _ready([error(GUILD_ONLY_TEXT)]), True)
            return False
        command = CommandInput(
            name=name,
            subcommand=subcommand,
            actor=actor(
                interaction.user.id,
                interaction.user.display_name,
                interaction.permissions.value,
            ),
            channel=channel_ref(interaction.guild_id, channel_id),
            options={k: str(v) for k, v in options.items() if v is not None and v != ""},
            user=UserRef(str(user.id), user.display_name) if user is not None else None,
        )
        replies = await self._deliver(
            interaction, self.core.handle_command(command), likely_ephemeral
        )
        return not any(r.message.tone == "error" for r in replies)

    async def button(self, interaction: discord.Interaction[Any], action: str) -> None:
        channel_id = home_channel_id(interaction)
        if interaction.guild_id is None or channel_id is None:
            await self._deliver(interaction, _ready([error(GUILD_ONLY_TEXT)]), True)
            return
        pressed = ButtonInput(
            actor=actor(
                interaction.user.id,
                interaction.user.display_name,
                interaction.permissions.value,
            ),
            channel=channel_ref(interaction.guild_id, channel_id),
            action=action,
            message_id=str(interaction.message.id) if interaction.message else None,
        )
        await self._deliver(interaction, self.core.handle_button(pressed), True)

    async def reaction(
        self,
        payload: discord.RawReactionActionEvent,
        *,
        added: bool,
        own_id: int | None,
        display_name: str | None,
    ) -> None:
        """Raw reaction events work for uncached messages and after restarts. The bot's own
        reactions and emoji that map to no key are ignored."""
        if payload.guild_id is None or payload.user_id == own_id:
            return
        if payload.member is not None and payload.member.bot:
            return  # other bots (a poll or moderation bot, say) are not players
        key = key_for(payload.emoji.name) if payload.emoji.id is None else None
        if key is None:
            return
        reaction = ReactionInput(
            actor=actor(payload.user_id, display_name),
            channel=channel_ref(payload.guild_id, payload.channel_id),
            message_id=str(payload.message_id),
            key=key,
            added=added,
        )
        slot = (payload.message_id, payload.user_id)
        lock, users = self._order.get(slot, (asyncio.Lock(), 0))
        self._order[slot] = (lock, users + 1)
        try:
            async with lock:
                replies = await self.core.handle_reaction(reaction)
        except Exception:
            log.exception("the core failed on a reaction in channel %s", payload.channel_id)
            return
        finally:
            lock, users = self._order[slot]
            if users <= 1:
                del self._order[slot]
            else:
                self._order[slot] = (lock, users - 1)
        for index, reply in enumerate(replies):
            if reply.visibility == "public":
                await self.outbound.post(
                    reaction.channel,
                    reply.message,
                    idempotency_key=f"reaction:{payload.message_id}:{payload.user_id}:{key}:{index}",
                )
            else:
                # Discord has no ephemeral messages outside interactions and an unasked DM
                # for every reaction would be noise.
                log.debug("ephemeral reply to a reaction not shown: %s", reply.message.title)

    async def warn_missing_permissions(self, interaction: discord.Interaction[Any]) -> None:
        """After a schedule, tell the admin privately which of the bot's permissions this
        channel denies: otherwise the first sign would be a silent missed post."""
        missing = missing_permissions(interaction.app_permissions.value)
        if not missing or not interaction.response.is_done():
            return
        text = (
            "Heads-up: in this channel the bot lacks " + ", ".join(missing)
            + ". Posts, reactions or the answer thread will fail until a server admin "
            "grants them (channel settings > Permissions)."
        )
        await interaction.followup.send(
            embed=discord.Embed(description=text, color=render.COLOURS["error"]),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # -- autocomplete --------------------------------------------------------------------

    def timezones(self, current: str) -> list[str]:
        if self._zones is None:
            self._zones = sorted(zoneinfo.available_timezones())
        needle = current.strip().lower().replace(" ", "_")
        starts = [z for z in self._zones if z.lower().startswith(needle)]
        contains = [z for z in self._zones if needle in z.lower() and z not in starts]
        return (starts + contains)[:AUTOCOMPLETE_LIMIT]

    async def topics(self, current: str) -> list[str]:
        """Completes the last item of a comma list ("mlops, moni" -> "mlops, monitoring")."""
        head, _, last = current.rpartition(",")
        prefix = f"{head.strip()}, " if head.strip() else ""
        chosen = {part.strip().lower() for part in head.split(",") if part.strip()}
        needle = last.strip().lower()
        try:
            # Discord drops autocomplete answers after 3 s: a slow database gives nothing
            # rather than an error the user never sees.
            known = await asyncio.wait_for(self.core.topic_names(), AUTOCOMPLETE_SECONDS)
        except Exception:
            log.warning("topic autocomplete gave up (the database is slow or failing)")
            known = []
        names = [n for n in known if needle in n.lower() and n.lower() not in chosen]
        names.sort(key=lambda n: (not n.lower().startswith(needle), n.lower()))
        return [f"{prefix}{n}"[:100] for n in names][:AUTOCOMPLETE_LIMIT]

    # -- replies -------------------------------------------------------------------------

    async def _deliver(
        self,
        interaction: discord.Interaction[Any],
        work: Awaitable[list[Reply]],
        likely_ephemeral: bool,
    ) -> list[Reply]:
        task = asyncio.ensure_future(work)
        done: set[asyncio.Future[list[Reply]]] = set()
        if self.defer_after > 0:  # 0 means always defer (e.g. a far-away database)
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        deferred: bool | None = None  # the deferred message's ephemerality, if deferred
        if not done:
            await interaction.response.defer(ephemeral=likely_ephemeral, thinking=True)
            deferred = likely_ephemeral
        try:
            replies = await task
        except Exception:
            log.exception("the core failed on interaction %s", interaction.id)
            replies = [error(FAILURE_TEXT)]
        if not replies:
            replies = [Reply("ephemeral", OutMessage(tone="info", body="Done."))]
        first = True
        for reply in replies:
            ephemeral = reply.visibility == "ephemeral"
            pages = render.embeds(reply.message)
            for index, page in enumerate(pages):
                embed = discord.Embed.from_dict(page)
                view = view_for(reply.message.buttons) if index == len(pages) - 1 else None
                if first and deferred is None:
                    await interaction.response.send_message(
                        embed=embed, view=view or discord.utils.MISSING,
                        ephemeral=ephemeral, allowed_mentions=NO_MENTIONS,
                    )
                elif first and deferred == ephemeral:
                    await interaction.edit_original_response(
                        embed=embed, view=view, allowed_mentions=NO_MENTIONS
                    )
                else:
                    if first:
                        # A deferred reply keeps the visibility it was deferred with; when the
                        # core's answer differs, replace it rather than leak or hide it.
                        await interaction.delete_original_response()
                    await interaction.followup.send(
                        embed=embed, view=view or discord.utils.MISSING,
                        ephemeral=ephemeral, allowed_mentions=NO_MENTIONS,
                    )
                first = False
        return replies


def home_channel_id(interaction: discord.Interaction[Any]) -> int | None:
    """The channel a command is about: in a thread (the reveal thread, say) that is the
    channel the thread hangs off, where the schedule and the posts live."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id
    return interaction.channel_id


async def _ready(replies: list[Reply]) -> list[Reply]:
    return replies
