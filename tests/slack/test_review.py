"""Personal review on Slack end to end (issue 14): the real Bolt app and slack_sdk
clients against the fake Slack, with the real core. `/review` answers privately; a
button rates the card and replaces that same message (replace_original on the action's
response_url); a new app and core on the same database keep the buttons working;
`/mastery` puts its PNG in the person's DM through the files upload v2 flow; and
`send_direct` opens the IM once and de-duplicates a resend by its metadata key."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.commands import UsageError, parse
from adapters.slack.emoji import emoji_for
from bot.app import Core, build_core
from bot.boundary import Attachment, DirectRef, OutMessage
from bot.clock import FakeClock
from bot.settings import CoreSettings
from storage.migrate import upgrade
from tests.conftest import START, sample_questions, write_bank
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import CHANNEL, Mode, SlackDriver, say, slack_running


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """label -> button element, over every actions block of a message."""
    return {e["text"]["text"]: e for b in message.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]}


class Bot:
    """The real core (restartable on the same SQLite file) served to one fake Slack."""

    def __init__(self, tmp_path: Path, fake: FakeSlack) -> None:
        self.url = f"sqlite+aiosqlite:///{tmp_path / 'qotd.db'}"
        self.bank = tmp_path / "bank"
        self.clock = FakeClock(START)
        self.fake = fake

    @asynccontextmanager
    async def running(self, mode: Mode = "socket") -> AsyncIterator[tuple[Core, SlackDriver]]:
        await upgrade(self.url)
        core = await build_core(CoreSettings(database_url=self.url, bank_dir=str(self.bank)),
                                clock=self.clock, use_scheduler=False)
        try:
            async with slack_running(self.fake, core, mode, database_url=self.url) as slack:
                await core.start()
                yield core, slack
        finally:
            await core.stop()


@asynccontextmanager
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    bank = tmp_path / "bank"
    bank.mkdir()
    write_bank(bank, [q for q in sample_questions() if q.kind == "open"])
    async with FakeSlack() as fake:
        fake.add_user("UADMIN", "ada", is_admin=True)
        fake.add_user("U1", "ana")
        fake.add_user("U2", "ben")
        yield Bot(tmp_path, fake)


async def missed_two(core: Core, slack: SlackDriver) -> None:
    """Two daily questions, each marked ❌ "not yet" by ana: two cards, due soon."""
    await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
    for day in range(2):
        await core.advance_to(START.replace(hour=9, minute=5) + timedelta(days=day))
        post = slack.fake.channel_posts(CHANNEL)[-1]
        event = {"type": "reaction_added", "user": "U1", "reaction": emoji_for("no"),
                 "item_user": "U0QOTDBOT", "item": {"type": "message", "channel": CHANNEL,
                                                     "ts": post["ts"]},
                 "event_ts": "1790000001.000100"}
        await slack.event(event, event_id=f"EvNo{day}")
        assert slack.running.reactions is not None
        await slack.running.reactions.idle()
    await core.advance_to(START.replace(hour=11) + timedelta(days=1))


async def press(slack: SlackDriver, ts: str, label: str, user: str = "U1") -> dict[str, Any]:
    """Press a button on the response message `ts`; return the answer it got."""
    element = buttons(slack.fake.response_messages[ts])[label]
    key = await slack.press(user=user, channel=CHANNEL, value=element["value"], message_ts=ts,
                            action_id=element["action_id"])
    [answer] = await slack.answers(key)
    return answer


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_review_replaces_its_message_card_by_card_across_a_restart(
        tmp_path: Path, mode: Mode) -> None:
    async with bot(tmp_path) as b:
        async with b.running(mode) as (core, slack):
            await missed_two(core, slack)
            key = await slack.command("/review", "", user="U1", channel=CHANNEL)
            [opened] = await slack.answers(key)
            assert opened["response_type"] == "ephemeral"
            [session] = b.fake.answers_to(key)
            ts = session["ts"]
            assert set(buttons(session)) == {"Show answer"}
            made = len(b.fake.response_messages)
        async with b.running(mode) as (core, slack):  # a new app and core, same database
            shown = await press(slack, ts, "Show answer")
            assert shown["replace_original"] is True
            card = b.fake.response_messages[ts]
            assert set(buttons(card)) == {"Again", "Hard", "Good", "Easy"}
            assert "Answer" in card["text"] or "Answer" in str(card["blocks"])
            rated = await press(slack, ts, "Good")
            assert rated["replace_original"] is True
            card = b.fake.response_messages[ts]
            assert "Rated Good" in str(card["blocks"])
            assert set(buttons(card)) == {"Show answer"}  # the second card, same message
            await press(slack, ts, "Show answer")
            await press(slack, ts, "Easy")
            done = b.fake.response_messages[ts]
            assert "All done" in str(done["blocks"]) and buttons(done) == {}
            # one message for the whole session: every press replaced it, none made another
            assert len(b.fake.replacements) == 4
            assert len(b.fake.response_messages) == made
            assert len(b.fake.channel_posts(CHANNEL)) == 2  # only the two daily questions


async def test_mastery_sends_its_png_to_the_dm_by_the_upload_v2_flow(tmp_path: Path) -> None:
    async with bot(tmp_path) as b, b.running() as (core, slack):
        await missed_two(core, slack)
        answer = await say(slack, "/mastery", "", "U1")
        assert answer["response_type"] == "ephemeral"
        assert "Monitoring" in answer["text"] or "Features" in answer["text"] \
            or "Deployment" in answer["text"]
        assert "The chart is in your DMs with the bot" in answer["text"]
        fake = b.fake
        im = fake.im_of("U1")
        assert im is not None
        [(shared, data)] = fake.shared_files(im)
        width, height = png_size(data)
        assert width > 0 and height > 0
        assert shared["mimetype"] == "image/png" and shared["alt_txt"]
        [asked] = fake.calls_to("files.getUploadURLExternal")
        assert int(asked.params["length"]) == len(data)
        [done] = fake.calls_to("files.completeUploadExternal")
        assert done.params["channel_id"] == im
        assert fake.channel_posts(CHANNEL)[-1].get("files") is None  # not in the channel


async def test_an_upload_that_fails_still_answers_with_the_text(tmp_path: Path) -> None:
    async with bot(tmp_path) as b, b.running() as (core, slack):
        await missed_two(core, slack)
        b.fake.fail("files.getUploadURLExternal", status=400)
        answer = await say(slack, "/mastery", "", "U1")
        assert "could not be uploaded" in answer["text"]
        assert not b.fake.files


async def test_send_direct_opens_the_im_once_and_a_resend_is_adopted(tmp_path: Path) -> None:
    async with bot(tmp_path) as b, b.running() as (_core, slack):
        outbound = slack.running.outbound
        person = DirectRef("slack", "T0FAKE001", "U2")
        nudge = OutMessage(tone="info", title="Review", body="2 cards are due <!here>: /review")
        first = await outbound.send_direct(person, nudge, idempotency_key="nudge:3:2027-03-02")
        again = await outbound.send_direct(person, nudge, idempotency_key="nudge:3:2027-03-02",
                                           resend=True)
        assert first == again
        fake = b.fake
        im = fake.im_of("U2")
        assert im is not None
        [sent] = fake.channel_posts(im)
        assert sent["metadata"]["event_payload"]["post_key"] == "nudge:3:2027-03-02"
        assert "<!here>" not in sent["text"]
        assert len(fake.calls_to("conversations.open")) == 1
        assert len(fake.calls_to("chat.postMessage")) == 1

        png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 4, 3)
               + b"\x08\x02\x00\x00\x00")
        chart = Attachment("mastery chart.png", png, "Bars: Monitoring 40% remembered")
        await outbound.send_direct(person, OutMessage(tone="info", body="chart",
                                                      attachments=(chart,)),
                                   idempotency_key="nudge:3:2027-03-03")
        [(shared, data)] = fake.shared_files(im)
        assert data == png and shared["alt_txt"] == "Bars: Monitoring 40% remembered"
        assert len(fake.calls_to("conversations.open")) == 1  # the IM is cached


def test_review_and_mastery_text_parse_like_qotd() -> None:
    assert parse("/review", "").subcommand == "start"
    assert parse("/review", "status").subcommand == "status"
    added = parse("/review", 'add topic:"Model Monitoring" count:3')
    assert (added.subcommand, dict(added.options)) == (
        "add", {"topic": "Model Monitoring", "count": "3"})
    assert dict(parse("/review", "remind off").options) == {"time": "off"}
    remind = parse("/review", "remind time:08:30 timezone:Europe/Berlin")
    assert dict(remind.options) == {"time": "08:30", "timezone": "Europe/Berlin"}
    assert dict(parse("/review", "remind 08:30 Europe/Berlin").options) == {
        "time": "08:30", "timezone": "Europe/Berlin"}
    assert parse("/mastery", "").name == "mastery"
    with pytest.raises(UsageError, match="Usage: /review"):
        parse("/review", "later")
    with pytest.raises(UsageError, match="Unknown option"):
        parse("/review", "status colour:blue")
    with pytest.raises(UsageError):
        parse("/mastery", "now")


async def test_the_daily_nudge_arrives_once_in_the_im_and_not_when_nothing_is_due(
        tmp_path: Path) -> None:
    async with bot(tmp_path) as b, b.running() as (core, slack):
        await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        await core.advance_to(START.replace(hour=9, minute=5))
        post = slack.fake.channel_posts(CHANNEL)[-1]
        await slack.event({"type": "reaction_added", "user": "U1", "reaction": emoji_for("no"),
                           "item_user": "U0QOTDBOT",
                           "item": {"type": "message", "channel": CHANNEL, "ts": post["ts"]},
                           "event_ts": "1790000001.000100"}, event_id="EvNo")
        assert slack.running.reactions is not None
        await slack.running.reactions.idle()
        for user in ("U1", "U2"):
            answer = await say(slack, "/review", "remind 08:30 Europe/Berlin", user)
            assert answer["response_type"] == "ephemeral" and "08:30" in answer["text"]
        await core.advance_to(START.replace(hour=7, minute=29) + timedelta(days=1))
        assert b.fake.im_of("U1") is None
        await core.advance_to(START.replace(hour=7, minute=31) + timedelta(days=1))
        im = b.fake.im_of("U1")
        assert im is not None
        [nudge] = b.fake.channel_posts(im)
        assert "1 card is due" in nudge["text"]
        await core.advance_to(START.replace(hour=20) + timedelta(days=1))
        assert len(b.fake.channel_posts(im)) == 1
        assert b.fake.im_of("U2") is None  # nothing due for ben: no DM, no IM opened
        off = await say(slack, "/review", "remind off", "U1")
        assert "off" in off["text"]
