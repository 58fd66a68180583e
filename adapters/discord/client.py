"""The discord.py client: connection, events, command sync; and `start()` for the plugin.

Default intents only (no members, presences or message content): reactions come as raw
events, which also cover messages that are not cached or were posted before a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord.bridge import Bridge
from adapters.discord.commands import build_tree, definitions_hash
from adapters.discord.outbound import NO_MENTIONS, DiscordOutbound
from adapters.discord.settings import DiscordSettings
from adapters.discord.translate import PLATFORM
from adapters.discord.views import QotdButton
from bot.plugins import CoreHandle

log = logging.getLogger(__name__)


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
        self.qotd_bridge = Bridge(core, self.outbound, defer_after=settings.defer_after)
        self.tree: app_commands.CommandTree[Any] = build_tree(self, self.qotd_bridge)
        self.ready_event = asyncio.Event()
        self.auto_sync = True

    async def launch_shards(self) -> None:
        # With a gateway override and no fixed shard count, ask Discord how many shards
        # to run but connect to the configured gateway rather than the one it names.
        if self.settings.gateway_url and self.shard_count is None:
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        await super().launch_shards()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(QotdButton)
        if self.auto_sync:
            try:
                await sync_if_changed(self, Path(self.settings.commands_hash_file),
                                      self.settings.guild_id)
            except discord.HTTPException as exc:
                # The commands registered last time keep working; don't refuse to start.
                log.warning(
                    "could not register slash commands (%s %s); run `qotd discord sync` later",
                    exc.status, exc.text,
                )

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        name = payload.member.display_name if payload.member else self._name_of(payload.user_id)
        await self.qotd_bridge.reaction(
            payload, added=True, own_id=self.user.id if self.user else None, display_name=name
        )

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.qotd_bridge.reaction(
            payload, added=False, own_id=self.user.id if self.user else None,
            display_name=self._name_of(payload.user_id),
        )

    def _name_of(self, user_id: int) -> str | None:
        user = self.get_user(user_id)
        return user.display_name if user else None


async def sync_commands(client: QotdClient, guild_id: int | None) -> int:
    """Register the commands globally, or in one guild (instant; handy while testing)."""
    if guild_id is not None:
        guild = discord.Object(id=guild_id)
        client.tree.copy_global_to(guild=guild)
        synced = await client.tree.sync(guild=guild)
    else:
        synced = await client.tree.sync()
    return len(synced)


def _scope(guild_id: int | None) -> str:
    return f"guild:{guild_id}" if guild_id is not None else "global"


async def sync_and_record(client: QotdClient, hash_file: Path, guild_id: int | None) -> int:
    """Sync, then record the definitions' hash for that scope. A global sync also clears
    the server copies an earlier `--guild` sync left (recorded in the same file): with
    both, every command would show twice in that server."""
    count = await sync_commands(client, guild_id)
    hashes = stored_hashes(hash_file)
    if guild_id is None:
        for scope in [s for s in hashes if s.startswith("guild:")]:
            guild = discord.Object(id=int(scope.removeprefix("guild:")))
            client.tree.clear_commands(guild=guild)
            await client.tree.sync(guild=guild)
            del hashes[scope]
            log.info("removed the server-only copies of the commands in %s", scope)
    hashes[_scope(guild_id)] = definitions_hash(client.tree)
    record_hashes(hash_file, hashes)
    return count


async def sync_if_changed(client: QotdClient, hash_file: Path, guild_id: int | None) -> bool:
    """Sync at start only when the definitions differ from the last sync recorded in
    `hash_file` for this scope: registering on every start burns a tightly rate-limited
    route."""
    scope = _scope(guild_id)
    if stored_hashes(hash_file).get(scope) == definitions_hash(client.tree):
        return False
    count = await sync_and_record(client, hash_file, guild_id)
    log.info("registered %d slash commands (%s)", count, scope)
    return True


def stored_hashes(hash_file: Path) -> dict[str, str]:
    """`scope hash` lines: `global <sha256>`, `guild:<id> <sha256>`."""
    try:
        lines = hash_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    pairs = (line.split() for line in lines)
    return {p[0]: p[1] for p in pairs if len(p) == 2}


def record_hashes(hash_file: Path, hashes: dict[str, str]) -> None:
    try:
        hash_file.write_text(
            "".join(f"{scope} {digest}\n" for scope, digest in sorted(hashes.items())),
            encoding="utf-8",
        )
    except OSError as exc:
        log.warning("could not record the command hash in %s: %s", hash_file, exc)


class RunningDiscord:
    def __init__(self, client: QotdClient, task: asyncio.Task[None], core: CoreHandle) -> None:
        self.client = client
        self._task = task
        self._core = core

    async def stop(self) -> None:
        self._core.router.unregister(PLATFORM)
        await self.client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 10)


async def start(core: CoreHandle, settings: DiscordSettings) -> RunningDiscord:
    """Connect on the running loop, wait for READY, then register the Outbound."""
    token = settings.token_value()
    point_at(settings)
    client = QotdClient(core, settings)
    task = asyncio.create_task(client.start(token), name="discord-client")
    ready = asyncio.create_task(client.ready_event.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=settings.ready_timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        if task in done and task.exception() is not None:
            exc = task.exception()
            if isinstance(exc, discord.LoginFailure):
                raise RuntimeError(
                    "Discord refused the token: check DISCORD_TOKEN (Bot > Reset Token)"
                ) from None
            raise RuntimeError(f"the Discord client stopped before READY: {exc}") from exc
        task.cancel()
        raise RuntimeError(
            f"Discord did not get READY within {settings.ready_timeout:.0f} s"
        )
    core.router.register(PLATFORM, client.outbound)
    return RunningDiscord(client, task, core)
