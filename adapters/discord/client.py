"""The discord.py client: connection, events, command sync; and `start()` for the plugin.

Default intents only (no members, presences or message content): reactions come as raw
events, which also cover messages that are not cached or were posted before a restart.

The client runs as a task that `RunningDiscord.finished()` watches: what ends it is
reported to `qotd run` as fatal (the token, shards, intents: see failures.py) or
transient. Bad frames do not end it (gateway_guard.py), and one event's failure is
logged and answered without touching the others (bridge.py, commands.py, views.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord import registration
from adapters.discord.apology import UNKNOWN_BUTTON_TEXT, apologise, interaction_ids
from adapters.discord.bridge import Bridge
from adapters.discord.commands import build_tree
from adapters.discord.failures import ADAPTER, failure_for
from adapters.discord.gateway_guard import GuardedState
from adapters.discord.outbound import NO_MENTIONS, DiscordOutbound
from adapters.discord.settings import DiscordSettings
from adapters.discord.translate import PLATFORM
from adapters.discord.views import BUTTON_TEMPLATE, press
from bot.plugins import AdapterFailed, CoreHandle

log = logging.getLogger(__name__)
_BUTTON_TEMPLATE = BUTTON_TEMPLATE


def point_at(settings: DiscordSettings) -> None:
    """Use a REST proxy / gateway other than discord.com. discord.py keeps both as class
    attributes (`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), so this is per process."""
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class QotdClient(discord.AutoShardedClient):
    def __init__(self, core: CoreHandle, settings: DiscordSettings) -> None:
        options: dict[str, Any] = {}
        if settings.shard_count is not None:
            options["shard_count"] = settings.shard_count
            if settings.shard_id_list():
                options["shard_ids"] = settings.shard_id_list()
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=settings.guild_ready_timeout,
            **options,
        )
        self.settings = settings
        self.outbound = DiscordOutbound(self, backoff=settings.retry_backoff,
                                        global_rate=settings.global_rate)
        self.qotd_bridge = Bridge(core, self.outbound, defer_after=settings.defer_after,
                                  core_concurrency=settings.core_concurrency)
        self.tree: app_commands.CommandTree[Any] = build_tree(self, self.qotd_bridge)
        self.ready_event = asyncio.Event()
        self.auto_sync = True

    def _get_state(self, **options: Any) -> GuardedState:
        return GuardedState(dispatch=self.dispatch, handlers=self._handlers, hooks=self._hooks,
                            http=self.http, **options)

    async def launch_shards(self) -> None:
        # With a gateway override and no fixed shard count, ask Discord how many shards
        # to run but connect to the configured gateway rather than the one it names.
        if self.settings.gateway_url and self.shard_count is None:
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        await super().launch_shards()

    async def setup_hook(self) -> None:
        if self.auto_sync:
            try:
                await registration.sync_if_changed(self, self.tree, self.settings.guild_id)
            except discord.HTTPException as exc:
                # The commands registered last time keep working; don't refuse to start.
                log.warning(
                    "could not register slash commands (Discord answered %s, code %s); "
                    "run `qotd discord sync` later", exc.status, exc.code,
                )

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.qotd_bridge.reaction(payload, added=True, own_id=self._own_id(),
                                        names=self._name_of)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.qotd_bridge.reaction(payload, added=False, own_id=self._own_id(),
                                        names=self._name_of)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Every press of a component: a qotd button the message carries goes to the
        bridge (views.press); any other (another custom_id, or one whose message does not
        carry it) would leave the user with "This interaction failed" and the log with
        nothing: one line and a private answer instead."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = interaction.data
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        match = _BUTTON_TEMPLATE.fullmatch(custom_id) if isinstance(custom_id, str) else None
        if match is not None and isinstance(custom_id, str) \
                and _carries(interaction.message, custom_id):
            await press(interaction, match["action"])
            return
        size = len(custom_id) if isinstance(custom_id, str) else 0
        log.warning("discord: a component qotd does not handle (custom_id of %d characters)%s",
                    size, interaction_ids(interaction))
        await apologise(interaction, UNKNOWN_BUTTON_TEXT)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Our handlers catch their own failures; this is discord.py's last resort for an
        exception from any event handler (logged once, the client keeps serving)."""
        log.exception("discord: the %s handler failed", event_method)

    def _own_id(self) -> int | None:
        return self.user.id if self.user else None

    def _name_of(self, user_id: int) -> str | None:
        user = self.get_user(user_id)
        return user.display_name if user else None


def _carries(message: discord.Message | None, custom_id: str) -> bool:
    """Whether the message has a component with this custom_id: Discord sends only the
    custom_ids of the message it was pressed on; anything else is not a real press."""
    if message is None:
        return False
    for row in message.components:
        for child in getattr(row, "children", ()):
            if getattr(child, "custom_id", None) == custom_id:
                return True
    return False


class RunningDiscord:
    """The started client as `qotd run` supervises it (bot.plugins.RunningAdapter)."""

    def __init__(self, client: QotdClient, task: asyncio.Task[None], core: CoreHandle,
                 token: str = "") -> None:
        self.client = client
        self._task = task
        self._core = core
        self._token = token
        self._stopping = False

    async def stop(self) -> None:
        self._stopping = True
        self._core.router.unregister(PLATFORM)
        await self.client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        if not self._task.done():
            self._task.cancel()

    async def finished(self) -> None:
        """Wait for the client task. It only ends by itself when something stopped it:
        AdapterFailed says what (fatal for the token, shards and intents). After `stop()`
        this never returns, as the contract asks of an adapter stopped from outside."""
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if not self._task.cancelled() or self._stopping:
                raise  # our own waiter was cancelled, or stop() cancelled the client
            raise AdapterFailed(ADAPTER, "the Discord client task was cancelled",
                                fatal=False) from None
        except Exception as exc:
            if self._stopping:
                await asyncio.Event().wait()
            raise failure_for(exc, self._token) from None
        if self._stopping:
            await asyncio.Event().wait()
        raise AdapterFailed(ADAPTER, "the Discord client stopped by itself", fatal=False)

    def connected(self) -> bool:
        """Ready, not closed, and every shard's websocket open right now."""
        client = self.client
        if self._task.done() or client.is_closed() or not client.is_ready():
            return False
        shards = client.shards
        return bool(shards) and all(not shard.is_closed() for shard in shards.values())


async def start(core: CoreHandle, settings: DiscordSettings) -> RunningDiscord:
    """Connect on the running loop, wait for READY, then register the Outbound.

    Raises AdapterFailed: fatal when the token or the gateway settings are refused,
    transient when Discord did not answer in time."""
    try:
        token = settings.token_value()
    except ValueError as exc:
        raise AdapterFailed(ADAPTER, str(exc), fatal=True) from None
    point_at(settings)
    client = QotdClient(core, settings)
    task = asyncio.create_task(client.start(token), name="discord-client")
    ready = asyncio.create_task(client.ready_event.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=settings.ready_timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        failed = task.exception() if task in done and not task.cancelled() else None
        if failed is not None:
            raise failure_for(failed, token) from None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        where = settings.gateway_url or settings.api_base or "discord.com"
        raise AdapterFailed(
            ADAPTER,
            f"Discord did not get READY within {settings.ready_timeout:.0f} s; check that "
            f"{where} is reachable",
            fatal=False,
        )
    core.router.register(PLATFORM, client.outbound)
    return RunningDiscord(client, task, core, token)

