"""The slash commands: their Discord definitions and how each maps to a CommandInput.

Closed sets (days, period, scope, reset) are choices, so Discord validates them before
we see them; time zones and topics autocomplete. Admin rights are checked in the core
from `Actor.is_admin`, which the bridge sets from the member's resolved permissions.
`/qotd` mixes admin and member subcommands, and Discord only takes `default_permissions`
on top-level commands, so no hint is set there: hiding `/qotd status` would be wrong.
"""

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.bridge import FAILURE_TEXT, Bridge
from adapters.discord.outbound import NO_MENTIONS

DAYS = ["mon-fri", "daily", "weekends", "mon,wed,fri", "tue,thu"]
PERIODS = ["week", "month", "all"]
SCOPES = ["channel", "workspace"]

Choice = app_commands.Choice
log = logging.getLogger(__name__)


def build_tree(client: discord.Client, bridge: Bridge) -> app_commands.CommandTree[Any]:
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    async def complete_timezone(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=z, value=z) for z in bridge.timezones(current)]

    async def complete_topics(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=t, value=t) for t in await bridge.topics(current)]

    qotd = app_commands.Group(
        name="qotd", description="Question of the day in this channel", guild_only=True
    )

    @qotd.command(name="schedule", description="Post a question here on a schedule (admins)")
    @app_commands.describe(
        time="Local time as HH:MM, e.g. 09:00",
        timezone="IANA time zone, e.g. Europe/Berlin",
        days="Which days to post",
        reveal="Hours after the post until the answer is revealed (1-23)",
    )
    @app_commands.choices(days=[Choice(name=d, value=d) for d in DAYS])
    @app_commands.autocomplete(timezone=complete_timezone)
    async def schedule(
        interaction: discord.Interaction,
        time: str | None = None,
        timezone: str | None = None,
        days: Choice[str] | None = None,
        reveal: app_commands.Range[int, 1, 23] | None = None,
    ) -> None:
        accepted = await bridge.command(
            interaction, "qotd", "schedule",
            time=time, timezone=timezone, days=days.value if days else None, reveal=reveal,
        )
        if accepted:  # a refused member need not hear about channel permissions
            await bridge.warn_missing_permissions(interaction)

    def simple(name: str, description: str) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            await bridge.command(interaction, "qotd", name)

        qotd.command(name=name, description=description)(callback)

    simple("pause", "Pause the daily question here (admins)")
    simple("resume", "Resume the daily question here (admins)")
    simple("skip", "Skip today's question here (admins)")
    simple("post", "Post the next question now (admins)")
    simple("status", "Show this channel's schedule and what comes next")

    @qotd.command(name="topics", description="Choose topics and difficulty mix (admins)")
    @app_commands.describe(
        include="Comma list of topics to post (others are left out)",
        exclude="Comma list of topics never to post",
        difficulty="e.g. easy,medium or easy=2,medium=1,hard=0",
        reset="Clear every topic and difficulty filter",
    )
    @app_commands.choices(reset=[Choice(name="yes", value="yes")])
    @app_commands.autocomplete(include=complete_topics, exclude=complete_topics)
    async def topics(
        interaction: discord.Interaction,
        include: str | None = None,
        exclude: str | None = None,
        difficulty: str | None = None,
        reset: Choice[str] | None = None,
    ) -> None:
        await bridge.command(
            interaction, "qotd", "topics", include=include, exclude=exclude,
            difficulty=difficulty, reset=reset.value if reset else None,
        )

    @qotd.command(name="stats", description="Attempts, accuracy and streaks")
    @app_commands.describe(user="Whose stats (default: yours)")
    async def stats(interaction: discord.Interaction, user: discord.User | None = None) -> None:
        await bridge.command(interaction, "qotd", "stats", user=user)

    tree.add_command(qotd)

    @tree.command(name="answer", description="See the answer (only you see it)")
    @app_commands.describe(number="Question number (default: the current one)")
    @app_commands.guild_only()
    async def answer(
        interaction: discord.Interaction, number: app_commands.Range[int, 1] | None = None
    ) -> None:
        await bridge.command(interaction, "answer", number=number)

    @tree.command(name="leaderboard", description="Top answerers")
    @app_commands.describe(period="Time window", scope="This channel or the whole server")
    @app_commands.choices(
        period=[Choice(name=p, value=p) for p in PERIODS],
        scope=[Choice(name=s, value=s) for s in SCOPES],
    )
    @app_commands.guild_only()
    async def leaderboard(
        interaction: discord.Interaction,
        period: Choice[str] | None = None,
        scope: Choice[str] | None = None,
    ) -> None:
        await bridge.command(
            interaction, "leaderboard", likely_ephemeral=False,
            period=period.value if period else None, scope=scope.value if scope else None,
        )

    @tree.command(name="streak", description="Current and best streak")
    @app_commands.describe(user="Whose streak (default: yours)")
    @app_commands.guild_only()
    async def streak(interaction: discord.Interaction, user: discord.User | None = None) -> None:
        await bridge.command(interaction, "streak", user=user)

    @tree.error
    async def on_error(interaction: discord.Interaction, exc: app_commands.AppCommandError) -> None:
        # Option conversion failures and the like: say so privately, change nothing.
        text = FAILURE_TEXT
        log.warning("slash command failed: %s", type(exc).__name__, exc_info=exc)
        if isinstance(exc, app_commands.TransformerError):
            text = (
                f"{str(exc.value)[:100]!r} is not one of the choices for this option; "
                "pick one from the list Discord offers. Nothing was changed."
            )
        embed = discord.Embed(description=text, color=0xEF4444)
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    return tree


def definitions(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    return [command.to_dict(tree) for command in tree.get_commands()]


def definitions_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A stable digest of what would be registered: sync only when it changes."""
    blob = json.dumps(definitions(tree), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
