"""OutMessage -> text for a terminal (and for readable test transcripts).

Two forms. `terminal=True` is for a person at a terminal: the body's Markdown drawn by
rich (bold, code blocks, lists, tables), with colour. The default is the plain form, for
scripts, pipes and transcripts: the body as its Markdown source, which reads well as
plain text and stays byte-stable, so scripted runs and tests can compare it. Either way a
hint's spoiler (`||…||`, which only Discord can hide) is shown as text.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from bot.boundary import NO, YES, OutMessage
from bot.text import clean_text
from content.render import with_hard_breaks, without_spoilers

_REACTION_LABELS = {YES: "✅", NO: "❌"}
DEFAULT_WIDTH = 100


def render(message: OutMessage, *, terminal: bool = False, width: int | None = None) -> str:
    if terminal:
        return _rich(message, width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    lines: list[str] = []
    if message.title:
        lines.append(f"== {message.title} ==")
    if message.fields:
        lines.append(_fields(message))
    if message.body:
        lines.append(without_spoilers(message.body))
    lines.extend(_tail(message))
    return "\n".join(lines)


def _fields(message: OutMessage) -> str:
    return " | ".join(f"{f.name}: {f.value}" for f in message.fields)


def _tail(message: OutMessage) -> list[str]:
    lines = [f"  {choice.key}) {choice.text}" for choice in message.choices]
    if message.buttons:
        lines.append("  " + " ".join(f"[{b.label}]" for b in message.buttons))
    if message.reactions:
        keys = " ".join(_REACTION_LABELS.get(k, k) for k in message.reactions)
        lines.append(f"  reactions: {keys}")
    for attachment in message.attachments:  # the console cannot draw a chart: its words
        lines.append(f"  [{attachment.filename}: {attachment.alt_text}]")
    if message.footer:
        lines.append(f"-- {message.footer}")
    return lines


def _rich(message: OutMessage, width: int) -> str:
    """The message drawn by rich into a string (the REPL prints it where the prompt
    allows). Links are written out, `text (url)`, as not every terminal can click.
    The text is cleaned of control characters first: this form goes to the terminal
    raw, and an escape sequence in a bank file must not reach it."""
    message = replace(
        message, title=clean_text(message.title), body=clean_text(message.body),
        footer=clean_text(message.footer),
        fields=tuple(replace(f, name=clean_text(f.name), value=clean_text(f.value))
                     for f in message.fields),
        choices=tuple(replace(c, text=clean_text(c.text)) for c in message.choices),
        buttons=tuple(replace(b, label=clean_text(b.label)) for b in message.buttons),
        attachments=tuple(replace(a, filename=clean_text(a.filename),
                                  alt_text=clean_text(a.alt_text))
                          for a in message.attachments),
    )
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", width=width,
                      highlight=False, emoji=False, markup=False, legacy_windows=False)
    if message.title:
        console.print(Text(f"== {message.title} ==", style="bold"))
    if message.fields:
        console.print(Text(_fields(message), style="dim"))
    if message.body:
        body = with_hard_breaks(without_spoilers(message.body))
        console.print(Markdown(body, code_theme="ansi_dark", hyperlinks=False))
    for line in _tail(message):
        console.print(Text(line, style="dim" if line.startswith("--") else ""))
    # rich pads each line to the width: a terminal does not need the spaces
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").split("\n"))
