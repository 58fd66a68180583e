"""The core's Outbound on Discord: posts, thread replies, reactions, edits, DMs.

Every create carries a nonce derived from the core's idempotency key with
`enforce_nonce`, so a create retried after a lost response (a timeout, a 5xx after the
fact) shows once. Server errors are retried here a few times on top of discord.py's own
429/5xx handling; the nonce makes that safe. Discord forgets a nonce after a few minutes
and never returns it on fetched messages, so a resend (the core retrying a claim after a
crash or a long outage) first looks in the recent history for the bot's own message with
the same title and text: a post's title carries its number, unique in the channel.

A post is one request (issue 16): its answer buttons go with the create as message
components, and `message.reactions` is not added here. In reactions mode the core seeds
them with `add_reactions` after it marked the post sent; those go through the same
limiter as every other call, one request per reaction, each retried on server errors.

A direct message (`send_direct`, the review nudge) opens the DM channel once per person
(POST /users/@me/channels, cached) and goes out like a post: nonce, enforce_nonce, no
mentions, the same pacing. Attachments are uploaded with the first page of a message
(multipart, `discord.File`, the alt text as the attachment's description) and its embed
shows the first image (`attachment://name`).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
import discord
from aiolimiter import AsyncLimiter

from adapters.discord import render
from adapters.discord.apology import failure_line
from adapters.discord.emoji import emoji_for
from adapters.discord.views import view_for
from bot.boundary import Attachment, ChannelRef, DirectRef, OutMessage

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
THREAD_ALREADY_EXISTS = 160004
HISTORY_LOOKBACK = 50  # messages read back before a resend
# a resent DM adopts only a copy this recent: a send is retried within the core's grace
# window (hours), while the same person's previous nudge is about a day older
DM_ADOPT_WINDOW = timedelta(hours=12)
GLOBAL_BURST = 2.0  # > 1: a late wake-up (asyncio timers overshoot) is absorbed, not lost
T = TypeVar("T")


class DiscordOutbound:
    def __init__(
        self, client: discord.Client, *, attempts: int = 3, backoff: float = 1.0,
        global_rate: float = 48.0,
    ) -> None:
        self._client = client
        self._attempts = max(1, attempts)
        self._backoff = backoff
        # A small bucket draining at the rate: a burst of at most BURST, then evenly
        # spaced, so no one-second window sees more than BURST + rate requests.
        burst = min(GLOBAL_BURST, max(1.0, global_rate))
        self._global = AsyncLimiter(burst, burst / global_rate)
        self._dm_channels: dict[int, int] = {}  # user id -> their DM channel with the bot

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        target = self._channel(channel, int(channel.channel_id))
        found = await self._already_sent(int(channel.channel_id), message) if resend else None
        return found or await self._send_pages(target, message, idempotency_key)

    async def reply_in_thread(
        self,
        channel: ChannelRef,
        parent_message_id: str,
        message: OutMessage,
        *,
        idempotency_key: str,
        resend: bool = False,
    ) -> str:
        thread_id = await self._thread_for(channel, int(parent_message_id), message)
        target = self._channel(channel, thread_id, discord.ChannelType.public_thread)
        found = await self._already_sent(thread_id, message) if resend else None
        return found or await self._send_pages(target, message, idempotency_key)

    async def send_ephemeral(self, channel: ChannelRef, user_id: str, message: OutMessage) -> None:
        """Outside an interaction Discord has no ephemeral messages: send a DM instead,
        and give up quietly when the member does not accept DMs from the server."""
        try:
            target = self._client.get_partial_messageable(await self.dm_channel(int(user_id)))
            for index, page in enumerate(render.embeds(message)):
                first = index == 0 and bool(message.attachments)
                await target.send(
                    embed=discord.Embed.from_dict(
                        render.with_image(page, message.attachments) if first else page),
                    files=files_for(message.attachments) if first else discord.utils.MISSING,
                    allowed_mentions=NO_MENTIONS,
                )
        except discord.Forbidden:
            log.info("user %s does not accept DMs; ephemeral message dropped", user_id)

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        """A DM, de-duplicated like a post: the nonce for a quick retry, a look at the
        DM's recent history on a resend. A DM has no number in its title, so yesterday's
        nudge can read the same as today's: only one sent within DM_ADOPT_WINDOW is
        adopted. A member who does not accept DMs makes this raise discord.Forbidden:
        the caller decides (the nudge backs off)."""
        channel_id = await self.dm_channel(int(person.user_id))
        target = self._client.get_partial_messageable(channel_id,
                                                      type=discord.ChannelType.private)
        since = datetime.now(UTC) - DM_ADOPT_WINDOW
        found = await self._already_sent(channel_id, message, since=since) if resend else None
        return found or await self._send_pages(target, message, idempotency_key)

    async def dm_channel(self, user_id: int) -> int:
        """The DM channel with `user_id`; Discord keeps one per person, so it is asked once."""
        known = self._dm_channels.get(user_id)
        if known is None:
            dm = await self._retry(lambda: self._client.http.start_private_message(user_id))
            known = self._dm_channels[user_id] = int(dm["id"])
        return known

    async def add_reactions(self, channel: ChannelRef, message_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            emoji = emoji_for(key)
            await self._retry(
                lambda emoji=emoji: self._client.http.add_reaction(  # type: ignore[misc]
                    int(channel.channel_id), int(message_id), emoji
                )
            )

    async def edit(self, channel: ChannelRef, message_id: str, message: OutMessage) -> None:
        target = self._channel(channel, int(channel.channel_id))
        pages = render.embeds(message)
        partial = target.get_partial_message(int(message_id))
        await self._retry(
            lambda: partial.edit(
                embed=discord.Embed.from_dict(render.with_image(pages[0], message.attachments)),
                # the message's files are the ones this message has (none: none)
                attachments=files_for(message.attachments),
                # Several pages cannot fit one message: keep the buttons already there
                # (MISSING leaves them; None would remove them). Only the first page is
                # shown; the core edits nothing that long today.
                view=view_for(message.buttons) if len(pages) == 1 else discord.utils.MISSING,
                allowed_mentions=NO_MENTIONS,
            )
        )

    async def delete(self, channel: ChannelRef, message_id: str, *,
                     parent_message_id: str | None = None) -> None:
        # a reply lives in the thread started from its post, whose id is the post's id
        where = int(parent_message_id or channel.channel_id)
        try:
            await self._retry(lambda: self._client.http.delete_message(where, int(message_id)))
        except discord.NotFound:
            log.info("message %s in %s is already gone", message_id, channel.channel_id)

    # -- helpers -------------------------------------------------------------------------

    def _channel(
        self, channel: ChannelRef, channel_id: int, kind: discord.ChannelType | None = None
    ) -> discord.PartialMessageable:
        return self._client.get_partial_messageable(
            channel_id, guild_id=int(channel.workspace_id), type=kind
        )

    async def _send_pages(
        self, target: discord.PartialMessageable, message: OutMessage, key: str
    ) -> str:
        pages = render.embeds(message)
        first_id = ""
        for index, page in enumerate(pages):
            last = index == len(pages) - 1
            view = view_for(message.buttons) if last else None
            files = message.attachments if index == 0 else ()
            if files:
                page = render.with_image(page, files)
            sent = await self._retry(
                # the files are made for each attempt: an upload reads its stream to the end
                lambda page=page, view=view, index=index, files=files: target.send(  # type: ignore[misc]
                    embed=discord.Embed.from_dict(page),
                    view=view,
                    files=files_for(files) if files else discord.utils.MISSING,
                    nonce=render.nonce(key, index),
                    allowed_mentions=NO_MENTIONS,
                )
            )
            if index == 0:
                first_id = str(sent.id)
        return first_id

    async def _already_sent(self, channel_id: int, message: OutMessage, *,
                            since: datetime | None = None) -> str | None:
        """The id of the bot's own recent message that starts like `message`, if any
        (sent at `since` or later, when given)."""
        first = render.embeds(message)[0]
        own = self._client.user.id if self._client.user else None
        recent = await self._retry(lambda: self._client.http.logs_from(channel_id, HISTORY_LOOKBACK))
        for existing in recent:
            embeds = existing.get("embeds") or []
            if (
                own is not None
                and int(existing["author"]["id"]) == own
                and embeds
                and embeds[0].get("title") == first.get("title")
                and embeds[0].get("description") == first.get("description")
                and (since is None or _sent_at(existing) >= since)
            ):
                log.info("message already in channel %s as %s; not sending again",
                         channel_id, existing["id"])
                return str(existing["id"])
        return None

    async def _thread_for(self, channel: ChannelRef, parent_id: int, message: OutMessage) -> int:
        """The thread started from the post; Discord gives it the post's id, so a thread
        created by an earlier attempt is simply reused."""
        try:
            await self._retry(
                lambda: self._client.http.start_thread_with_message(
                    int(channel.channel_id),
                    parent_id,
                    name=render.thread_name(message),
                    auto_archive_duration=1440,
                )
            )
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_EXISTS:
                raise
        return parent_id

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._global:
                    return await call()
            except (discord.DiscordServerError, aiohttp.ClientError, TimeoutError) as exc:
                if attempt == self._attempts:
                    raise
                log.warning(
                    "Discord call failed (%s), retry %d of %d",
                    failure_line(exc),
                    attempt,
                    self._attempts - 1,
                )
                await asyncio.sleep(self._backoff * attempt)
        raise AssertionError("unreachable")



def files_for(attachments: Sequence[Attachment]) -> list[discord.File]:
    """discord.py's upload objects for the core's attachments (fresh streams each call)."""
    return [
        discord.File(io.BytesIO(a.data), filename=render.attachment_name(a.filename, i),
                     description=a.alt_text[:render.ATTACHMENT_DESCRIPTION_LIMIT] or None)
        for i, a in enumerate(attachments)
    ]


def _sent_at(message: Mapping[str, object]) -> datetime:
    """When Discord says the message was sent (its `timestamp`; the epoch if unreadable,
    so an odd one is never adopted)."""
    try:
        when = datetime.fromisoformat(str(message.get("timestamp")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
