"""The slash commands: their Discord definitions and how each maps to a CommandInput.

Closed sets (days, period, scope, reset) are choices, so Discord validates them before
we see them; time zones and topics autocomplete. Admin rights are checked in the core
from `Actor.is_admin`, which the bridge sets from the member's resolved permissions.
`/qotd` mixes admin and member subcommands, and Discord only takes `default_permissions`
on top-level commands, so no hint is set there: hiding `/qotd status` would be wrong.

Failures are answered privately and logged once. discord.py's own noise (a command
name Discord still lists but we no longer have, options that do not fit) is one line
without a traceback; only an exception from our own code carries one.
"""

import logging
import re
from typing import Any

import discord
from discord import app_commands

from adapters.discord.apology import (
    FAILURE_TEXT,
    REFUSED_TEXT,
    UNKNOWN_COMMAND_TEXT,
    apologise,
    interaction_ids,
)
from adapters.discord.bridge import Bridge
from bot.boundary import ANSWER_MODES

DAYS = ["mon-fri", "daily", "weekends", "mon,wed,fri", "tue,thu"]
PERIODS = ["week", "month", "all"]
SCOPES = ["channel", "workspace"]

Choice = app_commands.Choice
log = logging.getLogger(__name__)
_NAME_RE = re.compile(r"[-_\w]{1,32}")


class QotdTree(app_commands.CommandTree[Any]):
    """discord.py's tree hands only AppCommandError to `on_error`; anything else raised
    while it reads the interaction (an option without a name, resolved data that is not
    a dict) would end its task unseen. Such an interaction is refused in one line."""

    async def _call(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await super()._call(interaction)
        except app_commands.AppCommandError:
            raise
        except Exception as exc:
            log.warning("discord: dropped a command interaction that does not fit Discord's "
                        "schema (%s)%s", type(exc).__name__, interaction_ids(interaction))
            await apologise(interaction, REFUSED_TEXT)

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError, /) -> None:
        await command_failed(interaction, error)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """discord.py logs a traceback for an autocomplete request on an option that has
        none (a client out of date, or garbage): answer it with no suggestions first."""
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        if self._autocompletes(interaction.data):
            return True
        log.warning("discord: autocomplete asked for an option that has none%s",
                    interaction_ids(interaction))
        await apologise(interaction)  # an empty list of suggestions
        return False

    def _autocompletes(self, data: object) -> bool:
        """Whether the focused option of this autocomplete request is one of ours that
        autocompletes; False for anything unreadable."""
        try:
            assert isinstance(data, dict)
            command: Any = self.get_command(data["name"])
            options = data.get("options") or []
            while options and options[0].get("type") in (1, 2):  # (sub)command groups
                command = command.get_command(options[0]["name"])
                options = options[0].get("options") or []
            focused = next(o for o in options if o.get("focused"))
            # the option's type must be the parameter's, or discord.py never reads it
            return any(p.name == focused["name"] and p.autocomplete
                       and p.type.value == focused.get("type") for p in command.parameters)
        except Exception:
            return False


def command_name(interaction: discord.Interaction[Any]) -> str:
    """The command's name for the log, when it looks like one (it comes from Discord)."""
    data: dict[str, Any] = dict(interaction.data) if isinstance(interaction.data, dict) else {}
    name = data.get("name")
    return f"/{name}" if isinstance(name, str) and _NAME_RE.fullmatch(name) else "a command"


async def command_failed(interaction: discord.Interaction[Any],
                         exc: app_commands.AppCommandError) -> None:
    """Say so privately and change nothing; log once."""
    name, ids = command_name(interaction), interaction_ids(interaction)
    text = FAILURE_TEXT
    if isinstance(exc, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        # Discord still lists a command this version no longer has, or has it in another
        # shape: the next start (or `qotd discord sync`) registers the current ones.
        log.warning("discord: %s is not a command of this version (%s); the registered "
                    "commands are out of date%s", name, type(exc).__name__, ids)
        text = UNKNOWN_COMMAND_TEXT
    elif isinstance(exc, app_commands.TransformerError):
        log.warning("discord: %s got an option value that does not fit (%s)%s", name,
                    exc.type.name, ids)
        text = _transform_text(exc)
    elif isinstance(exc, app_commands.CommandInvokeError):
        log.error("discord: %s failed (%s)%s", name, type(exc.original).__name__, ids,
                  exc_info=exc.original)
    else:
        log.warning("discord: %s was refused (%s)%s", name, type(exc).__name__, ids)
    await apologise(interaction, text)


def _transform_text(exc: app_commands.TransformerError) -> str:
    shown = repr(exc.value)[:100] if isinstance(exc.value, str | int | float) else "That value"
    if getattr(exc.transformer, "__discord_app_commands_is_choice__", False):
        return (f"{shown} is not one of the choices for this option; pick one from the list "
                "Discord offers. Nothing was changed.")
    if exc.type is discord.AppCommandOptionType.integer:
        return f"{shown} is not a whole number in the range this option takes. Nothing was changed."
    return f"{shown} does not fit this option. Nothing was changed."


def build_tree(client: discord.Client, bridge: Bridge) -> app_commands.CommandTree[Any]:
    tree = QotdTree(client)

    async def complete_timezone(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        try:
            return [Choice(name=z, value=z) for z in bridge.timezones(current)]
        except Exception:
            log.exception("discord: time zone autocomplete failed%s", interaction_ids(interaction))
            return []

    async def complete_topics(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        try:
            return [Choice(name=t, value=t) for t in await bridge.topics(current)]
        except Exception:
            log.exception("discord: topic autocomplete failed%s", interaction_ids(interaction))
            return []

    qotd = app_commands.Group(
        name="qotd", description="Question of the day in this channel", guild_only=True
    )

    @qotd.command(name="schedule", description="Post a question here on a schedule (admins)")
    @app_commands.describe(
        time="Local time as HH:MM, e.g. 09:00",
        timezone="IANA time zone, e.g. Europe/Berlin",
        days="Which days to post",
        reveal="Hours after the post until the answer is revealed (1-23)",
        answers="How members answer: private buttons (default) or emoji reactions",
    )
    @app_commands.choices(days=[Choice(name=d, value=d) for d in DAYS],
                          answers=[Choice(name=m, value=m) for m in ANSWER_MODES])
    @app_commands.autocomplete(timezone=complete_timezone)
    async def schedule(
        interaction: discord.Interaction,
        time: str | None = None,
        timezone: str | None = None,
        days: Choice[str] | None = None,
        reveal: app_commands.Range[int, 1, 23] | None = None,
        answers: Choice[str] | None = None,
    ) -> None:
        accepted = await bridge.command(
            interaction, "qotd", "schedule",
            time=time, timezone=timezone, days=days.value if days else None, reveal=reveal,
            answers=answers.value if answers else None,
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
        adaptive="Weigh topics and difficulty by the team's results (about 70% correct)",
    )
    @app_commands.choices(reset=[Choice(name="yes", value="yes")],
                          adaptive=[Choice(name=v, value=v) for v in ("on", "off")])
    @app_commands.autocomplete(include=complete_topics, exclude=complete_topics)
    async def topics(
        interaction: discord.Interaction,
        include: str | None = None,
        exclude: str | None = None,
        difficulty: str | None = None,
        reset: Choice[str] | None = None,
        adaptive: Choice[str] | None = None,
    ) -> None:
        await bridge.command(
            interaction, "qotd", "topics", include=include, exclude=exclude,
            difficulty=difficulty, reset=reset.value if reset else None,
            adaptive=adaptive.value if adaptive else None,
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

    review = app_commands.Group(
        name="review", description="Your private review of the questions you missed",
        guild_only=True,
    )

    @review.command(name="start", description="Review your due cards (only you see it)")
    async def review_start(interaction: discord.Interaction) -> None:
        await bridge.command(interaction, "review", "start")

    @review.command(name="status", description="Cards due now, today, this week (only you)")
    async def review_status(interaction: discord.Interaction) -> None:
        await bridge.command(interaction, "review", "status")

    @review.command(name="add", description="Take new cards from the bank on a topic")
    @app_commands.describe(topic="A topic of the bank", count="How many cards (1-20)")
    @app_commands.autocomplete(topic=complete_topics)
    async def review_add(
        interaction: discord.Interaction,
        topic: str | None = None,
        count: app_commands.Range[int, 1, 20] | None = None,
    ) -> None:
        await bridge.command(interaction, "review", "add", topic=topic, count=count)

    @review.command(name="remind", description="A daily DM when cards are due (time: off stops it)")
    @app_commands.describe(time="Local time as HH:MM, e.g. 08:30, or off",
                           timezone="IANA time zone, e.g. Europe/Berlin")
    @app_commands.autocomplete(timezone=complete_timezone)
    async def review_remind(
        interaction: discord.Interaction,
        time: str | None = None,
        timezone: str | None = None,
    ) -> None:
        await bridge.command(interaction, "review", "remind", time=time, timezone=timezone)

    @review.command(name="forget", description="Delete your review cards (asks first)")
    async def review_forget(interaction: discord.Interaction) -> None:
        await bridge.command(interaction, "review", "forget")

    tree.add_command(review)

    @tree.command(name="mastery", description="Your topics: what you remember (only you)")
    @app_commands.guild_only()
    async def mastery(interaction: discord.Interaction) -> None:
        await bridge.command(interaction, "mastery")

    @tree.command(name="streak", description="Current and best streak")
    @app_commands.describe(user="Whose streak (default: yours)")
    @app_commands.guild_only()
    async def streak(interaction: discord.Interaction, user: discord.User | None = None) -> None:
        await bridge.command(interaction, "streak", user=user)

    return tree

