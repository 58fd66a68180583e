"""Fuzz the console's line parsing against a real core on SQLite.

Arbitrary text, and lines built from the console's own words with hostile arguments
(huge and non-ASCII numbers, options twice, stray quotes, @names, control, bidi and
zero-width characters, lone surrogates): run_line raises nothing but UnknownLine (the
path scripts stop on), never needs its catch-all (no "Something went wrong"), and a
line it refuses (UnknownLine, an error reply, or a note saying why) leaves every table
as it was."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.console.session import FAILURE_TEXT, Session, UnknownLine
from tests.console.conftest import DEMO_BANK, console_session, snapshot

WORDS = ["/qotd", "/answer", "/leaderboard", "/streak", "/QOTD", "/", "/qotd:", "//",
         "react", "unreact", "grade", "as", "advance", "now", "help", "#", "React", "quit"]
TOKENS = [
    "99999999999999999999", "9" * 300, "²", "١", "𝟙", "１２", "0", "-1", "#1", "1", "2", "m1",
    "m2", "m3", "m99", "yes", "no", "✅", "❌", "A", "b", "J", "K", "yes" * 3, "Good", "hard",
    "Brilliant", "admin", "bob", "@bob", "@", "@@", "@" + "x" * 40, "@\u202ebob", "post",
    "status", "schedule", "topics", "stats", "pause", "skip", "resume", "number:1",
    "number:²", "time:09:00", "time:25:00", "timezone:EST", "timezone:Europe/Berlin",
    "days:mon-fri", "days:funday", "include:Features", "include:Cooking", "reset:yes",
    "difficulty:easy=9999", "period:week", "period:galaxy", "scope:workspace", "foo:bar",
    ":", ":x", "x:", '"', "'", '"a b"', "\\", "1d", "2h30m", "1w", "soon", "400d", "0m",
    "\x00", "\u200b", "\u202e", "\ud800", "\t", "\ufeff", "",
]
VALUES = [
    "99999999999999999999", "9" * 300, "²", "١", "𝟙", "１２", "0", "-1", "#1", "1", "2",
    "09:00", "25:00", "٠٩:٠٠", "EST", "Etc/GMT+5", "Europe/Berlin", "mon-fri", "funday",
    "Features", "features,Deployment", "Cooking", "easy=2,medium=1", "easy=" + "9" * 100,
    "yes", "week", "all", "workspace", "galaxy", "", " ", "\x00", "\u200b", "\u202e", "\ud800",
    "x" * 2000,
]
KEYS = ["time", "timezone", "days", "reveal", "include", "exclude", "difficulty", "reset",
        "number", "period", "scope", "TIME", "user", "foo", ""]
values = st.one_of(st.sampled_from(VALUES), st.text(max_size=20))
at_user = st.sampled_from(["@bob", "@carol", "@Alice", "@b" * 20, "@\u202ebob", "@"])


@st.composite
def commands(draw: st.DrawFn) -> str:
    """Mostly well-formed command lines (unique option names, a subcommand only on
    /qotd), so that the hostile values reach the core's own checks."""
    name = draw(st.sampled_from(["qotd", "qotd", "qotd", "answer", "answer", "leaderboard",
                                 "streak", "QOTD"]))
    words = [f"/{name}"]
    if name.lower() == "qotd":
        words.append(draw(st.sampled_from(
            ["schedule", "post", "status", "topics", "stats", "pause", "resume", "skip",
             "SKIP", "frobnicate", "²", ""])))
    elif name == "answer" and draw(st.booleans()):
        words.append(shlex.quote(draw(values)))
    options = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=3))
    words += [f"{key}:{shlex.quote(value)}" for key, value in options.items()]
    if draw(st.integers(0, 3)) == 0:
        words.append(draw(at_user))
    return " ".join(word for word in words if word)


reactions = st.builds(
    lambda verb, key, target: " ".join(filter(None, [verb, key, target])),
    st.sampled_from(["react", "react", "unreact"]),
    st.one_of(st.sampled_from(["yes", "no", "A", "B", "C", "E", "J", "✅", "❌", "Yes"]),
              values),
    st.sampled_from(["", "", "m1", "m2", "m3", "m99", "m\x00", "1"]),
)
verbs = st.builds(
    lambda verb, arg: f"{verb} {arg}".rstrip(),
    st.sampled_from(["grade", "as", "advance", "now", "help"]),
    st.one_of(st.sampled_from(["Good", "again", "Brilliant", "bob", "carol admin", "bob boss",
                               "1h", "2h30m", "1d", "0m", "soon", "400d", "9" * 30 + "d"]),
              values),
)
junk = st.builds(lambda word, args: " ".join([word, *args]), st.sampled_from(WORDS),
                 st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)),
                          max_size=4))
lines = st.one_of(commands(), commands(), commands(), reactions, reactions, verbs, junk,
                  st.text(max_size=60))


async def _setup(session: Session) -> None:
    """A daily schedule with an open question, its reveal and a choice question out."""
    for line in ("/qotd schedule days:daily", "advance 3h", "react yes", "advance 1d",
                 "as bob", "react B", "as alice admin"):
        await session.run_line(line)


async def _one(session: Session, line: str) -> None:
    before = await snapshot(session)
    try:
        out = "\n".join(await session.run_line(line))
    except UnknownLine:
        event("unknown line")
        assert await snapshot(session) == before, line
        return
    assert FAILURE_TEXT not in out, (line, out)
    event("refused" if session.refused else "ran")  # --hypothesis-show-statistics
    if session.refused:
        assert await snapshot(session) == before, (line, out)


def test_no_line_escapes_run_line_and_refused_lines_change_nothing(tmp_path: Path) -> None:
    """Synchronous on purpose: one event loop (asyncio.Runner) holds one core for every
    example, which Hypothesis cannot do for an async test."""
    with asyncio.Runner() as runner:
        context = console_session(tmp_path / "fuzz.db", bank=DEMO_BANK)
        session = runner.run(context.__aenter__())
        try:
            runner.run(_setup(session))

            @settings(max_examples=250, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
            @given(lines)
            def one(line: str) -> None:
                runner.run(_one(session, line))

            one()
        finally:
            runner.run(context.__aexit__(None, None, None))
