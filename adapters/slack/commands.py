"""Slash-command text -> the core's command shape, or the usage line.

Slack hands a command's arguments over as one string, so this is where Discord's typed
options are recreated: `key:value` words with the same option names as Discord
(`/qotd schedule time:09:00 timezone:Europe/Berlin days:mon-fri`), plus bare positional
words where the meaning is unambiguous (`/qotd schedule 09:00 Europe/Berlin mon-fri`,
`/leaderboard week workspace`, `/answer 2`). Values stay raw strings: the core validates
them and answers with the valid choices; here only the *shape* is checked.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.boundary import UserRef

# Slack sends `<@U123|name>` for mentions when the command has should_escape: true.
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})

PERIODS = ("week", "month", "all")
SCOPES = ("channel", "workspace")


@dataclass(frozen=True)
class Spec:
    """What one command (or /qotd subcommand) accepts."""

    usage: str
    options: tuple[str, ...] = ()
    positional: tuple[str, ...] = ()  # option names filled in order by bare words
    takes_user: bool = False


QOTD_SUBCOMMANDS: dict[str, Spec] = {
    "schedule": Spec(
        "/qotd schedule time:HH:MM timezone:Area/City days:mon-fri",
        ("time", "timezone", "days"),
        ("time", "timezone", "days"),
    ),
    "pause": Spec("/qotd pause"),
    "resume": Spec("/qotd resume"),
    "skip": Spec("/qotd skip"),
    "post": Spec("/qotd post"),
    "status": Spec("/qotd status"),
    "topics": Spec(
        "/qotd topics include:a,b exclude:c difficulty:easy,medium reset:yes",
        ("include", "exclude", "difficulty", "reset"),
    ),
    "stats": Spec("/qotd stats [@user]", takes_user=True),
}
COMMANDS: dict[str, Spec] = {
    "answer": Spec("/answer [number]", ("number",), ("number",)),
    "leaderboard": Spec("/leaderboard [week|month|all] [channel|workspace]", ("period", "scope")),
    "streak": Spec("/streak [@user]", takes_user=True),
}
QOTD_USAGE = (
    "/qotd " + " | ".join(QOTD_SUBCOMMANDS) + "  (e.g. " + QOTD_SUBCOMMANDS["schedule"].usage + ")"
)


class UsageError(ValueError):
    """The text did not fit the command; the message is shown to the user as is."""


@dataclass(frozen=True)
class Parsed:
    name: str
    subcommand: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    user: UserRef | None = None


def usage_for(name: str, subcommand: str | None = None) -> str:
    if name == "qotd":
        spec = QOTD_SUBCOMMANDS.get(subcommand or "")
        return f"Usage: {spec.usage if spec else QOTD_USAGE}"
    return f"Usage: {COMMANDS[name].usage}"


def parse(command: str, text: str) -> Parsed:
    """Parse `/name text`; raises UsageError with the usage line when it does not fit."""
    name = command.lstrip("/").lower()
    words = _split(name, text)
    if name == "qotd":
        if not words:
            raise UsageError(usage_for("qotd"))
        sub = words[0].lower()
        spec = QOTD_SUBCOMMANDS.get(sub)
        if spec is None:
            raise UsageError(f"Unknown subcommand `{words[0]}`. {usage_for('qotd')}")
        options, user = _fill(spec, words[1:], usage_for("qotd", sub))
        return Parsed("qotd", sub, options, user)
    if name not in COMMANDS:
        raise UsageError(f"Unknown command `/{name}`.")
    spec = COMMANDS[name]
    if name == "leaderboard":
        words = [_leaderboard_word(w) for w in words]
    options, user = _fill(spec, words, usage_for(name))
    return Parsed(name, None, options, user)


def _split(name: str, text: str) -> list[str]:
    try:
        return shlex.split(text.translate(_SMART_QUOTES))
    except ValueError:
        raise UsageError(
            f"Unbalanced quotes. {usage_for(name) if name in COMMANDS or name == 'qotd' else ''}".strip()
        ) from None


def _leaderboard_word(word: str) -> str:
    """`week` -> `period:week`, `workspace` -> `scope:workspace`: the values tell them apart."""
    low = word.lower()
    if low in PERIODS:
        return f"period:{low}"
    if low in SCOPES:
        return f"scope:{low}"
    return word


def _fill(spec: Spec, words: list[str], usage: str) -> tuple[dict[str, str], UserRef | None]:
    options: dict[str, str] = {}
    user: UserRef | None = None
    positional = list(spec.positional)
    for word in words:
        mention = MENTION.match(word)
        if mention:
            if not spec.takes_user or user is not None:
                raise UsageError(f"Unexpected mention. {usage}")
            user_id, label = mention.group(1), mention.group(2)
            user = UserRef(user_id, label or user_id)
            continue
        key, sep, value = word.partition(":")
        key = key.lower()
        if sep and key in spec.options:
            if key in options:
                raise UsageError(f"`{key}` is given twice. {usage}")
            if not value:
                raise UsageError(f"`{key}:` needs a value. {usage}")
            options[key] = value
            if key in positional:
                positional.remove(key)
            continue
        if sep and key.isalpha():
            raise UsageError(f"Unknown option `{key}`. {usage}")
        if word.startswith("@") and spec.takes_user:
            raise UsageError(
                f"Mention the user so Slack links them (type @ and pick a name). {usage}"
            )
        slot = next((p for p in positional if p not in options), None)
        if slot is None:
            raise UsageError(f"Unexpected `{word}`. {usage}")
        options[slot] = word
        positional.remove(slot)
    return options, user
