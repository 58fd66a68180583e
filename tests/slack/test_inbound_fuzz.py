"""Fuzz the Slack adapter's inbound translation: command text, and whole payloads.

1. `commands.parse` on arbitrary text only ever returns a Parsed or raises UsageError,
   and Slack's escaping makes no difference to the result (`&lt;` is `<` to the core).
2. Slash-command, block_actions and reaction payloads built the way Slack sends them,
   then damaged (fields dropped, of the wrong type, junk values), go through the Socket
   Mode dispatch path into the real Bolt app and the real core on SQLite: every request
   is acknowledged, nothing is logged as an error or with a traceback, and an input
   that is refused (an error answer, no answer, a reaction that is no vote) leaves every
   table as it was.

Synchronous on purpose: one event loop (asyncio.Runner) holds one core, one fake Slack
and one app for every example, which Hypothesis cannot do for an async test.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import example as hypothesis_example
from hypothesis import strategies as st
from slack_sdk.socket_mode.request import SocketModeRequest

from adapters.slack.commands import COMMANDS as SPECS
from adapters.slack.commands import QOTD_SUBCOMMANDS, Parsed, UsageError, parse
from adapters.slack.emoji import TO_EMOJI
from adapters.slack.runtime import RunningSlack, start_slack
from adapters.slack.watch import dispatch_envelope
from bot.app import Core
from tests.conftest import START
from tests.dbstate import snapshot
from tests.slack.fake_slack import (
    TEAM_ID,
    FakeSlack,
    block_actions,
    event_callback,
    reaction_event,
    slash_command,
)
from tests.slack.harness import CHANNEL, real_core, settings_for

WORDS = [
    "schedule", "status", "topics", "stats", "pause", "post", "week", "workspace", "all",
    "time:09:00", "timezone:UTC", "timezone:EST", "days:mon-fri", "days:", "include:a,b",
    "number:3", "number:²", "99999999999999999999", "١", "colour:blue", "TIME:9", "x:y",
    "<@U1|ana>", "<@U1>", "<@W9|x&amp;y>", "@ana", "&lt;b&gt;", "&amp;", "&amp;lt;", "\"",
    "'", "“quoted words”", "\\", "\u202e", "\u200b", "\x00", "a" * 300, "",
]  # fmt: skip
text = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.text(max_size=60),
)


def as_typed(t: str) -> bool:
    """Text a user could have typed that Slack then escapes: no mention (Slack turns a
    picked @name into `<@U…>`) and no `&` (a typed `&lt;` is `&amp;lt;` on the wire;
    `test_the_core_gets_what_the_user_typed` covers it)."""
    return "@" not in t and "&" not in t


def slack_escape(t: str) -> str:
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def outcome(command: str, t: str) -> Parsed | str:
    try:
        return parse(command, t)
    except UsageError as err:
        return f"UsageError: {err}"


@settings(max_examples=400, deadline=None)
@given(command=st.sampled_from(["/qotd", "/answer", "/leaderboard", "/streak", "/x"]), t=text)
def test_parse_only_answers_parsed_or_usage_and_undoes_slacks_escaping(
    command: str, t: str
) -> None:
    result = outcome(command, t)
    if isinstance(result, Parsed):
        spec = (
            QOTD_SUBCOMMANDS[result.subcommand or ""]
            if result.name == "qotd"
            else SPECS[result.name]
        )
        assert set(result.options) <= set(spec.options)
        assert all(isinstance(v, str) and v for v in result.options.values())
    if as_typed(t):
        assert outcome(command, slack_escape(t)) == result


# -- whole payloads through Bolt and the core ------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["id", "x"]), st.integers(), max_size=2),
    st.sampled_from(["", " ", "\x00", "<@U1>", "U1 U2", "ü" * 90, "../..", "C" * 200]),
)
MISSING = object()


def damage(payload: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    """Set (or, for MISSING, drop) the field at `path`, if its parents are there."""
    node: Any = payload
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
    if not isinstance(node, (dict, list)):
        return
    last = path[-1]
    if value is MISSING:
        if isinstance(node, dict):
            node.pop(last, None)  # type: ignore[call-overload]
        return
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        return
    node[last] = value  # type: ignore[index]


COMMAND_FIELDS = [("command",), ("text",), ("user_id",), ("channel_id",), ("team_id",),
                  ("response_url",), ("user_name",), ("is_enterprise_install",)]  # fmt: skip
BUTTON_FIELDS = [("user",), ("user", "id"), ("team",), ("team", "id"), ("channel",),
                 ("channel", "id"), ("container",), ("container", "message_ts"),
                 ("container", "channel_id"), ("actions",), ("actions", 0),
                 ("actions", 0, "value"), ("actions", 0, "action_id"), ("response_url",),
                 ("type",)]  # fmt: skip
REACTION_FIELDS = [("event", "user"), ("event", "reaction"), ("event", "item"),
                   ("event", "item", "channel"), ("event", "item", "ts"),
                   ("event", "item", "type"), ("event", "type"), ("event",)]  # fmt: skip
damages = st.lists(st.tuples(st.integers(0, 100), st.one_of(st.just(MISSING), JUNK)), max_size=3)


@st.composite
def payloads(draw: Any, post_ts: str, url_for: Any) -> tuple[str, dict[str, Any], bool]:
    """(envelope type, payload, could it change state if it were taken at face value)."""
    kind = draw(st.sampled_from(["command", "command", "button", "reaction"]))
    user = draw(st.sampled_from(["U1", "U2", "UADMIN"]))
    hits = draw(st.one_of(st.just([]), damages))  # half intact: the core is reached
    if kind == "command":
        name = draw(st.sampled_from(["/qotd", "/answer", "/leaderboard", "/streak", "/nope"]))
        payload: dict[str, Any] = slash_command(
            name, draw(text), user_id=user, response_url=url_for(), channel_id=CHANNEL
        )
        fields, type_ = COMMAND_FIELDS, "slash_commands"
    elif kind == "button":
        value = draw(st.sampled_from(["grade:1:good", "grade:1:again", "grade:9:x", "x"]))
        payload = block_actions(
            user_id=user, channel=CHANNEL, action_id="qotd_button:0", value=value,
            response_url=url_for(), message_ts=post_ts,
        )  # fmt: skip
        fields, type_ = BUTTON_FIELDS, "interactive"
    else:
        emoji = draw(st.sampled_from([*TO_EMOJI.values(), "tada", "one::skin-tone-2"]))
        ts = draw(st.sampled_from([post_ts, "1.000001"]))
        added = draw(st.booleans())
        event = reaction_event(user=user, channel=CHANNEL, ts=ts, name=emoji, added=added)
        payload = event_callback(event, event_id=f"Ev{uuid.uuid4().hex[:12]}")
        fields, type_ = REACTION_FIELDS, "events_api"
        intact = not hits and ts == post_ts and emoji in TO_EMOJI.values()
        for index, value in hits:
            damage(payload, fields[index % len(fields)], value)
        return type_, payload, intact
    for index, value in hits:
        damage(payload, fields[index % len(fields)], value)
    return type_, payload, True


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.bad.append(f"{record.name}: {record.getMessage()}")


async def settle(before: set[asyncio.Task[Any]]) -> None:
    """Wait for every task the dispatch started (Bolt runs listeners as tasks)."""
    me = asyncio.current_task()
    for _ in range(20):
        new = {t for t in asyncio.all_tasks() if t not in before and t is not me}
        if not new:
            return
        await asyncio.wait(new, timeout=10)
    raise AssertionError("listener tasks did not finish")


def refused(answers: list[dict[str, Any]]) -> bool:
    """No answer, or only error answers (rendered with the warning sign)."""
    return all(
        any(":warning:" in str(b.get("text", {}).get("text", "")) for b in a.get("blocks") or [])
        for a in answers
    )


async def one(
    running: RunningSlack, core: Core, fake: FakeSlack, item: tuple[str, dict[str, Any], bool]
) -> str:
    type_, payload, could_change = item
    before_rows = await snapshot(core)
    answered = len(fake.responses)
    before = set(asyncio.all_tasks())
    request = SocketModeRequest(type=type_, envelope_id=uuid.uuid4().hex, payload=payload)
    response = await dispatch_envelope(running.app, copy.deepcopy(request))
    assert response.status == 200, "every envelope is acknowledged"
    await settle(before)
    answers = fake.responses[answered:]
    if type_ == "events_api":
        if not could_change:
            assert await snapshot(core) == before_rows
        return f"events_api: {'vote' if could_change else 'not a vote'}"
    elif refused(answers):
        assert await snapshot(core) == before_rows, answers
    return f"{type_}: {'refused' if refused(answers) else 'answered'}"


def test_no_payload_crashes_a_handler_or_changes_state_when_refused(tmp_path: Path) -> None:
    recorder = Recorder()
    root = logging.getLogger()
    seen: Counter[str] = Counter()
    with asyncio.Runner() as runner:
        fake = FakeSlack()
        runner.run(fake.start())
        for user, name, admin in (("UADMIN", "ada", True), ("U1", "ana", False)):
            fake.add_user(user, name, is_admin=admin)
        core_cm = real_core(tmp_path)
        core = runner.run(core_cm.__aenter__())
        running = runner.run(start_slack(core, settings_for(fake, "http")))
        try:
            runner.run(core.start())
            schedule = slash_command(
                "/qotd", "schedule time:09:00 timezone:UTC days:daily", user_id="UADMIN",
                response_url=fake.response_url(), channel_id=CHANNEL, team_id=TEAM_ID,
            )  # fmt: skip
            runner.run(one(running, core, fake, ("slash_commands", schedule, True)))
            runner.run(core.advance_to(START.replace(hour=9, minute=5)))
            [post] = fake.channel_posts(CHANNEL)
            root.addHandler(recorder)

            # Always among the examples, whatever the draw: an intact command and an
            # intact vote press, both answered (random text is mostly refused).
            vote = next(e["value"] for b in post["blocks"] if b["type"] == "actions"
                        for e in b["elements"])
            board = slash_command("/leaderboard", "", user_id="U1",
                                  response_url=fake.response_url(), channel_id=CHANNEL)
            press = block_actions(user_id="U1", channel=CHANNEL, action_id="qotd_button:0",
                                  value=vote, response_url=fake.response_url(),
                                  message_ts=post["ts"], ephemeral=False)

            @settings(
                max_examples=150,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @hypothesis_example(("slash_commands", board, True))
            @hypothesis_example(("interactive", press, True))
            @given(payloads(post["ts"], fake.response_url))
            def example(item: tuple[str, dict[str, Any], bool]) -> None:
                recorder.bad.clear()
                seen[runner.run(one(running, core, fake, item))] += 1
                assert recorder.bad == [], recorder.bad

            example()
            # The fuzz reached the core, not only the adapter's refusals.
            kinds = ("answered", "refused")
            assert all(seen[f"{t}: {k}"] for t in ("slash_commands", "interactive") for k in kinds), seen
            assert seen["events_api: vote"] and seen["events_api: not a vote"], seen
        finally:
            root.removeHandler(recorder)
            runner.run(running.stop())
            runner.run(core_cm.__aexit__(None, None, None))
            runner.run(fake.stop())


@pytest.mark.parametrize("escaped", ["&lt;b&gt; &amp; co", "a&amp;lt;b"])
def test_the_core_gets_what_the_user_typed(escaped: str) -> None:
    parsed = parse("/qotd", f"topics include:{escaped.replace(' ', '_')}")
    typed = escaped.replace(" ", "_").replace("&lt;", "<").replace("&gt;", ">")
    assert parsed.options["include"] == typed.replace("&amp;", "&")
