"""A console channel: lines a user would type in a chat, played against the core.

One Session is one terminal channel (console / local / general). It turns each line into
the core's typed inputs (adapters.console.language reads them), and prints what the
channel shows since the previous line: posts, thread replies and replies, ephemerals
marked "(only NAME sees this)". The same object runs scripts (`qotd console --script`),
the interactive REPL and the tests.

No line goes unanswered and no line can end the REPL: a line the console does not
understand raises UnknownLine (the REPL prints the reason; a script stops); a line the
console understands but that cannot count (a letter on an open question, a reaction on
a reply, a grade with nothing to grade) gets a note saying why, and the core is not
called; any other exception is logged once with a traceback and the user reads a short
apology. `refused` tells whether the last line changed nothing for one of these reasons
(the tests check that refused lines leave the database as it was).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from adapters.console.language import (
    COMMANDS,
    EMOJI,
    UnknownLine,
    checked_name,
    help_text,
    parse_command,
    parse_duration,
    parse_reaction,
)
from adapters.console.outbound import ConsoleOutbound, Entry
from adapters.console.render import render
from bot.boundary import (
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
    parse_vote_action,
)
from bot.clock import FakeClock
from bot.plugins import CoreHandle

__all__ = ["CHANNEL", "FAILURE_TEXT", "HELP", "Session", "UnknownLine", "parse_duration",
           "run_script"]

log = logging.getLogger(__name__)

CHANNEL = ChannelRef("console", "local", "general")
HELP = help_text()  # the form, for `qotd console --help`; the `help` line names a topic
FAILURE_TEXT = "Something went wrong on our side; it has been logged. Please try again."
VERBS = ("react", "unreact", "grade", "press", "as", "advance", "now", "help")


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
    refused: bool = False  # the last line changed nothing: unknown, an error, or a note
    # Markdown drawn by rich with colour, for a person at a terminal (whoever wires the
    # session to a TTY sets it); off, the plain form that scripts and tests compare
    terminal: bool = False
    _seen: int = 0
    _last_answer: dict[str, OutMessage] = field(default_factory=dict)
    # the last message with buttons each user saw (a reply, a DM, a post): what `press`
    # presses, with the message's id when it has one
    _last_buttons: dict[str, tuple[OutMessage, str | None]] = field(default_factory=dict)
    _replies: int = 0
    _pressed: bool = False
    _reacted: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # the latest question post with answer buttons (everyone sees a post): what `press`
    # presses when the label is not on the user's own last message with buttons
    _post_buttons: tuple[OutMessage, str] | None = None

    def __post_init__(self) -> None:
        self.user = checked_name(self.user)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.lower(), self.user, is_admin=self.user.lower() in self.admins)

    async def run_line(self, line: str) -> list[str]:
        """Run one line; return the blocks of text the channel shows because of it.
        Raises only UnknownLine (and cancellation)."""
        self.refused = False
        try:
            return await self._run(line)
        except UnknownLine:
            self.refused = True
            log.debug("console line refused: %s (user %s)", _kind(line), self.user)
            raise
        except Exception:
            self.refused = True
            log.error("console line failed: %s in %s/%s/%s by user %s", _kind(line),
                      *_where(self.channel), self.user, exc_info=True)
            return [*self.flush(), f"(only {self.user} sees this)\n{FAILURE_TEXT}"]

    def flush(self) -> list[str]:
        """What the channel showed since the last call (posts from scheduled jobs too)."""
        entries = self.outbound.transcript[self._seen:]
        self._seen = len(self.outbound.transcript)
        return [text for e in entries if (text := self._entry_text(e))]

    def command_input(self, name: str, rest: str) -> CommandInput:
        return parse_command(name, rest, self.actor, self.channel)

    def now_text(self) -> str:
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)
        return f"now: {now:%a %Y-%m-%d %H:%M} UTC"

    # -- line handlers -------------------------------------------------------------

    async def _run(self, line: str) -> list[str]:
        text = line.strip()
        if not text or text.startswith("#"):
            return self.flush()
        word, rest = [*text.split(maxsplit=1), ""][:2]
        out: list[str] = []
        replies: list[Reply] = []
        self._pressed = word in ("press", "grade")  # only a button's reply can update
        if word.startswith("/"):
            replies = await self.core.handle_command(self.command_input(word[1:], rest))
        elif word in ("react", "unreact"):
            replies = await self._react(word, rest)
        elif word == "grade":
            replies = await self._grade(rest)
        elif word == "press":
            replies = await self._press(rest)
        elif word == "as":
            out.append(self._switch(rest))
        elif word == "advance":
            out.append(await self._advance(rest))
        elif word in ("now", "help") and rest:
            raise UnknownLine(f"{text} ({word} takes nothing after it)")
        elif word == "now":
            out.append(self.now_text())
        elif word == "help":
            out.append(help_text(await self._example_topic()))
        else:
            raise UnknownLine(text)
        if any(r.message.tone == "error" for r in replies):
            self.refused = True
        return [*self.flush(), *out, *(self._reply_text(r) for r in replies)]

    async def _react(self, verb: str, rest: str) -> list[Reply]:
        wanted = parse_reaction(verb, rest)
        target = self._find(wanted.target) if wanted.target else self._latest_question()
        if target is None:
            return [self._note(self._no_target(wanted.target))]
        message = target.message
        shown = self.outbound.shown(target.message_id)
        if target.kind != "post" or message is None or message.tone != "question":
            return [self._note(f"{shown} is not a question: reactions count on question "
                               f"posts only{self._latest_hint()}.")]
        label = EMOJI.get(wanted.key, wanted.key)
        if wanted.key not in answer_keys(message):
            return [self._note(_wrong_key(message, label))]
        mine = self._reacted.setdefault((self.user.lower(), target.message_id), set())
        added = verb == "react"
        if added == (wanted.key in mine):
            done = "already reacted" if added else "have not reacted"
            return [self._note(f"You {done} {label} on {shown}.")]
        replies = await self.core.handle_reaction(
            ReactionInput(self.actor, self.channel, target.message_id, wanted.key, added)
        )
        if added:
            mine.add(wanted.key)
        else:
            mine.discard(wanted.key)
        did = "reacted" if added else "took back"
        note = f"{self.user} {did} {label} on {shown} ({message.title or 'the question'})"
        if self._revealed(target.message_id):
            note += "; it is revealed, so this is practice and scores nothing"
        return [Reply("public", OutMessage(tone="info", body=note + ".")), *replies]

    async def _grade(self, rest: str) -> list[Reply]:
        parts = rest.split()
        if len(parts) != 1:
            raise UnknownLine(f"grade {rest} (use grade Good: Again, Hard, Good or Easy)"
                              .replace("  ", " "))
        answer = self._last_answer.get(self.user.lower())
        if answer is None:
            return [self._note("Nothing to grade: /answer an open question first, then "
                               "grade Good (or Again, Hard, Easy).")]
        if not answer.buttons:
            return [self._note(f"{answer.title or 'That question'} is multiple-choice: your "
                               "vote (react with its letter) is your answer; grades are "
                               "for open questions.")]
        for button in answer.buttons:
            if button.label.lower() == parts[0].lower():
                return await self.core.handle_button(
                    ButtonInput(self.actor, self.channel, button.action)
                )
        labels = ", ".join(b.label for b in answer.buttons)
        return [self._note(f"No button {parts[0]!r} on your last answer: use one of "
                           f"{labels}.")]

    async def _press(self, rest: str) -> list[Reply]:
        """`press LABEL`: a button of the last message with buttons this user saw (a
        review card, a confirmation), else of the latest question post (its answer
        buttons: `press B`, `press I knew it`); the label as shown, any case."""
        label = " ".join(rest.split())
        if not label:
            raise UnknownLine("press (use press LABEL, e.g. press Good or press Show answer)")
        own = self._last_buttons.get(self.user.lower())
        seen = [found for found in (own, self._post_buttons) if found is not None]
        for message, message_id in seen:
            for button in message.buttons:
                if button.label.lower() == label.lower():
                    return await self.core.handle_button(
                        ButtonInput(self.actor, self.channel, button.action, message_id)
                    )
        on_post = (f" The latest question's buttons: "
                   f"{', '.join(b.label for b in self._post_buttons[0].buttons)}."
                   if self._post_buttons is not None else "")
        if own is None:
            return [self._note("Nothing to press: no message with buttons has been shown "
                               f"to {self.user} (try /review).{on_post}")]
        labels = ", ".join(b.label for b in own[0].buttons)
        return [self._note(f"No button {label!r} on the last message with buttons: use one "
                           f"of {labels}.{on_post}")]

    def _switch(self, rest: str) -> str:
        parts = rest.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() != "admin"):
            raise UnknownLine(f"as {rest} (use: as NAME or as NAME admin)".replace("  ", " "))
        self.user = checked_name(parts[0])
        if len(parts) == 2:
            self.admins.add(self.user.lower())
        role = " (admin)" if self.user.lower() in self.admins else ""
        return f"you are now {self.user}{role}"

    async def _advance(self, rest: str) -> str:
        delta = parse_duration(rest)
        if self.clock is None:
            self.refused = True
            return "advance works in `qotd console` (a fake clock); `qotd run` follows real time."
        advance_to = getattr(self.core, "advance_to", None)
        if advance_to is None:  # pragma: no cover - every Core has it
            self.refused = True
            return "this core cannot move time"
        await advance_to(self.clock.now() + delta)
        return self.now_text()

    async def _example_topic(self) -> str | None:
        """A topic of the bank that `include:` takes as one name (no comma in it)."""
        usable = [t for t in await self.core.topic_names() if "," not in t and t.isprintable()]
        return min(usable, default=None)

    # -- what the channel shows ------------------------------------------------------

    def _find(self, shown: str) -> Entry | None:
        for entry in reversed(self.outbound.transcript):
            if entry.kind != "reactions" and self.outbound.shown(entry.message_id) == shown:
                return entry
        return None

    def _latest_question(self) -> Entry | None:
        for entry in reversed(self.outbound.transcript):
            if entry.kind == "post" and entry.message is not None and \
                    entry.message.tone == "question":
                return entry
        return None

    def _latest_hint(self) -> str:
        latest = self._latest_question()
        return f" (the latest question is {self.outbound.shown(latest.message_id)})" if latest else ""

    def _no_target(self, shown: str | None) -> str:
        if shown is not None:
            return f"There is no message {shown} here{self._latest_hint()}."
        return ("No question has been posted in this console yet: /qotd post (admins) posts "
                "one now; /qotd status says when the next one comes.")

    def _revealed(self, message_id: str) -> bool:
        return any(e.kind == "thread" and e.parent_id == message_id and e.message is not None
                   and e.message.tone == "reveal" for e in self.outbound.transcript)

    def _note(self, text: str) -> Reply:
        self.refused = True
        return Reply("ephemeral", OutMessage(tone="info", body=text))

    def _reply_text(self, reply: Reply) -> str:
        if reply.message.tone == "answer":
            self._last_answer[self.user.lower()] = reply.message
        self._replies += 1
        reply_id = f"r{self._replies}"
        update = reply.visibility == "update" and self._pressed
        if reply.message.buttons:
            # an update replaces the message its button was on: the next press is on it
            self._last_buttons[self.user.lower()] = (reply.message, reply_id)
        elif update:  # ... and one without buttons leaves none
            self._last_buttons.pop(self.user.lower(), None)
        text = render(reply.message, terminal=self.terminal) + self._saved(reply_id, reply.message)
        if update:
            return f"(only {self.user} sees this, updated)\n{text}"
        if reply.visibility != "public":  # an "update" to a command: a private reply
            return f"(only {self.user} sees this)\n{text}"
        return text

    def _saved(self, message_id: str, message: OutMessage) -> str:
        paths = self.outbound.save_files(message_id, message)
        return "".join(f"\n  (saved {path})" for path in paths)

    def _entry_text(self, entry: Entry) -> str:
        shown = self.outbound.shown
        text = render(entry.message, terminal=self.terminal) if entry.message is not None else ""
        if entry.kind == "post":
            if entry.message is not None and entry.message.buttons:
                self._post_buttons = (entry.message, entry.message_id)
            return f"[{shown(entry.message_id)}] {text}"
        if entry.kind == "thread":
            parent = shown(entry.parent_id or "")
            return f"[{shown(entry.message_id)} in thread of {parent}] {text}"
        if entry.message is not None and entry.message.buttons and entry.user_id:
            self._last_buttons[entry.user_id.lower()] = (entry.message, entry.message_id)
        if entry.kind == "ephemeral":
            return f"(only {entry.user_id} sees this)\n{text}"
        if entry.kind == "direct":
            return f"[{shown(entry.message_id)}] (direct message to {entry.user_id})\n{text}"
        if entry.kind == "edit":
            return f"[{shown(entry.message_id)} edited] {text}"
        return ""  # reactions the bot adds are shown with their post


def answer_keys(question: OutMessage) -> tuple[str, ...]:
    """The keys a member may react with on a question post: its seed reactions
    (reactions mode), else the keys of its vote buttons (buttons mode, where a member's
    own reaction still counts)."""
    if question.reactions:
        return question.reactions
    votes = (parse_vote_action(b.action) for b in question.buttons)
    return tuple(vote[1] for vote in votes if vote is not None)


def _wrong_key(question: OutMessage, label: str) -> str:
    title = question.title or "This question"
    keys = answer_keys(question)
    if set(keys) <= set(EMOJI):
        return (f"{title} is an open question, so {label} does not count: react yes "
                "(✅ I knew it) or react no (❌ not yet). Option letters are for "
                "multiple-choice questions.")
    return (f"{title} is multiple-choice, so {label} does not count: react with one of its "
            f"options ({', '.join(keys)}); yes and no are for open questions.")


def _kind(line: str) -> str:
    """What a line was, for a log line: the command or verb, never the user's text."""
    word = (line.split(maxsplit=1) or [""])[0]
    if word.startswith("/") and word[1:].lower() in COMMANDS:
        return f"command /{word[1:].lower()}"
    return word if word in VERBS else "unknown line"


def _where(channel: ChannelRef) -> tuple[str, str, str]:
    return channel.platform, channel.workspace_id, channel.channel_id


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
