"""`qotd discord sync [--guild ID]` and `qotd discord invite-url [--client-id ID]`.

Both talk to Discord's REST API only (no gateway), so they run while the bot is running.
Errors are one actionable line on stderr and exit code 2; the token never appears.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

# `qotd --help` registers these commands on every start: pydantic settings and asyncio
# are imported by the commands themselves.
if TYPE_CHECKING:
    from adapters.discord.settings import DiscordSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("discord", help="Discord: register commands, invite URL")
    sub = parser.add_subparsers(dest="discord_command", required=True, metavar="ACTION")
    sync = sub.add_parser("sync", help="register the slash commands with Discord now")
    sync.add_argument("--guild", type=int, default=None,
                      help="register in this server only (instant) instead of globally")
    sync.set_defaults(func=_sync)
    invite = sub.add_parser("invite-url", help="print the URL that adds the bot to a server")
    invite.add_argument("--client-id", default=None,
                        help="the application id (default: asked from Discord with the token)")
    invite.set_defaults(func=_invite)


def _settings() -> DiscordSettings:
    from adapters.discord.settings import DiscordSettings

    return DiscordSettings()

T = TypeVar("T")


def _fail(text: str) -> int:
    print(f"qotd discord: {text}", file=sys.stderr)
    return 2


def _sync(args: argparse.Namespace) -> int:
    import asyncio

    from pydantic import ValidationError

    try:
        settings = _settings()
        count = asyncio.run(_do_sync(settings, args.guild))
    except (ValueError, ValidationError, RuntimeError) as exc:
        return _fail(str(exc))
    where = f"server {args.guild}" if args.guild else "all servers (may take a while to show)"
    print(f"registered {count} commands for {where}")
    return 0


def _invite(args: argparse.Namespace) -> int:
    import asyncio

    from pydantic import ValidationError

    from adapters.discord.translate import invite_url

    client_id = args.client_id
    if client_id is not None and not str(client_id).isdigit():
        return _fail(f"--client-id is the numeric application id, got {client_id!r}")
    if client_id is None:
        try:
            client_id = asyncio.run(_application_id(_settings()))
        except (ValueError, ValidationError, RuntimeError) as exc:
            return _fail(f"{exc} (or pass --client-id)")
    print(invite_url(client_id))
    return 0


async def _login(settings: DiscordSettings) -> Any:
    import discord

    from adapters.discord.client import QotdClient, point_at
    from bot.boundary import ButtonInput, ChannelRef, CommandInput, ReactionInput, Reply
    from bot.ports import OutboundRouter

    class _Offline:
        """The CLI builds the command tree for its definitions only; nothing is served."""

        router = OutboundRouter()

        async def handle_command(self, command: CommandInput) -> list[Reply]:
            raise RuntimeError("not serving commands from the CLI")

        async def handle_reaction(self, reaction: ReactionInput) -> list[Reply]:
            raise RuntimeError("not serving reactions from the CLI")

        async def handle_button(self, button: ButtonInput) -> list[Reply]:
            raise RuntimeError("not serving buttons from the CLI")

        async def topic_names(self) -> list[str]:
            return []

        async def is_scheduled(self, channel: ChannelRef) -> bool:
            return False

    token = settings.token_value()
    point_at(settings)
    client = QotdClient(_Offline(), settings)
    client.auto_sync = False
    try:
        await client.login(token)
    except discord.LoginFailure:
        await client.close()
        raise RuntimeError("Discord refused the token: check DISCORD_TOKEN") from None
    except discord.HTTPException as exc:
        await client.close()
        raise RuntimeError(f"Discord answered {exc.status}: {exc.text}") from None
    return client


async def _do_sync(settings: DiscordSettings, guild: int | None) -> int:
    """Register now, whatever is registered. A global sync then empties the server-only
    copies an earlier `--guild` sync left (found by asking Discord for each server's
    commands): with both, every command would show twice in that server."""
    from adapters.discord import registration

    async def work() -> int:
        client = await _login(settings)
        try:
            count = await registration.sync(client.tree, guild)
            if guild is None:
                await registration.clear_guild_copies(client, client.tree)
            return count
        finally:
            await client.close()

    return await _one_line_errors(work(), settings)


async def _application_id(settings: DiscordSettings) -> int:
    async def work() -> int:
        client = await _login(settings)
        try:
            return int(client.application_id)
        finally:
            await client.close()

    return await _one_line_errors(work(), settings)


async def _one_line_errors(work: Coroutine[Any, Any, T], settings: DiscordSettings) -> T:
    """Discord refusing a request, or not answering at all, is one actionable line (exit
    2), not a traceback; the token is never part of it."""
    import aiohttp
    import discord

    try:
        return await work
    except discord.HTTPException as exc:
        raise RuntimeError(f"Discord answered {exc.status}: {exc.text or exc}") from None
    except (aiohttp.ClientError, OSError) as exc:
        where = settings.api_base or "https://discord.com/api"
        raise RuntimeError(
            f"could not reach Discord at {where} ({type(exc).__name__}); check the network "
            "or DISCORD_API_BASE"
        ) from None
