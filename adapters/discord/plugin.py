"""The discord adapter as a `qotd.adapters` plugin.

discord.py is imported only when the adapter starts or a `qotd discord` command runs,
so `qotd import` and the other commands stay fast.
"""

from __future__ import annotations

import argparse
import os

from bot.plugins import CoreHandle, RunningAdapter


class DiscordPlugin:
    name = "discord"

    def is_configured(self) -> bool:
        from adapters.discord.settings import DiscordSettings

        try:
            token = DiscordSettings().token
        except ValueError:
            # A token with otherwise broken settings: say "configured" so that starting
            # reports what is wrong instead of silently running without Discord.
            return bool(os.environ.get("DISCORD_TOKEN", "").strip())
        return token is not None and bool(token.get_secret_value().strip())

    def add_cli(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        from adapters.discord import cli

        cli.register(subparsers)

    async def start(self, core: CoreHandle) -> RunningAdapter:
        from adapters.discord.client import start
        from adapters.discord.settings import DiscordSettings

        return await start(core, DiscordSettings())


plugin = DiscordPlugin()
