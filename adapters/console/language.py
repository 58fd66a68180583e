"""The console's little language, parsed: what a typed line asks for, before the core
sees it. Pure functions (no core, no I/O), so the fuzz test can throw anything at them.

A line the console cannot read raises UnknownLine with the reason in the text: the REPL
prints it as a reply and reads on, a script (`qotd console --script`) stops there with
`file:line:` and exit status 2. Values the core judges (numbers, zones, topics) pass
through as raw strings: the core refuses them with the valid form.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import timedelta

from bot.boundary import NO, OPTION_KEYS, YES, Actor, ChannelRef, CommandInput, UserRef

COMMANDS = ("qotd", "answer", "leaderboard", "streak", "review", "mastery")
# commands whose first bare word is the subcommand (`/review status`); a bare `/review`
# opens the session ("start", as Discord has to name it)
_SUBCOMMANDS = ("qotd", "review")
_DURATION = re.compile(r"([0-9]{1,6})([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,31}")
# `advance` plays every due post and reveal on the way: a year is a few hundred of them
# (seconds); more is a typo, and past datetime's range it would overflow.
ADVANCE_MAX = timedelta(days=366)
# what a user may type for a reaction: the neutral key, or the emoji a chat shows
_REACTION_WORDS = {"yes": YES, "no": NO, "✅": YES, "❌": NO}
EMOJI = {YES: "✅", NO: "❌"}


class UnknownLine(ValueError):
    """A line the console does not understand (the script runner exits non-zero)."""


def help_text(topic: str | None = None) -> str:
    """Every example in the left column works as shown on any bank, played in this order
    (tests/console runs them on the built-in one). `topic` is one of the bank's topics,
    for the include example; without it the example names the form."""
    include = f"include:{_quoted(topic)}" if topic else "include:TOPIC"
    add = f"topic:{_quoted(topic)} count:2" if topic else "topic:TOPIC count:2"
    return f"""\
Type what a chat user would type (the examples work as shown, in this order):
  /qotd schedule time:09:00 timezone:Europe/Berlin days:mon-fri   when questions come (admins)
  /qotd post | /qotd status    post the next question now (admins) | what comes next
  react yes | react no | unreact no   on the latest question: ✅ I knew it, ❌ not yet;
                               a multiple-choice one takes its option's letter: react B;
                               or vote privately with the post's buttons: press B,
                               press I knew it (press it again to withdraw)
  /answer | /answer 1          the reference answer, only you see it
  grade Good                   a grade button of your last /answer (Again Hard Good Easy)
  as bob | as carol admin      switch user (the first user is an admin)
  react yes m1                 react on an earlier message by its [id]
  /qotd topics                 the bank's topics and this channel's filters
  /qotd topics {include}
                               post only that topic (admins; exclude: works alike)
  /qotd topics reset:yes | /qotd topics difficulty:easy,medium   all topics | a mix (admins)
  /qotd pause | /qotd resume | /qotd skip   (admins)
  /qotd stats @bob | /streak | /streak @bob
  /leaderboard period:week scope:channel
  /review                      your due cards, privately, one at a time: press their
                               buttons by label (press Show answer, press Good)
  /review status | /mastery    what is due | your topics (a chart: QOTD_CONSOLE_FILES=DIR saves it)
  /review add {add}
                               new cards from the bank on a topic
  /review remind time:08:30 timezone:Europe/Berlin | /review remind off
                               a direct message on days cards are due | no more
  /review forget               delete your review cards (press its button to confirm)
  advance 1d | advance 2h30m   move the console's clock; due posts and reveals fire
  now                          print the clock
  help                         this text; lines starting with # are comments"""


def _quoted(text: str) -> str:
    """A value as parse_command reads it back: plain, "with spaces", or shell-quoted."""
    if all(c.isalnum() or c in "-_.,/&" for c in text):
        return text
    return f'"{text}"' if '"' not in text and "\\" not in text else shlex.quote(text)


def checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UnknownLine(f"{name!r} is not a user name (letters, digits, _ . -; max 32)")
    return name


def parse_command(name: str, rest: str, actor: Actor, channel: ChannelRef) -> CommandInput:
    """`/name rest` as the core's CommandInput: `key:value` options (shell quoting for
    spaces), one `@user`, the subcommand of /qotd and the number of /answer bare."""
    shown = f"/{name} {rest}".rstrip()
    name = name.lower()
    if not name:
        raise UnknownLine(f"{shown} (a command needs a name: /{', /'.join(COMMANDS)})")
    if name not in COMMANDS:
        raise UnknownLine(f"{shown} (the commands are /{', /'.join(COMMANDS)})")
    try:
        tokens = shlex.split(rest)
    except ValueError as exc:
        raise UnknownLine(f"{shown} ({exc})") from None
    subcommand: str | None = None
    options: dict[str, str] = {}
    user: UserRef | None = None
    for token in tokens:
        if token.startswith("@") and len(token) > 1:
            if user is not None:
                raise UnknownLine(f"{shown} (one @user per command)")
            target = checked_name(token[1:])
            user = UserRef(target.lower(), target)
        elif ":" in token:
            key, _, value = token.partition(":")
            key = key.lower()
            if key in options:
                raise UnknownLine(f"{shown} ({key}: is given twice)")
            options[key] = value
        elif name in _SUBCOMMANDS and subcommand is None and not options:
            subcommand = token.lower()
        elif name == "review" and subcommand == "remind" and token.lower() == "off" \
                and "time" not in options:
            options["time"] = "off"  # `/review remind off`: as `time:off`
        elif name == "answer" and "number" not in options:
            options["number"] = token
        else:
            raise UnknownLine(f"{shown} (unexpected {token!r}; options are key:value)")
    if name == "review" and subcommand is None:
        subcommand = "start"
    return CommandInput(name=name, actor=actor, channel=channel, subcommand=subcommand,
                        options=options, user=user)


@dataclass(frozen=True)
class ReactionLine:
    key: str  # a neutral key: "A".."J", "yes", "no"
    target: str | None  # a message id as shown ("m3"), None for the latest question


def parse_reaction(verb: str, rest: str) -> ReactionLine:
    """`react KEY [MESSAGE]`: KEY is yes / no (or ✅ / ❌) or an option letter A-J."""
    parts = rest.split()
    form = f"{verb} yes, {verb} no or {verb} B (an option letter A-J), then optionally " \
           f"a message id: {verb} yes m1"
    if not parts or len(parts) > 2:
        raise UnknownLine(f"{verb} {rest} (use {form})".replace("  ", " "))
    word = parts[0]
    key = _REACTION_WORDS.get(word.lower()) or (
        word.upper() if len(word) == 1 and word.upper() in OPTION_KEYS else None
    )
    if key is None:
        raise UnknownLine(f"{verb} {rest} (use {form})")
    return ReactionLine(key, parts[1] if len(parts) == 2 else None)


def parse_duration(text: str) -> timedelta:
    """"1d", "2h30m", "1w"; anything else is an UnknownLine naming the form."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _DURATION.sub("", cleaned):
        raise UnknownLine(f"advance {text.strip()} (use e.g. 1d, 2h30m, 1w)".replace("  ", " "))
    delta = timedelta()
    try:
        for amount, unit in _DURATION.findall(cleaned):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        delta = ADVANCE_MAX * 2
    if delta > ADVANCE_MAX:
        raise UnknownLine(f"advance {text.strip()} (at most {ADVANCE_MAX.days}d at a time)")
    return delta
