"""The console draws Markdown for a terminal with rich; its plain form stays the source.

The terminal form is compared without its colour codes (exact layout), and the codes
that carry meaning (bold) are checked where they must be.
"""

from __future__ import annotations

import re

from adapters.console.render import render
from bot.boundary import Choice, Field, OutMessage

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MESSAGE = OutMessage(
    tone="answer", title="Question #1", fields=(Field("Topic", "Data"),),
    body=("Why is it slow?\n\n**Answer**\nUse `num_workers` and **pin** memory:\n\n- one\n"
          "- two\n\n```python\nprint(1)\n```\n\n**Hint:** ||think of epochs||"),
    choices=(Choice("A", "a choice"),), footer="Source: bank.md:3",
)


def test_the_terminal_form_draws_the_markdown() -> None:
    shown = render(MESSAGE, terminal=True, width=60)
    assert ANSI.sub("", shown).split("\n") == [
        "== Question #1 ==",
        "Topic: Data",
        "Why is it slow?",
        "",
        "Answer",
        "Use num_workers and pin memory:",
        "",
        " • one",
        " • two",
        "",
        "",
        " print(1)",
        "",
        "",
        "Hint: think of epochs",
        "  A) a choice",
        "-- Source: bank.md:3",
    ]
    assert "\x1b[1mAnswer\x1b[0m" in shown and "\x1b[1mpin\x1b[0m" in shown
    assert "**" not in shown and "||" not in shown and "```" not in shown


def test_the_plain_form_is_the_markdown_source_without_spoilers() -> None:
    assert render(MESSAGE) == (
        "== Question #1 ==\nTopic: Data\n"
        "Why is it slow?\n\n**Answer**\nUse `num_workers` and **pin** memory:\n\n- one\n"
        "- two\n\n```python\nprint(1)\n```\n\n**Hint:** think of epochs\n"
        "  A) a choice\n-- Source: bank.md:3"
    )
    assert "\x1b" not in render(MESSAGE)


def test_the_terminal_form_lets_no_escape_sequence_through() -> None:
    hostile = OutMessage(tone="info", title="t\x1b[31m", body="a \x1b[2J b", footer="\x1b]0;x\x07")
    shown = render(hostile, terminal=True, width=40)
    assert "\x1b[2J" not in shown and "\x1b[31m" not in shown and "\x1b]0" not in shown
    assert ANSI.sub("", shown) == "== t[31m ==\na [2J b\n-- ]0;x"
