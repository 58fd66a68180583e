"""The console's Outbound: every call becomes a transcript entry (what the REPL prints
and what the core's tests assert on). Like the real adapters it de-duplicates sends by
idempotency key, so a retried claim shows up once here too.

Message ids are `m1`, `m2`... after an optional `prefix`. The core stores them and finds
a post by its id when someone reacts, so a console whose database outlives it (`qotd
run`, `qotd console --db`) needs a prefix of its own per start: a second start counting
from m1 again would send reactions to the first start's posts. The REPL shows the ids
without the prefix (`shown`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.console.render import render
from bot.boundary import ChannelRef, OutMessage


@dataclass(frozen=True)
class Entry:
    kind: str  # "post" | "thread" | "ephemeral" | "reactions" | "edit" | "delete"
    channel: ChannelRef
    message_id: str
    message: OutMessage | None = None
    parent_id: str | None = None
    user_id: str | None = None
    keys: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return render(self.message) if self.message is not None else ""


class ConsoleOutbound:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.transcript: list[Entry] = []
        self._ids = itertools.count(1)
        self._sent: dict[str, str] = {}  # idempotency key -> message id

    def _next_id(self) -> str:
        return f"{self.prefix}m{next(self._ids)}"

    def shown(self, message_id: str) -> str:
        """The id as the REPL prints it (and as a user types it back)."""
        return message_id.removeprefix(self.prefix)

    async def post(self, channel: ChannelRef, message: OutMessage, *, idempotency_key: str,
                   resend: bool = False) -> str:
        if idempotency_key in self._sent:
            return self._sent[idempotency_key]
        message_id = self._next_id()
        self._sent[idempotency_key] = message_id
        self.transcript.append(Entry("post", channel, message_id, message))
        if message.reactions:
            self.transcript.append(
                Entry("reactions", channel, message_id, keys=tuple(message.reactions))
            )
        return message_id

    async def reply_in_thread(
        self,
        channel: ChannelRef,
        parent_message_id: str,
        message: OutMessage,
        *,
        idempotency_key: str,
        resend: bool = False,
    ) -> str:
        if idempotency_key in self._sent:
            return self._sent[idempotency_key]
        message_id = self._next_id()
        self._sent[idempotency_key] = message_id
        self.transcript.append(
            Entry("thread", channel, message_id, message, parent_id=parent_message_id)
        )
        return message_id

    async def send_ephemeral(self, channel: ChannelRef, user_id: str, message: OutMessage) -> None:
        self.transcript.append(
            Entry("ephemeral", channel, self._next_id(), message, user_id=user_id)
        )

    async def add_reactions(
        self, channel: ChannelRef, message_id: str, keys: Sequence[str]
    ) -> None:
        self.transcript.append(Entry("reactions", channel, message_id, keys=tuple(keys)))

    async def edit(self, channel: ChannelRef, message_id: str, message: OutMessage) -> None:
        self.transcript.append(Entry("edit", channel, message_id, message))

    async def delete(self, channel: ChannelRef, message_id: str, *,
                     parent_message_id: str | None = None) -> None:
        self.transcript.append(Entry("delete", channel, message_id, parent_id=parent_message_id))

    def posts(self, channel: ChannelRef | None = None) -> list[Entry]:
        return [
            e for e in self.transcript
            if e.kind == "post" and (channel is None or e.channel == channel)
        ]

    def threads(self, channel: ChannelRef | None = None) -> list[Entry]:
        return [
            e for e in self.transcript
            if e.kind == "thread" and (channel is None or e.channel == channel)
        ]
