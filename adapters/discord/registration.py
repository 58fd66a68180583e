"""Slash-command registration against what the application has registered.

At start one GET reads the commands Discord holds for the scope (global, or the server
in DISCORD_GUILD_ID) and a bulk overwrite (PUT) follows only when they differ from the
tree's definitions. Nothing is kept on disk: pointed at another application, or after
Discord lost the commands, the bot registers them again; registering on every start
would burn a tightly limited route (200 creates a day per server).

Both sides are normalised to the fields that change what users see
(https://discord.com/developers/docs/interactions/application-commands, application
command object): ids, versions and localised echoes are Discord's bookkeeping, and
fields we leave unset take Discord's defaults, so they are not compared.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.http import Route

log = logging.getLogger(__name__)

# Fields only global commands have; Discord ignores (and may echo as null) them elsewhere.
_GLOBAL_ONLY = ("contexts", "integration_types")
_OPTION_FIELDS = ("min_value", "max_value", "min_length", "max_length")


def scope_name(guild_id: int | None) -> str:
    return f"server {guild_id}" if guild_id is not None else "global"


def definitions(tree: app_commands.CommandTree[Any], guild_id: int | None) -> list[dict[str, Any]]:
    """What a sync of this scope would PUT (with DISCORD_GUILD_ID the global commands are
    copied into the server first)."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    return [command.to_dict(tree) for command in tree.get_commands(guild=guild)]


async def registered(client: discord.Client, guild_id: int | None) -> list[dict[str, Any]]:
    """GET the application's commands for the scope, with full localisation maps."""
    app = client.application_id
    if guild_id is None:
        route = Route("GET", "/applications/{application_id}/commands", application_id=app)
    else:
        route = Route("GET", "/applications/{application_id}/guilds/{guild_id}/commands",
                      application_id=app, guild_id=guild_id)
    found: Any = await client.http.request(route, params={"with_localizations": "true"})
    return found if isinstance(found, list) else []


def normalised(commands: list[dict[str, Any]], *, global_scope: bool,
               reference: list[dict[str, Any]] | None = None) -> dict[tuple[int, str], Any]:
    """{(type, name): comparable form}. Fields the `reference` side (our definitions)
    leaves unset are dropped from both sides: Discord fills them with its defaults."""
    by_key = {(int(c.get("type") or 1), str(c.get("name"))): c for c in commands}
    ours = {(int(c.get("type") or 1), str(c.get("name"))): c for c in (reference or commands)}
    return {
        key: _command(command, ours.get(key, command), global_scope)
        for key, command in by_key.items()
    }


def _command(c: dict[str, Any], ours: dict[str, Any], global_scope: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": c.get("description") or "",
        "options": _options(c.get("options")),
        "nsfw": bool(c.get("nsfw")),
        "default_member_permissions": _permissions(c.get("default_member_permissions")),
        "name_localizations": c.get("name_localizations") or {},
        "description_localizations": c.get("description_localizations") or {},
    }
    if global_scope:
        out["contexts"] = _contexts(c)
        if ours.get("integration_types") is not None:
            out["integration_types"] = sorted(c.get("integration_types") or [])
    return out


def _contexts(c: dict[str, Any]) -> list[int] | None:
    """`dm_permission: false` is the deprecated spelling of "servers only"."""
    contexts = c.get("contexts")
    if contexts is not None:
        return sorted(contexts)
    if c.get("dm_permission") is False:
        return [0]
    return None


def _permissions(value: Any) -> str | None:
    return None if value is None else str(value)


def _options(options: Any) -> list[dict[str, Any]]:
    out = []
    for o in options or []:
        item: dict[str, Any] = {
            "type": o.get("type"),
            "name": o.get("name"),
            "description": o.get("description") or "",
            "required": bool(o.get("required")),
            "autocomplete": bool(o.get("autocomplete")),
            "choices": [(ch.get("name"), ch.get("value")) for ch in o.get("choices") or []],
            "channel_types": sorted(o.get("channel_types") or []),
            "options": _options(o.get("options")),
            "name_localizations": o.get("name_localizations") or {},
            "description_localizations": o.get("description_localizations") or {},
        }
        for field in _OPTION_FIELDS:
            item[field] = o.get(field)
        out.append(item)
    return out


def differs(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], *,
            global_scope: bool) -> bool:
    return normalised(ours, global_scope=global_scope) != normalised(
        theirs, global_scope=global_scope, reference=ours
    )


async def sync(tree: app_commands.CommandTree[Any], guild_id: int | None) -> int:
    """Bulk-overwrite the scope with the tree's definitions; the number registered."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    return len(await tree.sync(guild=guild))


async def sync_if_changed(client: discord.Client, tree: app_commands.CommandTree[Any],
                          guild_id: int | None) -> bool:
    """One GET; a PUT only when the registered commands differ. True when it synced.

    A failed GET is logged and followed by the PUT: better one spent registration than
    commands that never appear."""
    ours = definitions(tree, guild_id)
    try:
        theirs = await registered(client, guild_id)
    except discord.HTTPException as exc:
        log.warning("could not read the registered slash commands (%s %s); registering them",
                    exc.status, exc.code)
    else:
        if not differs(ours, theirs, global_scope=guild_id is None):
            log.info("slash commands are up to date (%s)", scope_name(guild_id))
            return False
    count = await sync(tree, guild_id)
    log.info("registered %d slash commands (%s)", count, scope_name(guild_id))
    return True


async def clear_guild_copies(client: discord.Client, tree: app_commands.CommandTree[Any]
                             ) -> list[int]:
    """After a global sync: empty the server-only copies an earlier `sync --guild` (or
    DISCORD_GUILD_ID) left, or every command would show twice there. Reads the bot's
    servers and each one's commands from Discord; returns the servers cleared."""
    cleared = []
    async for guild in client.fetch_guilds(limit=None):
        found = await registered(client, guild.id)
        if not found:
            continue
        tree.clear_commands(guild=guild)
        await tree.sync(guild=guild)
        cleared.append(guild.id)
        log.info("removed the server-only copies of the commands in server %s", guild.id)
    return cleared
