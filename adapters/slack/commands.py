"""Slash-command text -> the core's command shape, or the usage line.

Slack hands a command's arguments over as one string, so this is where Discord's typed
options are recreated: `key:value` words with the same option names as Discord
(`/qotd schedule time:09:00 timezone:Europe/Berlin days:mon-fri`), plus bare positional
words where the meaning is unambiguous (`/qotd schedule 09:00 Europe/Berlin mon-fri`,
`/leaderboard week workspace`, `/answer 2`). Values stay raw strings: the core validates
them and answers with the valid choices; here only the *shape* is checked, and every
problem of that kind is reported in one answer (the core reports the bad values).

Slack escapes `&`, `<` and `>` in command text (`&amp;`, `&lt;`, `&gt;`) so that its own
`<@U123|name>` mentions stand out. Mentions are recognised first, on the escaped text;
then the escaping is undone, so the core gets (and stores) what the user typed and the
other platforms never show `&lt;`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.boundary import UserRef

# Slack sends `<@U123|name>` for mentions when the command has should_escape: true.
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
OPTION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
ECHO_LIMIT = 40  # how much of a stray word the usage answer quotes back
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
        "/qotd schedule time:HH:MM timezone:Area/City days:mon-fri reveal:H"
        " answers:buttons|reactions",
        ("time", "timezone", "days", "reveal", "answers"),
        ("time", "timezone", "days"),
    ),
    "pause": Spec("/qotd pause"),
    "resume": Spec("/qotd resume"),
    "skip": Spec("/qotd skip"),
    "post": Spec("/qotd post"),
    "status": Spec("/qotd status"),
    "topics": Spec(
        "/qotd topics include:a,b exclude:c difficulty:easy,medium reset:yes adaptive:on",
        ("include", "exclude", "difficulty", "reset", "adaptive"),
    ),
    "stats": Spec("/qotd stats [@user]", takes_user=True),
}
# `/review` alone opens the session ("start", as Discord has to name it); `remind off`
# stops the nudge (the core reads it as time:off), `remind 08:30 Europe/Berlin` works too
REVIEW_SUBCOMMANDS: dict[str, Spec] = {
    "start": Spec("/review"),
    "status": Spec("/review status"),
    "add": Spec('/review add topic:"Model Monitoring" count:5', ("topic", "count"),
                ("topic", "count")),
    "remind": Spec("/review remind time:08:30 timezone:Europe/Berlin | /review remind off",
                   ("time", "timezone"), ("time", "timezone")),
    "forget": Spec("/review forget"),
}
COMMANDS: dict[str, Spec] = {
    "answer": Spec("/answer [number]", ("number",), ("number",)),
    "leaderboard": Spec("/leaderboard [week|month|all] [channel|workspace]", ("period", "scope")),
    "streak": Spec("/streak [@user]", takes_user=True),
    "mastery": Spec("/mastery"),
}
QOTD_USAGE = (
    "/qotd " + " | ".join(QOTD_SUBCOMMANDS) + "  (e.g. " + QOTD_SUBCOMMANDS["schedule"].usage + ")"
)
REVIEW_USAGE = ("/review [" + "|".join(s for s in REVIEW_SUBCOMMANDS if s != "start")
                + "]  (e.g. " + REVIEW_SUBCOMMANDS["add"].usage + ")")
_GROUPS = {"qotd": (QOTD_SUBCOMMANDS, QOTD_USAGE), "review": (REVIEW_SUBCOMMANDS, REVIEW_USAGE)}


def unescape(text: str) -> str:
    """Undo Slack's three escapes in one pass (`&amp;lt;` is the typed `&lt;`)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _echo(word: str) -> str:
    shown = word if len(word) <= ECHO_LIMIT else word[: ECHO_LIMIT - 1] + "…"
    return shown.replace("`", "'")


class UsageError(ValueError):
    """The text did not fit the command; the message is shown to the user as is."""


@dataclass(frozen=True)
class Parsed:
    name: str
    subcommand: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    user: UserRef | None = None


def usage_for(name: str, subcommand: str | None = None) -> str:
    if name in _GROUPS:
        subcommands, usage = _GROUPS[name]
        spec = subcommands.get(subcommand or "")
        return f"Usage: {spec.usage if spec else usage}"
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
            raise UsageError(
                f"Unknown subcommand `{_echo(unescape(words[0]))}`. {usage_for('qotd')}"
            )
        options, user = _fill(spec, words[1:], usage_for("qotd", sub))
        return Parsed("qotd", sub, options, user)
    if name == "review":
        sub = words[0].lower() if words else "start"
        spec = REVIEW_SUBCOMMANDS.get(sub)
        if spec is None:
            raise UsageError(
                f"Unknown subcommand `{_echo(unescape(words[0]))}`. {usage_for('review')}"
            )
        options, user = _fill(spec, words[1:], usage_for("review", sub))
        return Parsed("review", sub, options, user)
    if name not in COMMANDS:
        raise UsageError(f"Unknown command `/{_echo(name)}`.")
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
            "Unbalanced quotes (or a trailing backslash). "
            f"{usage_for(name) if name in COMMANDS or name in _GROUPS else ''}".strip()
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
    """Words -> options and the mentioned user; every shape problem is collected, then
    reported together (one answer for `colour:blue size:xl`, not one per try)."""
    options: dict[str, str] = {}
    user: UserRef | None = None
    problems: list[str] = []
    positional = list(spec.positional)
    for raw in words:
        if not raw:  # `""`: nothing typed
            continue
        mention = MENTION.match(raw)
        if mention:
            if not spec.takes_user or user is not None:
                problems.append("Unexpected mention.")
                continue
            user_id, label = mention.group(1), mention.group(2)
            # no label: "" keeps the name the core has (never the id as a name)
            user = UserRef(user_id, unescape(label) if label else "")
            continue
        word = unescape(raw)
        key, sep, value = word.partition(":")
        low = key.lower()
        if sep and low in spec.options:
            if low in options:
                problems.append(f"`{low}` is given twice.")
            elif not value:
                problems.append(f"`{low}:` needs a value.")
            else:
                options[low] = value
                if low in positional:
                    positional.remove(low)
            continue
        if sep and OPTION_KEY.fullmatch(key):
            problems.append(f"Unknown option `{_echo(low)}`.")
            continue
        if word.startswith("@") and spec.takes_user:
            problems.append("Mention the user so Slack links them (type @ and pick a name).")
            continue
        slot = next((p for p in positional if p not in options), None)
        if slot is None:
            problems.append(f"Unexpected `{_echo(word)}`.")
            continue
        options[slot] = word
        positional.remove(slot)
    if len(problems) == 1:
        raise UsageError(f"{problems[0]} {usage}")
    if problems:
        listed = "\n".join(f"- {p}" for p in dict.fromkeys(problems))
        raise UsageError(f"{len(problems)} problems:\n{listed}\n{usage}")
    return options, user
