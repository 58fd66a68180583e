"""Fuzzing the adapter's inbound translation with hypothesis: gateway payloads of every
shape go through the real client's (guarded) parsers, discord.py's command tree and
views, our bridge and translate.py, into the real core on SQLite.

Properties: nothing escapes (no exception reaches discord.py's handlers or the log as
an error), and refused input changes nothing (every table compared before and after).
A reaction may only change the database when it is exactly a member's letter on the
day's post; an interaction only when its answer is not an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from adapters.discord.emoji import KEY_TO_EMOJI
from adapters.discord.render import COLOURS
from tests.discord.conftest import ADMIN_PERMISSIONS, Stack, choice_question, open_question
from tests.discord.fake_discord import EVERYONE_PERMISSIONS, FakeDiscord, FakeUser

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SNOWFLAKE_MAX = (1 << 64) - 1

# Values Discord never sends where an id belongs, plus a few that it does.
garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.text(alphabet="0123456789²³١٢٣𝟙٣", min_size=1, max_size=22),
    st.sampled_from(["", "0", "-5", "1e3", " 12", "12 ", str(1 << 64), str((1 << 64) - 1)]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
DROP = object()


def mutate(draw: Any, data: dict[str, Any], fields: list[str], most: int = 3) -> None:
    for key in draw(st.lists(st.sampled_from(fields), max_size=most, unique=True)):
        value = draw(st.one_of(garbage, st.just(DROP)))
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value


def is_snowflake(value: object) -> bool:
    """Discord sends ids as strings of ASCII digits; a JSON number in range is the same
    id, and the adapter takes it too."""
    if isinstance(value, int) and not isinstance(value, bool):
        return 0 < value <= SNOWFLAKE_MAX
    return (isinstance(value, str) and 0 < len(value) <= 20 and value.isascii()
            and value.isdigit() and 0 < int(value) <= SNOWFLAKE_MAX)


@contextmanager
def watching() -> Iterator[list[logging.LogRecord]]:
    """What an escaped exception leaves: an error from discord.py ("Ignoring exception
    in ...") or asyncio ("Task exception was never retrieved"), or a traceback anywhere.
    (Our one-line errors, e.g. Discord refusing an answer to an interaction id the
    fuzzer reused, are the handling working.)"""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info or (record.levelno >= logging.ERROR
                                   and record.name.startswith(("discord", "asyncio"))):
                seen.append(record)

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield seen
    finally:
        root.removeHandler(handler)


async def feed(stack: Stack, event: str, data: Any) -> None:
    """Hand the payload to the client's parser as the gateway would, then wait for every
    task it started (event handlers, the command tree, views) and theirs."""
    assert stack.discord is not None
    client = stack.discord.client
    baseline = asyncio.all_tasks()
    client._connection.parsers[event](data)
    while True:
        pending = {t for t in asyncio.all_tasks() - baseline if not t.done()}
        pending.discard(asyncio.current_task())  # type: ignore[arg-type]
        if not pending:
            return
        done, _ = await asyncio.wait(pending, timeout=10)
        assert done, "a handler task hung"


@pytest.fixture
async def day(make_stack: Any) -> tuple[Stack, dict[str, Any]]:
    stack: Stack = make_stack([choice_question(), open_question()])
    await stack.up()
    post = await stack.post_question()
    return stack, post


# -- reactions --------------------------------------------------------------------------

emoji_names = st.sampled_from([*KEY_TO_EMOJI.values(), "✅\ufe0f", "👍", "B", "🇰"])


@st.composite
def reactions(draw: Any, fake: FakeDiscord, post: dict[str, Any]) -> tuple[str, Any]:
    event = draw(st.sampled_from(["MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"]))
    user = FakeUser(draw(st.integers(min_value=1, max_value=SNOWFLAKE_MAX)), "fuzz",
                    bot=draw(st.booleans()))
    data = fake.reaction(user, int(post["id"]), draw(emoji_names),
                         added=event.endswith("ADD"))
    mutate(draw, data, ["user_id", "channel_id", "message_id", "guild_id", "emoji", "member",
                        "burst", "type"])
    if isinstance(data.get("emoji"), dict) and draw(st.booleans()):
        mutate(draw, data["emoji"], ["id", "name", "animated"], most=2)
    if isinstance(data.get("member"), dict) and draw(st.booleans()):
        mutate(draw, data["member"], ["user", "roles", "joined_at", "nick"], most=2)
    if draw(st.integers(0, 20)) == 0:
        return event, draw(st.one_of(garbage, st.lists(garbage, max_size=3)))
    return event, data


def _same_id(value: object, expected: object) -> bool:
    return is_snowflake(value) and str(value) == str(expected)


def may_write(fake: FakeDiscord, post: dict[str, Any], data: Any) -> bool:
    """Only a member's letter (or ✅/❌) on the day's post, ids exactly as Discord sends
    them, may change the database."""
    if not isinstance(data, dict):
        return False
    emoji = data.get("emoji")
    member = data.get("member", None)
    return (
        is_snowflake(data.get("user_id")) and int(data["user_id"]) != fake.bot.id
        and _same_id(data.get("channel_id"), fake.channel_id)
        and _same_id(data.get("message_id"), post["id"])
        and _same_id(data.get("guild_id"), fake.guild_id)
        and isinstance(emoji, dict) and emoji.get("id") is None
        and isinstance(emoji.get("name"), str)
        and emoji["name"].replace("\ufe0f", "") in KEY_TO_EMOJI.values()
        and (member is None or (isinstance(member, dict) and isinstance(member.get("user"), dict)
                                and not member["user"].get("bot")))
    )


@FUZZ
@given(data=st.data())
async def test_fuzzed_reactions_never_escape_and_refused_ones_change_nothing(
    day: tuple[Stack, dict[str, Any]], data: st.DataObject
) -> None:
    stack, post = day
    event, payload = data.draw(reactions(stack.fake, post))
    before = stack.snapshot()
    with watching() as errors:
        await feed(stack, event, payload)
    assert not errors, [r.getMessage() for r in errors]
    changed = stack.snapshot() != before
    note(f"reaction: {'may write' if may_write(stack.fake, post, payload) else 'refused'}, "
          f"{'changed' if changed else 'unchanged'}")
    if not may_write(stack.fake, post, payload):
        assert not changed


# -- interactions -------------------------------------------------------------------------

option_values = st.one_of(
    garbage,
    st.sampled_from(["09:00", "25:99", "Europe/Berlin", "EST", "daily", "week", "all",
                     "channel", "yes", "monitoring", "1", "²", "١", "𝟙", "99999999999999999999",
                     "\u202eevil", "<@123> @everyone", "a" * 5000]),
)
COMMANDS: list[tuple[str, str | None, list[str]]] = [
    ("qotd", "status", []),
    ("qotd", "schedule", ["time", "timezone", "days", "reveal"]),
    ("qotd", "topics", ["include", "exclude", "difficulty", "reset"]),
    ("qotd", "pause", []),
    ("qotd", "stats", ["user"]),
    ("answer", None, ["number"]),
    ("leaderboard", None, ["period", "scope"]),
    ("streak", None, ["user"]),
    ("retired", None, ["x"]),
    ("qotd", "nuke", []),
]


@st.composite
def interactions(draw: Any, fake: FakeDiscord, post: dict[str, Any]) -> Any:
    user = fake.user("fuzz")
    permissions = draw(st.sampled_from([EVERYONE_PERMISSIONS, ADMIN_PERMISSIONS]))
    kind = draw(st.sampled_from(["command", "autocomplete", "button"]))
    if kind == "button":
        custom_id = draw(st.one_of(
            st.text(max_size=110).map(lambda t: "qotd:" + t),
            st.sampled_from(["qotd:grade:1:good", "qotd:grade:99999999999999999999:good",
                             "qotd:grade:²:easy", "other:thing", ""]),
            garbage,
        ))
        message = dict(post)
        message["components"] = [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "x",
             "custom_id": custom_id if isinstance(custom_id, str) and custom_id else "qotd:x"}]}]
        payload = fake.button(custom_id if isinstance(custom_id, str) else "qotd:x", message,
                              user, permissions)
        payload["data"]["custom_id"] = custom_id
    else:
        name, sub, names = draw(st.sampled_from(COMMANDS))
        chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        options: dict[str, Any] = {n: draw(option_values) for n in chosen}
        focused = chosen[0] if kind == "autocomplete" and chosen else None
        payload = fake.slash(name, user, subcommand=sub, permissions=permissions,
                             focused=focused, options={k: "x" for k in options})
        opts = payload["data"]["options"]
        leaf = opts[0]["options"] if sub is not None else opts
        for option in leaf:
            option["value"] = options[option["name"]]
            if draw(st.integers(0, 4)) == 0:
                option["type"] = draw(st.one_of(st.integers(-1, 12), garbage))
        if draw(st.integers(0, 6)) == 0:
            mutate(draw, payload["data"], ["options", "name", "type", "resolved"], most=1)
    mutate(draw, payload, ["id", "guild_id", "channel_id", "channel", "member", "type",
                           "application_id", "app_permissions"], most=2)
    if isinstance(payload.get("member"), dict) and draw(st.integers(0, 3)) == 0:
        mutate(draw, payload["member"], ["permissions", "user", "nick"], most=1)
    return payload


def error_only(fake: FakeDiscord, payload: dict[str, Any]) -> bool:
    """No reply, or only error replies (and autocomplete suggestions)."""
    if not (isinstance(payload.get("id"), str | int) and isinstance(payload.get("token"), str)):
        return True  # nothing the bot could have answered
    # what the bot sent, delivered or not: hypothesis replays an id it has shrunk to (1)
    # with a new token, and the fake refuses the callback of an interaction already
    # acknowledged (40060); the core answered all the same, and may have written
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    refused = [(r.json or {}).get("data") or {} for r in fake.requests
               if r.path == path and not 200 <= r.status < 300]
    for reply in [*fake.interaction_replies(payload), *refused]:
        colours = {e.get("color") for e in reply.get("embeds") or []}
        if colours - {COLOURS["error"]}:
            return False
    return True


@FUZZ
@given(data=st.data())
async def test_fuzzed_interactions_never_escape_and_refused_ones_change_nothing(
    day: tuple[Stack, dict[str, Any]], data: st.DataObject
) -> None:
    stack, post = day
    payload = data.draw(interactions(stack.fake, post))
    before = stack.snapshot()
    with watching() as errors:
        await feed(stack, "INTERACTION_CREATE", payload)
    assert not errors, [r.getMessage() for r in errors]
    changed = stack.snapshot() != before
    replied = bool(isinstance(payload.get("token"), str)
                   and isinstance(payload.get("id"), str | int)
                   and stack.fake.interaction_replies(payload))
    note(f"interaction: {'error or none' if error_only(stack.fake, payload) else 'answered'}"
          f", {'replied' if replied else 'no reply'}, {'changed' if changed else 'unchanged'}")
    if error_only(stack.fake, payload):
        assert not changed


async def test_an_ack_the_fake_refuses_changes_nothing(
    day: tuple[Stack, dict[str, Any]]
) -> None:
    """The fuzz test's oracle, pinned on the case hypothesis found while shrinking: two
    interactions with the same id (1) and their own tokens. The second ack is refused
    (40060, already acknowledged): the bridge acks before the core works, so the core
    never sees it (no name upsert) and the member's retry is the one that counts."""
    stack, _ = day
    fake = stack.fake
    for n, name in enumerate(("fuzz1", "fuzz2")):
        payload = fake.slash("qotd", fake.user(name), subcommand="status")
        payload["id"] = 1
        before = stack.snapshot()
        await feed(stack, "INTERACTION_CREATE", payload)
        assert bool(fake.interaction_replies(payload)) == (n == 0)
        assert error_only(fake, payload) == (n == 1)
        if n == 1:
            assert stack.snapshot() == before
