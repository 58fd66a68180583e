"""Discord events -> core inputs -> interaction responses. Translation only: every rule
about questions, scores or streaks lives in the core.

Interactions must be acknowledged within 3 seconds. Ack first (issue 16): by default
(`defer_after` 0) every command and button press is deferred at once, before the core
touches the database, and the reply follows as an edit of @original (or follow-ups).
Under load the core's answer time grows with the queue while a deferral is one
request that does not wait for it; interaction responses are not counted against the
bot's global rate limit, so the second request costs no budget. A positive
`defer_after` gives the core that long to answer with a single response first.

A press of a post's answer button (a vote: `bot.boundary.parse_vote_action`) is
deferred as a private reply (type 5, ephemeral) and answered privately, never as an
update: a type 6/7 would replace the public post everyone votes on. No press on a
public message is ever answered as an update.

A button's reply may be an "update" (a review session moving to its next card): it
replaces the message the button is on, with callback type 7 (UPDATE_MESSAGE) when
answered directly or, deferred, a deferred update (type 6) and a PATCH of @original,
which after a type 6 is that message. A press on a private message (a review card) is
therefore always deferred as an update: Discord then shows the press as pending on the
button itself, and replies of another visibility go out as follow-ups. An "update" to anything but a button
is shown as an ephemeral reply. Attachments go with the first page of their reply.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord import render
from adapters.discord.apology import (
    FAILURE_TEXT,
    REFUSED_TEXT,
    apologise,
    failure_line,
    interaction_ids,
)
from adapters.discord.outbound import NO_MENTIONS, DiscordOutbound, files_for
from adapters.discord.translate import (
    actor,
    button_action,
    channel_ref,
    missing_permissions,
    option_values,
    reaction_input,
    snowflake,
    user_ref,
)
from adapters.discord.views import view_for
from bot.boundary import (
    Attachment,
    ButtonInput,
    CommandInput,
    OutMessage,
    Reply,
    error,
    parse_vote_action,
)
from bot.plugins import CoreHandle
from bot.rules.schedule import search_timezones

log = logging.getLogger(__name__)

AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_SECONDS = 2.0  # Discord drops an autocomplete answer after 3 s
GUILD_ONLY_TEXT = "qotd works in server channels, not in direct messages."


class Bridge:
    """Each entry point (command, button, reaction) handles one event completely: an
    exception is logged once with the event's kind and ids, the user hears a short
    apology where a reply is possible, and nothing escapes into discord.py."""

    def __init__(self, core: CoreHandle, outbound: DiscordOutbound, *, defer_after: float,
                 core_concurrency: int = 32) -> None:
        self.core = core
        self.outbound = outbound
        self.defer_after = defer_after
        # At most this many interactions in the core at once; the others wait, acked,
        # without CPU. An unbounded crowd of core tasks on the one event loop would
        # queue the gateway reader (and so the next interactions' acks) behind them.
        self._core_slots = asyncio.Semaphore(max(1, core_concurrency))
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
        user: object = None,
        **options: object,
    ) -> bool:
        """Answer a slash command; True when the core accepted it (no error reply)."""
        label = f"/{name} {subcommand}" if subcommand else f"/{name}"
        try:
            return await self._command(interaction, name, subcommand, label,
                                       likely_ephemeral, user, options)
        except Exception as exc:
            await self._failed(interaction, label, exc)
            return False

    async def _command(
        self, interaction: discord.Interaction[Any], name: str, subcommand: str | None,
        label: str, likely_ephemeral: bool, user: object, options: dict[str, object],
    ) -> bool:
        where = await self._where(interaction, label)
        if where is None:
            return False
        guild_id, channel_id, user_id = where
        values, refused = option_values(options)
        target = None
        if user is not None:
            target = user_ref(getattr(user, "id", None), getattr(user, "display_name", None))
            if target is None:
                refused.append("user")
        if refused:
            log.warning("discord: refused %s: options of the wrong type (%s)%s", label,
                        ", ".join(refused), interaction_ids(interaction))
            text = (f"Discord sent {', '.join(refused)} with a value of the wrong type, so "
                    "nothing was changed. Please try again.")
            await self._deliver(interaction, [error(text)], True)
            return False
        command = CommandInput(
            name=name,
            subcommand=subcommand,
            actor=actor(user_id, _name(interaction), interaction.permissions.value),
            channel=channel_ref(guild_id, channel_id),
            options=values,
            user=target,
        )
        replies = await self._deliver(
            interaction, self.core.handle_command(command), likely_ephemeral, label
        )
        return not any(r.message.tone == "error" for r in replies)

    async def button(self, interaction: discord.Interaction[Any], action: str) -> None:
        try:
            await self._button(interaction, action)
        except Exception as exc:
            await self._failed(interaction, "a button", exc)

    async def _button(self, interaction: discord.Interaction[Any], action: str) -> None:
        where = await self._where(interaction, "a button")
        if where is None:
            return
        guild_id, channel_id, user_id = where
        checked = button_action(action)
        message_id = snowflake(interaction.message.id) if interaction.message else None
        if checked is None:
            log.warning("discord: refused a button with an unreadable action (%d characters)%s",
                        len(action), interaction_ids(interaction))
            await self._deliver(interaction, [error(REFUSED_TEXT)], True)
            return
        pressed = ButtonInput(
            actor=actor(user_id, _name(interaction), interaction.permissions.value),
            channel=channel_ref(guild_id, channel_id),
            action=checked,
            message_id=str(message_id) if message_id is not None else None,
        )
        # A vote is answered privately, whatever the core's visibility: an update (type
        # 6/7) would replace the public post everyone votes on. Only a private message
        # (a review card) is ever updated by a press; on a public one an "update" reply
        # is shown as a private reply too.
        vote = parse_vote_action(checked) is not None
        private = interaction.message is not None and interaction.message.flags.ephemeral
        await self._deliver(interaction, self.core.handle_button(pressed), True,
                            "a vote" if vote else "a button", button=private and not vote)

    async def _where(self, interaction: discord.Interaction[Any], label: str
                     ) -> tuple[int, int, int] | None:
        """(guild, channel, user) as snowflakes, or None after telling the user why not:
        a DM (the bot works in servers), ids no Discord id can be, or an interaction of
        another application (its replies would go to a webhook that is not ours)."""
        own = getattr(interaction.client, "application_id", None)
        if own is not None and interaction.application_id != own:
            log.warning("discord: refused %s: an interaction of another application%s",
                        label, interaction_ids(interaction))
            await self._deliver(interaction, [error(REFUSED_TEXT)], True)
            return None
        raw_channel = home_channel_id(interaction)
        if interaction.guild_id is None or raw_channel is None:
            await self._deliver(interaction, [error(GUILD_ONLY_TEXT)], True)
            return None
        ids = (snowflake(interaction.guild_id), snowflake(raw_channel),
               snowflake(getattr(interaction.user, "id", None)))
        if any(i is None for i in ids):
            log.warning("discord: refused %s: ids out of range", label)
            await self._deliver(interaction, [error(REFUSED_TEXT)], True)
            return None
        guild_id, channel_id, user_id = ids
        assert guild_id is not None and channel_id is not None and user_id is not None
        return guild_id, channel_id, user_id

    async def _failed(self, interaction: discord.Interaction[Any], label: str,
                      exc: Exception) -> None:
        """One log line for an interaction that could not be answered (a traceback only
        when it is not Discord refusing the answer), then the apology."""
        log.error("discord: answering %s failed (%s)%s", label, failure_line(exc),
                  interaction_ids(interaction),
                  exc_info=None if isinstance(exc, discord.HTTPException) else exc)
        await apologise(interaction)

    async def reaction(
        self,
        payload: discord.RawReactionActionEvent,
        *,
        added: bool,
        own_id: int | None,
        names: Callable[[int], str | None],
    ) -> None:
        """Raw reaction events work for uncached messages and after restarts. The bot's own
        reactions, other bots', and emoji that map to no key are ignored."""
        try:
            await self._reaction(payload, added, own_id, names)
        except Exception:
            log.exception("discord: handling a reaction failed guild=%s channel=%s message=%s "
                          "user=%s", payload.guild_id, payload.channel_id, payload.message_id,
                          payload.user_id)

    async def _reaction(self, payload: discord.RawReactionActionEvent, added: bool,
                        own_id: int | None, names: Callable[[int], str | None]) -> None:
        if payload.user_id == own_id:
            return
        if payload.member is not None and payload.member.bot:
            return  # other bots (a poll or moderation bot, say) are not players
        display_name = (payload.member.display_name if payload.member is not None
                        else names(payload.user_id))
        reaction = reaction_input(
            guild_id=payload.guild_id, channel_id=payload.channel_id,
            message_id=payload.message_id, user_id=payload.user_id,
            emoji_id=payload.emoji.id, emoji_name=payload.emoji.name, added=added,
            display_name=display_name,
        )
        if reaction is None:
            return
        slot = (payload.message_id, payload.user_id)
        lock, users = self._order.get(slot, (asyncio.Lock(), 0))
        self._order[slot] = (lock, users + 1)
        try:
            async with lock:
                replies = await self.core.handle_reaction(reaction)
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
                    idempotency_key=f"reaction:{payload.message_id}:{payload.user_id}:"
                    f"{reaction.key}:{index}",
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

    def timezones(self, current: object) -> list[str]:
        """The core's search: it never offers a name `/qotd schedule` would refuse."""
        return search_timezones(str(current or "")[:100], AUTOCOMPLETE_LIMIT)

    async def topics(self, current: object) -> list[str]:
        """Completes the last item of a comma list ("mlops, moni" -> "mlops, monitoring")."""
        head, _, last = str(current or "")[:100].rpartition(",")
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
        work: Awaitable[list[Reply]] | list[Reply],
        likely_ephemeral: bool,
        label: str = "an interaction",
        *,
        button: bool = False,
    ) -> list[Reply]:
        """Answer with the core's replies (`work`), deferring first unless they come
        within `defer_after`; replies already known (a refusal here) go out at once."""
        if isinstance(work, list):
            return await self._answer(interaction, work, None, button)
        deferred: bool | str | None
        if self.defer_after <= 0:
            # Ack first, and only then let the core work: if Discord refuses the ack
            # (the interaction is gone), nothing is changed behind the user's back. A
            # vote recorded while the member saw "This interaction failed" would be
            # withdrawn by the press they retry with.
            try:
                deferred = await self._defer(interaction, likely_ephemeral, button)
            except BaseException:
                if inspect.iscoroutine(work):
                    work.close()
                raise
            task: asyncio.Future[list[Reply]] = asyncio.ensure_future(self._in_core(work))
        else:
            task = asyncio.ensure_future(self._in_core(work))
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
            # None: answered directly, not deferred
            deferred = None if done else await self._defer(interaction, likely_ephemeral,
                                                           button)
        try:
            replies = await task
        except Exception:
            log.exception("discord: the core failed on %s%s", label,
                          interaction_ids(interaction))
            replies = [error(FAILURE_TEXT)]
        return await self._answer(interaction, replies, deferred, button)

    async def _in_core(self, work: Awaitable[list[Reply]]) -> list[Reply]:
        async with self._core_slots:
            return await work

    @staticmethod
    async def _defer(interaction: discord.Interaction[Any], likely_ephemeral: bool,
                     button: bool) -> bool | str:
        """Acknowledge now; what the deferral promised: "update" (type 6, the button's
        message is @original) or the visibility of a deferred reply (type 5)."""
        if button:
            await interaction.response.defer()  # type 6 for a component
            return "update"
        await interaction.response.defer(ephemeral=likely_ephemeral, thinking=True)
        return likely_ephemeral

    async def _answer(self, interaction: discord.Interaction[Any], replies: list[Reply],
                      deferred: bool | str | None, button: bool) -> list[Reply]:
        if not replies:
            replies = [Reply("ephemeral", OutMessage(tone="info", body="Done."))]
        if button:  # the update first: after it, @original is still the button's message
            replies = sorted(replies, key=lambda r: r.visibility != "update")
        first = True
        for reply in replies:
            update = reply.visibility == "update" and button
            ephemeral = reply.visibility != "public"
            pages = render.embeds(reply.message)
            for index, page in enumerate(pages):
                files = reply.message.attachments if index == 0 else ()
                embed = discord.Embed.from_dict(render.with_image(page, files))
                # the buttons go under the last page; an update's on the message it updates
                last = index == (0 if update else len(pages) - 1)
                view = view_for(reply.message.buttons) if last else None
                if update and index == 0:
                    await self._update(interaction, embed, view, files, deferred, first)
                elif first and deferred is None:
                    await interaction.response.send_message(
                        embed=embed, view=view or discord.utils.MISSING,
                        files=files_for(files) if files else discord.utils.MISSING,
                        ephemeral=ephemeral, allowed_mentions=NO_MENTIONS,
                    )
                elif first and isinstance(deferred, bool) and deferred == ephemeral:
                    await interaction.edit_original_response(
                        embed=embed, view=view, allowed_mentions=NO_MENTIONS,
                        attachments=files_for(files) if files else discord.utils.MISSING,
                    )
                else:
                    if first and deferred is not None and deferred != "update":
                        # A deferred reply keeps the visibility it was deferred with; when the
                        # core's answer differs, replace it rather than leak or hide it.
                        await interaction.delete_original_response()
                    await interaction.followup.send(
                        embed=embed, view=view or discord.utils.MISSING,
                        files=files_for(files) if files else discord.utils.MISSING,
                        ephemeral=ephemeral, allowed_mentions=NO_MENTIONS,
                    )
                first = False
        return replies

    async def _update(self, interaction: discord.Interaction[Any], embed: discord.Embed,
                      view: discord.ui.View | None, files: tuple[Attachment, ...],
                      deferred: bool | str | None, first: bool) -> None:
        """Replace the pressed button's message, buttons and files included (no buttons:
        none left; its old files go). Pages past the first follow privately."""
        attachments = files_for(files)
        if first and deferred is None:
            await interaction.response.edit_message(
                embed=embed, view=view, attachments=attachments, allowed_mentions=NO_MENTIONS,
            )
        else:
            # after a type 6 (or the type 7 of an earlier reply) @original is the message
            await interaction.edit_original_response(
                embed=embed, view=view, attachments=attachments, allowed_mentions=NO_MENTIONS,
            )


def home_channel_id(interaction: discord.Interaction[Any]) -> int | None:
    """The channel a command is about: in a thread (the reveal thread, say) that is the
    channel the thread hangs off, where the schedule and the posts live."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id
    return interaction.channel_id


def _name(interaction: discord.Interaction[Any]) -> str | None:
    name = getattr(interaction.user, "display_name", None)
    return name if isinstance(name, str) else None


