"""Keep one bad gateway frame from stopping the Discord client.

discord.py parses every dispatch in `ConnectionState.parsers` (event name -> parse
function) inside `DiscordWebSocket.received_message`; an exception there escapes
`poll_event`, and the shard worker turns any exception it does not know into
"terminate": the whole client closes. A dispatch that does not fit Discord's schema
(a non-numeric id, a reaction without its emoji, `d: null`) or a frame that is not
JSON at all must not do that. Two layers, both per client (nothing global is patched):

- each parser is wrapped: an exception is logged as ONE line (event type, exception
  type, the ids that are plain snowflakes; never payload text, no traceback) and the
  event is dropped. A READY that cannot be parsed is not dropped (the client would never
  be ready): it goes to the second layer, which identifies afresh.
- `received_message` of every websocket is wrapped: any other exception (undecodable
  frame, broken zlib stream, a HELLO without its interval) closes the socket with 4000,
  which keeps the session resumable, and asks the shard to RESUME, as Discord's own op 7
  does. Discord then replays what was missed. Repeated failures without a good event in
  between back off (1 s doubling to 60 s) so a broken peer is not hammered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from discord.gateway import DiscordWebSocket, ReconnectWebSocket
from discord.state import AutoShardedConnectionState

from adapters.discord.translate import SNOWFLAKE_MAX, snowflake

log = logging.getLogger(__name__)

_ID_FIELDS = ("guild_id", "channel_id", "message_id", "user_id", "id")
# Events that come with every (re)connection: parsing them says nothing about whether
# the events in between are readable, so they do not reset the backoff.
_SESSION_EVENTS = frozenset({"READY", "RESUMED", "GUILD_CREATE"})
BACKOFF_CAP = 60.0
# The events the bot acts on: their ids are checked before discord.py parses them,
# because `int()` takes what Discord never sends ("-5", "١٢٣", 30 digits) and would
# hand it on as a valid-looking id. (required, optional) top-level fields.
_CHECKED_IDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MESSAGE_REACTION_ADD": (("user_id", "channel_id", "message_id"), ("guild_id",)),
    "MESSAGE_REACTION_REMOVE": (("user_id", "channel_id", "message_id"), ("guild_id",)),
    "INTERACTION_CREATE": (("id", "application_id"), ("guild_id", "channel_id")),
}


class MalformedReady(Exception):
    """READY could not be parsed: the session must be identified again."""


def safe_ids(data: object) -> str:
    """` guild=1 channel=2 …` for the top-level ids that are plain snowflakes; anything
    else in the payload (text, garbage ids) stays out of the log."""
    if not isinstance(data, dict):
        return ""
    parts = []
    for key in _ID_FIELDS:
        value = data.get(key)
        if is_snowflake_text(value):
            parts.append(f" {key.removesuffix('_id') or 'id'}={value}")
    return "".join(parts)


def misfit(event: str, data: object) -> str | None:
    """The first id field of a checked event that is not a snowflake, if any."""
    rules = _CHECKED_IDS.get(event)
    if rules is None or not isinstance(data, dict):
        return None
    required, optional = rules
    for key in required:
        if not is_snowflake_text(data.get(key)):
            return key
    for key in optional:
        if data.get(key) is not None and not is_snowflake_text(data[key]):
            return key
    for holder in ("member", "user"):  # who acted: a member (servers) or a user (DMs)
        if data.get(holder) is None:
            continue
        inner = data[holder]
        if holder == "member":
            inner = inner.get("user") if isinstance(inner, dict) else None
        if not isinstance(inner, dict) or not is_snowflake_text(inner.get("id")):
            return f"{holder}.id" if isinstance(inner, dict) else holder
    return None


def is_snowflake_text(value: object) -> bool:
    return snowflake(value) is not None


class GuardedState(AutoShardedConnectionState[Any]):
    """The client's connection state with isolated parsers and guarded websockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for event, parse in list(self.parsers.items()):
            self.parsers[event] = self._isolated(event, parse)
        # a readable event since the last failure (any shard): the backoff starts over
        self.good_event = False
        self.failures: dict[int | None, int] = {}

    def _isolated(self, event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def parse_isolated(data: Any) -> None:
            field = misfit(event, data)
            if field is not None:
                log.warning("discord: dropped a gateway event that does not fit Discord's "
                            "schema: %s (%s is not a snowflake)%s", event, field, safe_ids(data))
                return
            try:
                parse(data)
            except Exception as exc:
                if event == "READY":
                    raise MalformedReady(_name(exc)) from exc
                log.warning(
                    "discord: dropped a gateway event that does not fit Discord's schema: "
                    "%s (%s)%s", event, _name(exc), safe_ids(data),
                )
                return
            if event not in _SESSION_EVENTS:
                self.good_event = True

        return parse_isolated

    def _update_references(self, ws: DiscordWebSocket) -> None:
        super()._update_references(ws)
        guard_websocket(ws, self)


def guard_websocket(ws: DiscordWebSocket, state: GuardedState) -> None:
    """Wrap this websocket's `received_message` (an instance attribute: poll_event looks
    it up on the instance, so only this client's sockets are affected)."""
    original = ws.received_message

    async def received_message(msg: Any, /) -> None:
        previous = ws.sequence
        try:
            await original(msg)
        except ReconnectWebSocket:
            raise  # discord.py's own reconnect request (op 7, op 9)
        except Exception as exc:
            await _reconnect(ws, state, exc)
        if not _valid_sequence(ws.sequence):
            # a frame with "s": "abc" would otherwise be echoed in every heartbeat and
            # make the next RESUME fail
            ws.sequence = previous

    ws.received_message = received_message  # type: ignore[method-assign]


def _name(exc: BaseException) -> str:
    """The exception's type for the log; zlib's bare `error` gets its module."""
    name = type(exc).__name__
    return f"{type(exc).__module__}.{name}" if name == "error" else name


def _valid_sequence(value: object) -> bool:
    return value is None or (type(value) is int and 0 <= value <= SNOWFLAKE_MAX)


async def _reconnect(ws: DiscordWebSocket, state: GuardedState, exc: Exception) -> None:
    shard = ws.shard_id
    if state.good_event:
        state.good_event = False
        state.failures.clear()
    failures = state.failures.get(shard, 0) + 1
    state.failures[shard] = failures
    ready = isinstance(exc, MalformedReady)
    what = "a READY it cannot parse" if ready else "a gateway frame it cannot read"
    action = "identifying again" if ready else "resuming"
    delay = 0.0 if failures == 1 else min(BACKOFF_CAP, 2.0 ** (failures - 2))
    cause = str(exc) if ready else _name(exc)
    log.warning("discord: shard %s got %s (%s); %s%s", shard, what, cause, action,
                f" in {delay:.0f} s" if delay else "")
    # 4000 (not 1000) keeps the session resumable; discord.py's close also stops the
    # heartbeat thread of this socket.
    await ws.close(code=4000)
    if delay:
        await asyncio.sleep(delay)
    raise ReconnectWebSocket(shard, resume=not ready) from None
