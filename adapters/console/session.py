"""The console's little language: lines a user would type in a chat, played against the core.

One Session is one terminal channel (console / local / general). It turns each line into
the core's typed inputs, and prints what the channel shows since the previous line: posts,
thread replies and replies, ephemerals marked "(only NAME sees this)". The same object runs
scripts (`qotd console --script`), the interactive REPL and the tests.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from adapters.console.outbound import ConsoleOutbound, Entry
from adapters.console.render import render
from bot.boundary import (
    NO,
    OPTION_KEYS,
    YES,
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
    UserRef,
)
from bot.clock import FakeClock
from bot.plugins import CoreHandle

CHANNEL = ChannelRef("console", "local", "general")
COMMANDS = ("qotd", "answer", "leaderboard", "streak")
_DURATION = re.compile(r"(\d+)([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")

HELP = """\
Type what a chat user would type:
  /qotd schedule time:09:00 timezone:Europe/Berlin days:mon-fri   (admin)
  /qotd post | pause | resume | skip                             (admin)
  /qotd topics include:Monitoring difficulty:easy,medium          (admin)
  /qotd status | /qotd stats @bob
  /answer | /answer 3        the reference answer, only you see it
  /leaderboard period:week scope:channel | /streak | /streak @bob
  react A | react yes | unreact A   react on the latest question (A-J, yes, no)
  grade Good                 press a grade button of your last /answer
  as NAME [admin]            switch user (the first user, --as, is an admin)
  advance 1d | advance 2h30m move the console's clock; due posts and reveals fire
  now                        print the clock
  help                       this text; lines starting with # are comments"""


class UnknownLine(ValueError):
    """A line the console does not understand (the script runner exits non-zero)."""


@dataclass
class Session:
    """A console channel bound to a core. `clock` is the FakeClock that `advance` moves,
    or None when the core follows real time (`qotd run`)."""

    core: CoreHandle
    outbound: ConsoleOutbound
    user: str
    clock: FakeClock | None = None
    admins: set[str] = field(default_factory=set)
    channel: ChannelRef = CHANNEL
    _seen: int = 0
    _last_answer: dict[str, OutMessage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user = _checked_name(self.user)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.lower(), self.user, is_admin=self.user.lower() in self.admins)

    async def run_line(self, line: str) -> list[str]:
        """Run one line; return the blocks of text the channel shows because of it."""
        text = line.strip()
        if not text or text.startswith("#"):
            return self.flush()
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        replies: list[Reply] = []
        out: list[str] = []
        if word.startswith("/"):
            replies = await self.core.handle_command(self.command_input(word[1:], rest))
        elif word in ("react", "unreact"):
            replies = await self._react(rest, added=word == "react")
        elif word == "grade":
            replies = await self._grade(rest)
        elif word == "as":
            out.append(self._switch(rest))
        elif word == "advance":
            out.append(await self._advance(rest))
        elif word == "now":
            out.append(self.now_text())
        elif word == "help":
            out.append(HELP)
        else:
            raise UnknownLine(text)
        return [*self.flush(), *out, *(self._reply_text(r) for r in replies)]

    def flush(self) -> list[str]:
        """What the channel showed since the last call (posts from scheduled jobs too)."""
        entries = self.outbound.transcript[self._seen:]
        self._seen = len(self.outbound.transcript)
        return [text for e in entries if (text := _entry_text(e))]

    # -- line handlers -------------------------------------------------------------

    def command_input(self, name: str, rest: str) -> CommandInput:
        name = name.lower()
        if name not in COMMANDS:
            raise UnknownLine(f"/{name}")
        try:
            tokens = shlex.split(rest)
        except ValueError as exc:
            raise UnknownLine(f"/{name} {rest} ({exc})") from None
        subcommand: str | None = None
        options: dict[str, str] = {}
        user: UserRef | None = None
        for token in tokens:
            if token.startswith("@") and len(token) > 1:
                target = _checked_name(token[1:])
                user = UserRef(target.lower(), target)
            elif ":" in token:
                key, _, value = token.partition(":")
                options[key.lower()] = value
            elif name == "qotd" and subcommand is None and not options:
                subcommand = token.lower()
            elif name == "answer" and "number" not in options:
                options["number"] = token
            else:
                raise UnknownLine(f"/{name} {rest} (unexpected {token!r}; options are key:value)")
        return CommandInput(name=name, actor=self.actor, channel=self.channel,
                            subcommand=subcommand, options=options, user=user)

    async def _react(self, rest: str, *, added: bool) -> list[Reply]:
        key = rest.strip()
        key = key.lower() if key.lower() in (YES, NO) else key.upper()
        if key not in (YES, NO) and (len(key) != 1 or key not in OPTION_KEYS):
            raise UnknownLine(f"react {rest} (use A-J, yes or no)")
        target = self._latest_question()
        if target is None:
            return [_note("There is no question to react to yet.")]
        return await self.core.handle_reaction(
            ReactionInput(self.actor, self.channel, target, key, added)
        )

    async def _grade(self, rest: str) -> list[Reply]:
        label = rest.strip().lower()
        answer = self._last_answer.get(self.user.lower())
        if answer is None or not answer.buttons:
            return [_note("Nothing to grade: run /answer on an open question first.")]
        for button in answer.buttons:
            if button.label.lower() == label:
                return await self.core.handle_button(
                    ButtonInput(self.actor, self.channel, button.action)
                )
        labels = ", ".join(b.label for b in answer.buttons)
        return [_note(f"No button {rest.strip()!r} on your last answer: use one of {labels}.")]

    def _switch(self, rest: str) -> str:
        parts = rest.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() != "admin"):
            raise UnknownLine(f"as {rest} (use: as NAME or as NAME admin)")
        self.user = _checked_name(parts[0])
        if len(parts) == 2:
            self.admins.add(self.user.lower())
        role = " (admin)" if self.user.lower() in self.admins else ""
        return f"you are now {self.user}{role}"

    async def _advance(self, rest: str) -> str:
        delta = parse_duration(rest)
        if self.clock is None:
            return "advance works in `qotd console` (a fake clock); `qotd run` follows real time."
        advance_to = getattr(self.core, "advance_to", None)
        if advance_to is None:  # pragma: no cover - every Core has it
            return "this core cannot move time"
        await advance_to(self.clock.now() + delta)
        return self.now_text()

    def now_text(self) -> str:
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)
        return f"now: {now:%a %Y-%m-%d %H:%M} UTC"

    # -- output ----------------------------------------------------------------------

    def _latest_question(self) -> str | None:
        for entry in reversed(self.outbound.transcript):
            if entry.kind == "post" and entry.message is not None and \
                    entry.message.tone == "question":
                return entry.message_id
        return None

    def _reply_text(self, reply: Reply) -> str:
        if reply.message.buttons:
            self._last_answer[self.user.lower()] = reply.message
        text = render(reply.message)
        if reply.visibility == "ephemeral":
            return f"(only {self.user} sees this)\n{text}"
        return text


def _note(text: str) -> Reply:
    return Reply("ephemeral", OutMessage(tone="info", body=text))


def _entry_text(entry: Entry) -> str:
    if entry.kind == "post":
        return f"[{entry.message_id}] {entry.text}"
    if entry.kind == "thread":
        return f"[{entry.message_id} in thread of {entry.parent_id}] {entry.text}"
    if entry.kind == "ephemeral":
        return f"(only {entry.user_id} sees this)\n{entry.text}"
    if entry.kind == "edit":
        return f"[{entry.message_id} edited] {entry.text}"
    return ""  # reactions the bot adds are shown with their post


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise UnknownLine(f"{name!r} is not a user name (letters, digits, _ . -; max 32)")
    return name


def parse_duration(text: str) -> timedelta:
    """"1d", "2h30m", "1w"; anything else is an UnknownLine naming the form."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _DURATION.sub("", cleaned):
        raise UnknownLine(f"advance {text.strip()} (use e.g. 1d, 2h30m, 1w)")
    delta = timedelta()
    for amount, unit in _DURATION.findall(cleaned):
        delta += timedelta(**{_UNITS[unit]: int(amount)})
    return delta


async def run_script(session: Session, lines: Iterable[str], name: str, out: TextIO,
                     err: TextIO) -> int:
    """Echo each line as `> line`, print what the channel shows; stop at an unknown line
    with `file:line: ...` on `err` and return 2 (0 when the whole script ran)."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if line.strip():
            print(f"> {line}", file=out)
        try:
            blocks = await session.run_line(line)
        except UnknownLine as exc:
            print(f'{name}:{number}: unknown command "{exc}"; try help', file=err)
            return 2
        for block in blocks:
            print(block, file=out)
    for block in session.flush():
        print(block, file=out)
    return 0
