"""The one outbound interface every adapter implements, and the router that picks one.

The core never knows which platform it talks to: it hands a ChannelRef and an OutMessage
to the router, which forwards to the adapter registered for `channel.platform`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.boundary import ChannelRef, DirectRef, OutMessage


class Outbound(Protocol):
    """What the core asks of a platform. Ids are the platform's own message ids.

    `idempotency_key` is the core's claim (e.g. "post:42"): an adapter must make a retried
    send with the same key appear once (Discord: message nonce + enforce_nonce; Slack:
    message metadata checked against recent history). `resend` is True when an earlier
    attempt with this key may have reached the platform (a retry after a failure or a
    crash): an adapter that de-duplicates by looking needs to look only then, which
    spares rate-limited history reads on every first send.
    """

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        """Post publicly in the channel (buttons included, reactions NOT: the core seeds
        them with add_reactions after marking the post sent); return the message id."""
        ...

    async def reply_in_thread(
        self, channel: ChannelRef, parent_message_id: str, message: OutMessage, *,
        idempotency_key: str, resend: bool = False,
    ) -> str:
        """Reply in the thread of `parent_message_id` (creating the thread if needed)."""
        ...

    async def send_ephemeral(self, channel: ChannelRef, user_id: str, message: OutMessage) -> None:
        """Show a message to one user only (used outside of a direct command reply)."""
        ...

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        """Send a direct message (Discord DM, Slack IM) to one person, with its
        attachments; the same idempotency rules as `post`. Returns the message id."""
        ...

    async def add_reactions(self, channel: ChannelRef, message_id: str, keys: Sequence[str]) -> None: ...

    async def edit(self, channel: ChannelRef, message_id: str, message: OutMessage) -> None: ...

    async def delete(self, channel: ChannelRef, message_id: str, *,
                     parent_message_id: str | None = None) -> None:
        """Delete one of the bot's own messages: the extra copy a sender that lost its
        lease mid-request finds it made (the engine converges to one post). A thread
        reply names its parent post (Discord's thread is a channel of its own)."""
        ...


class NoAdapter(LookupError):
    pass


class OutboundRouter:
    """Routes each call to the adapter registered for the channel's platform."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Outbound] = {}

    def register(self, platform: str, outbound: Outbound) -> None:
        self._by_platform[platform] = outbound

    def unregister(self, platform: str) -> None:
        self._by_platform.pop(platform, None)

    def platforms(self) -> list[str]:
        return sorted(self._by_platform)

    def for_channel(self, channel: ChannelRef | DirectRef) -> Outbound:
        try:
            return self._by_platform[channel.platform]
        except KeyError:
            raise NoAdapter(f"no adapter is running for platform {channel.platform!r}") from None
