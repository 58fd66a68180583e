"""Fuzz the core's command, button and reaction parsing against a real core.

Arbitrary names, subcommands and options (unicode keys and values, huge numbers,
non-ASCII digits, bidi and control characters, lone surrogates), arbitrary button
actions and reaction keys/message ids, from admins and members: no exception escapes,
and an input the core refuses (an error reply, or a reaction that is no answer key)
leaves every table as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.boundary import (
    NO,
    OPTION_KEYS,
    YES,
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    ReactionInput,
    UserRef,
)
from bot.clock import FakeClock
from storage.migrate import upgrade
from tests.conftest import (
    ADMIN,
    ALICE,
    CHANNEL,
    START,
    cmd,
    drop_schema,
    make_core,
    new_schema,
    pg_base,
)
from tests.dbstate import snapshot

SPECIAL = [
    "99999999999999999999", "9" * 250, "²", "١", "𝟙", "１２", "0", "-1", "#1", "1", "2", "5",
    "\u202e", "\u200b", "\x00", "\ud800", "EST", "Etc/GMT+5", "US/Eastern", "Europe/Berlin",
    "09:00", "25:00", "٠٩:٠٠", "mon-fri", "daily", "funday", "Features", "features,Deployment",
    "Cooking", "easy=2,medium=1", "easy=" + "9" * 100, "impossible", "yes", "no", "week",
    "all", "workspace", "galaxy", "", " ", "grade:1:good",
]
anything = st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
values = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=40), anything)
option_names = st.sampled_from(["time", "timezone", "days", "reveal", "include", "exclude",
                                "difficulty", "reset", "number", "period", "scope", "TIME",
                                "Number", "user", "foo"])
def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` nine times in ten: junk ids and names stop an input early, and the fuzz
    is meant to reach the option parsing behind them."""
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else good)


user_ids = mostly(st.sampled_from(["u-admin", "u-alice", "u-bob"]),
                  st.one_of(st.sampled_from(["u" * 65, "u\x00", ""]), anything))
actors = st.builds(Actor, user_ids, st.one_of(values, st.text(max_size=300)), st.booleans())
channels = mostly(
    st.sampled_from([CHANNEL, CHANNEL, ChannelRef("console", "ws1", "c2")]),
    st.builds(ChannelRef, st.just("console"), st.sampled_from(["ws1", "", "w" * 65]), anything),
)
commands = st.builds(
    CommandInput,
    name=mostly(st.sampled_from(["qotd", "qotd", "answer", "leaderboard", "streak", "QOTD"]),
                anything),
    actor=actors,
    channel=channels,
    subcommand=mostly(st.sampled_from(
        ["schedule", "pause", "resume", "skip", "post", "status", "topics", "stats",
         "SCHEDULE", " topics "]), st.one_of(st.none(), anything)),
    options=st.dictionaries(mostly(option_names, anything), values, max_size=4),
    user=st.one_of(st.none(), st.builds(UserRef, user_ids, values)),
)
keys = st.one_of(st.sampled_from([*OPTION_KEYS, YES, NO, "a", "yes" * 3]), anything)


async def _setup(core: Core, console: ConsoleOutbound) -> list[str]:
    """A scheduled channel with an open and a choice question out, a few answers."""
    await core.handle_command(cmd("qotd", "schedule", days="daily"))
    await core.handle_command(cmd("qotd", "topics", include="Deployment", difficulty="hard"))
    await core.handle_command(cmd("qotd", "post"))
    await core.handle_command(cmd("qotd", "topics", include="Monitoring", difficulty="easy"))
    await core.handle_command(cmd("qotd", "post"))
    await core.handle_command(cmd("qotd", "topics", reset="yes"))
    ids = [p.message_id for p in console.posts()]
    await core.handle_reaction(ReactionInput(ALICE, CHANNEL, ids[0], YES, True))
    await core.handle_reaction(ReactionInput(ADMIN, CHANNEL, ids[1], "B", True))
    return ids


@st.composite
def inputs(draw: Any, message_ids: list[str]) -> CommandInput | ButtonInput | ReactionInput:
    kind = draw(st.sampled_from(["command", "command", "command", "button", "reaction"]))
    if kind == "command":
        return draw(commands)  # type: ignore[no-any-return]
    actor, channel = draw(actors), draw(channels)
    if kind == "button":
        post = draw(st.one_of(st.sampled_from(["1", "2", "3"]), values))
        grade = draw(st.one_of(st.sampled_from(["again", "hard", "good", "easy"]), values))
        action = draw(st.one_of(st.just(f"grade:{post}:{grade}"), values))
        return ButtonInput(actor, channel, action, draw(st.one_of(st.none(), values)))
    message_id = draw(st.one_of(st.sampled_from(message_ids), values))
    return ReactionInput(actor, channel, message_id, draw(keys), draw(st.booleans()))


async def _core(url: str, bank: Path, console: ConsoleOutbound) -> Core:
    await upgrade(url)
    core = await make_core(url, bank, FakeClock(START), console)
    await core.start()
    return core


async def _one(core: Core, item: CommandInput | ButtonInput | ReactionInput) -> None:
    before = await snapshot(core)
    if isinstance(item, CommandInput):
        replies = await core.handle_command(item)
    elif isinstance(item, ButtonInput):
        replies = await core.handle_button(item)
    else:
        assert await core.handle_reaction(item) == []
        if item.key not in (*OPTION_KEYS, YES, NO):
            assert await snapshot(core) == before
        return
    assert replies
    event(f"{type(item).__name__} {replies[0].message.tone}")  # --hypothesis-show-statistics
    for reply in replies:
        reply.message.body.encode("utf-8")  # sendable: no lone surrogate echoed back
    if any(reply.message.tone == "error" for reply in replies):
        assert await snapshot(core) == before, replies


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_no_input_crashes_the_core_or_changes_state_when_refused(
        backend: str, tmp_path: Path, bank_dir: Path) -> None:
    """Synchronous on purpose: one event loop (asyncio.Runner) holds one core for every
    example, which Hypothesis cannot do for an async test."""
    console = ConsoleOutbound()
    with asyncio.Runner() as runner:
        base = pg_base() if backend == "postgresql" else ""
        url = (runner.run(new_schema(base, "fuzz")) if base
               else f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}")
        core = runner.run(_core(url, bank_dir, console))
        try:
            message_ids = runner.run(_setup(core, console))

            @settings(max_examples=300, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
            @given(inputs(message_ids))
            def one(event: CommandInput | ButtonInput | ReactionInput) -> None:
                runner.run(_one(core, event))

            one()
        finally:
            runner.run(core.stop())
            if base:
                runner.run(drop_schema(base, url))
