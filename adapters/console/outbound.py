"""The console's Outbound: every call becomes a transcript entry (what the REPL prints
and what the core's tests assert on). Like the real adapters it de-duplicates sends by
idempotency key, so a retried claim shows up once here too.

Message ids are `m1`, `m2`... after an optional `prefix`. The core stores them and finds
a post by its id when someone reacts, so a console whose database outlives it (`qotd
run`, `qotd console --db`) needs a prefix of its own per start: a second start counting
from m1 again would send reactions to the first start's posts. The REPL shows the ids
without the prefix (`shown`).

A direct message (`send_direct`, the review nudge) is an entry of kind "direct" whose
`channel` is the person's DM with the bot (`dm_channel`: channel id `@user`) and whose
`user_id` is the person. Attachments (a chart) are shown by their alt text
(adapters.console.render); with `files_dir` set (`QOTD_CONSOLE_FILES`) the console also
writes each file there (adapters.console.files), so a chart can be opened."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.console.files import save_attachments
from adapters.console.render import render
from bot.boundary import ChannelRef, DirectRef, OutMessage


def dm_channel(person: DirectRef) -> ChannelRef:
    """The console's stand-in for the person's direct-message channel with the bot."""
    return ChannelRef(person.platform, person.workspace_id, f"@{person.user_id}")


@dataclass(frozen=True)
class Entry:
    kind: str  # "post" | "thread" | "ephemeral" | "direct" | "reactions" | "edit" | "delete"
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
    def __init__(self, prefix: str = "", *, files_dir: Path | None = None) -> None:
        self.prefix = prefix
        self.files_dir = files_dir
        self.saved: list[Path] = []  # attachment files written to files_dir, in order
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
        self._save(message_id, message)
        # buttons are part of the post; its seed reactions are not: the core adds them
        # with add_reactions once the post is marked sent (issue 16)
        self.transcript.append(Entry("post", channel, message_id, message))
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
        message_id = self._next_id()
        self._save(message_id, message)
        self.transcript.append(Entry("ephemeral", channel, message_id, message, user_id=user_id))

    async def send_direct(self, person: DirectRef, message: OutMessage, *,
                          idempotency_key: str, resend: bool = False) -> str:
        """A DM to `person`: shown as "(direct message to NAME)"; the same key twice is
        one message, as on the platforms."""
        if idempotency_key in self._sent:
            return self._sent[idempotency_key]
        message_id = self._next_id()
        self._sent[idempotency_key] = message_id
        self._save(message_id, message)
        self.transcript.append(
            Entry("direct", dm_channel(person), message_id, message, user_id=person.user_id)
        )
        return message_id

    def save_files(self, message_id: str, message: OutMessage) -> list[Path]:
        """Write the message's attachments to `files_dir` (none when it is unset)."""
        return self._save(message_id, message)

    def _save(self, message_id: str, message: OutMessage) -> list[Path]:
        if self.files_dir is None or not message.attachments:
            return []
        paths = save_attachments(self.files_dir, self.shown(message_id), message.attachments)
        self.saved.extend(paths)
        return paths

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

    def directs(self, user_id: str | None = None) -> list[Entry]:
        """The direct messages sent, to one person or to everyone."""
        return [
            e for e in self.transcript
            if e.kind == "direct" and (user_id is None or e.user_id == user_id)
        ]

    def threads(self, channel: ChannelRef | None = None) -> list[Entry]:
        return [
            e for e in self.transcript
            if e.kind == "thread" and (channel is None or e.channel == channel)
        ]
