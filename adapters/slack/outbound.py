"""The core's Outbound for Slack: posts, thread replies, ephemerals, reactions, edits.

A post is one request: its answer buttons are an `actions` block (adapters.slack.blocks)
and its seed reactions, in reactions mode, are the core's own later step
(`add_reactions`, paced per workspace at reactions.add's Tier 3), never part of the send.

A post carries message metadata naming the core's idempotency key. Before sending, the
channel's recent history (or the thread, for replies) is searched for that key, so a post
retried after a crash or a lost response shows up once. chat.postMessage is paced per
channel; its 429s are retried by the posting client (Retry-After), while a 5xx or a dropped
connection is retried here, only after the key was looked for again.

A direct message (`send_direct`, the review nudge) goes to the person's IM channel with
the bot (conversations.open, cached per person) exactly like a post: metadata key, the
history check on a resend, the same pacing. A message's attachments are uploaded after
it (adapters.slack.files: the upload v2 flow) into the same channel; a resend that
finds the message already there uploads nothing again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import files
from adapters.slack.blocks import fallback_text, render_blocks
from adapters.slack.emoji import emoji_for
from adapters.slack.pacing import ChannelPacer, WorkspacePacer
from bot.boundary import ChannelRef, DirectRef, OutMessage
from bot.service.errors import error_code

log = logging.getLogger(__name__)

METADATA_EVENT = "qotd_post"
REACTIONS_PER_MINUTE = 50  # reactions.add: Tier 3
REACTIONS_BURST = 10  # "bursts welcome": one post's seeds at once, the tier on average

TokenFor = Callable[[str], Awaitable[str | None]]
"""team id -> bot token (None: use the client's own token)."""


def metadata_for(key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"post_key": key}}


def _carries(message: dict[str, Any], key: str) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return bool(meta.get("event_type") == METADATA_EVENT and payload.get("post_key") == key)


class SlackOutbound:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        token_for: TokenFor,
        pacer: ChannelPacer,
        reaction_pacer: WorkspacePacer | None = None,
        history_window: int = 50,
        post_client: AsyncWebClient | None = None,
        post_attempts: int = 4,
        retry_pause: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._post_client = post_client or client
        self._token_for = token_for
        self._pacer = pacer
        self._reaction_pacer = reaction_pacer or WorkspacePacer(
            REACTIONS_PER_MINUTE, burst=REACTIONS_BURST
        )
        self._window = history_window
        self._attempts = max(1, post_attempts)
        self._pause = retry_pause
        self._sleep = sleep
        self._ims: dict[tuple[str, str], str] = {}  # (team, user) -> their IM channel

    async def _auth(self, channel: ChannelRef) -> dict[str, Any]:
        token = await self._token_for(channel.workspace_id)
        return {"token": token} if token else {}

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        auth = await self._auth(channel)
        ts = await self._already_posted(channel, idempotency_key, auth) if resend else None
        if ts is None:
            ts = await self._send_once(channel, message, idempotency_key, auth)
            await self._upload(channel, message, auth)
        else:
            log.info(
                "post %s already in %s as %s; not sending again",
                idempotency_key,
                channel.channel_id,
                ts,
            )
        # One request per post: a post's seed reactions (reactions mode) are the core's
        # separate step after mark-sent (add_reactions); buttons are in the blocks.
        return ts

    async def reply_in_thread(
        self,
        channel: ChannelRef,
        parent_message_id: str,
        message: OutMessage,
        *,
        idempotency_key: str,
        resend: bool = False,
    ) -> str:
        auth = await self._auth(channel)
        ts = (
            await self._already_replied(channel, parent_message_id, idempotency_key, auth)
            if resend
            else None
        )
        if ts is None:
            ts = await self._send_once(
                channel, message, idempotency_key, auth, thread_ts=parent_message_id
            )
        return ts

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        """A DM in the person's IM channel, de-duplicated like a post."""
        auth = await self._auth(ChannelRef(person.platform, person.workspace_id, ""))
        channel = ChannelRef(person.platform, person.workspace_id,
                             await self.im_channel(person, auth))
        ts = await self._already_posted(channel, idempotency_key, auth) if resend else None
        if ts is not None:
            log.info("direct message %s already sent as %s; not sending again",
                     idempotency_key, ts)
            return ts
        ts = await self._send_once(channel, message, idempotency_key, auth)
        await self._upload(channel, message, auth)
        return ts

    async def im_channel(self, person: DirectRef, auth: dict[str, Any]) -> str:
        key = (person.workspace_id, person.user_id)
        known = self._ims.get(key)
        if known is None:
            known = self._ims[key] = await files.open_im(self._client, person.user_id, auth)
        return known

    async def _upload(self, channel: ChannelRef, message: OutMessage, auth: dict[str, Any],
                      thread_ts: str | None = None) -> None:
        if message.attachments:
            await self._pacer.wait_turn(f"{channel.workspace_id}/{channel.channel_id}")
            await files.upload(self._client, channel.channel_id, message.attachments, auth,
                               thread_ts=thread_ts)

    async def _rendered(self, channel: ChannelRef, message: OutMessage) -> dict[str, Any]:
        """What every Web API call that shows a message carries: the blocks, the
        notification fallback text, the channel and the workspace's token."""
        return {
            "channel": channel.channel_id,
            "text": fallback_text(message),
            "blocks": render_blocks(message),
            **await self._auth(channel),
        }

    async def send_ephemeral(self, channel: ChannelRef, user_id: str, message: OutMessage) -> None:
        await self._client.chat_postEphemeral(user=user_id, **await self._rendered(channel, message))

    async def add_reactions(
        self, channel: ChannelRef, message_id: str, keys: Sequence[str]
    ) -> None:
        """The core's seeding step (reactions mode), paced per workspace at
        reactions.add's tier; a seed already there counts as added."""
        await self._react(channel, message_id, keys, await self._auth(channel))

    async def edit(self, channel: ChannelRef, message_id: str, message: OutMessage) -> None:
        await self._client.chat_update(ts=message_id, **await self._rendered(channel, message))

    async def delete(self, channel: ChannelRef, message_id: str, *,
                     parent_message_id: str | None = None) -> None:
        try:
            await self._client.chat_delete(channel=channel.channel_id, ts=message_id,
                                           **await self._auth(channel))
        except SlackApiError as err:
            if err.response.get("error") != "message_not_found":
                raise

    async def _already_posted(
        self, channel: ChannelRef, key: str, auth: dict[str, Any]
    ) -> str | None:
        resp = await self._client.conversations_history(
            channel=channel.channel_id, limit=self._window, include_all_metadata=True, **auth
        )
        for existing in resp.get("messages") or []:
            if _carries(existing, key):
                return str(existing["ts"])
        return None

    async def _already_replied(
        self, channel: ChannelRef, parent: str, key: str, auth: dict[str, Any]
    ) -> str | None:
        resp = await self._client.conversations_replies(
            channel=channel.channel_id, ts=parent, include_all_metadata=True, limit=200, **auth
        )
        for existing in resp.get("messages") or []:
            if _carries(existing, key):
                return str(existing["ts"])
        return None

    async def _send_once(
        self,
        channel: ChannelRef,
        message: OutMessage,
        key: str,
        auth: dict[str, Any],
        *,
        thread_ts: str | None = None,
    ) -> str:
        """Send, retrying failures whose outcome is unknown only after looking for the key."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._send(channel, message, key, auth, thread_ts=thread_ts)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as err:
                if isinstance(err, SlackApiError) and err.response.status_code < 500:
                    raise
                if attempt == self._attempts:
                    raise
                log.warning(
                    "posting %s failed (%s); checking before retrying", key, error_code(err)
                )
                await self._sleep(self._pause * attempt)
                found = (
                    await self._already_replied(channel, thread_ts, key, auth)
                    if thread_ts
                    else await self._already_posted(channel, key, auth)
                )
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    async def _send(
        self,
        channel: ChannelRef,
        message: OutMessage,
        key: str,
        auth: dict[str, Any],
        *,
        thread_ts: str | None = None,
    ) -> str:
        await self._pacer.wait_turn(f"{channel.workspace_id}/{channel.channel_id}")
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        resp = await self._post_client.chat_postMessage(
            channel=channel.channel_id,
            text=fallback_text(message),
            blocks=render_blocks(message),
            metadata=metadata_for(key),
            unfurl_links=False,
            unfurl_media=False,
            **extra,
            **auth,
        )
        return str(resp["ts"])

    async def _react(
        self, channel: ChannelRef, ts: str, keys: Sequence[str], auth: dict[str, Any]
    ) -> None:
        for key in keys:
            await self._reaction_pacer.wait_turn(channel.workspace_id)
            try:
                await self._client.reactions_add(
                    channel=channel.channel_id, timestamp=ts, name=emoji_for(key), **auth
                )
            except SlackApiError as err:
                # A retried post finds its reactions already there; that is the goal, not an error.
                if err.response.get("error") != "already_reacted":
                    raise
