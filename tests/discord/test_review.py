"""Personal review on Discord end to end (issue 14): the real core and discord.py client
against the fake. `/review` is ephemeral; a button rates the card and the same message
moves to the next one (callback type 7, or a deferred update and a PATCH of @original);
a restart keeps the buttons working; `/mastery` uploads a PNG; `send_direct` opens the
DM channel once and de-duplicates a resend."""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import discord

from adapters.discord.emoji import emoji_for
from bot.boundary import Attachment, Button, DirectRef, OutMessage, Reply
from content.model import Question, SourceRef
from tests.discord.conftest import Stack, eventually
from tests.discord.fake_discord import EPHEMERAL, FakeUser
from tests.discord.test_end_to_end import is_ephemeral, schedule, text_of

DAY1 = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)


def two_choice_questions() -> list[Question]:
    return [
        Question.make(prompt="Which tool records ML experiments?", kind="choice",
                      choices=("cron", "MLflow Tracking", "rsync"), correct="B",
                      difficulty="easy", topic="experiment tracking",
                      source=SourceRef(file="e2e.md", line=1)),
        Question.make(prompt="Which metric suits imbalanced classes?", kind="choice",
                      choices=("accuracy", "PR AUC"), correct="B",
                      difficulty="medium", topic="evaluation",
                      source=SourceRef(file="e2e.md", line=5)),
    ]


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR, which must come first after the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    return {c["label"]: c["custom_id"] for row in message.get("components") or []
            for c in row["components"]}


def attempts_reach(stack: Stack, count: int) -> Callable[[], bool]:
    return lambda: stack.count("attempts") == count


async def missed_both(stack: Stack, alice: FakeUser) -> None:
    """Two daily questions, each answered wrong by alice: two cards, due again soon."""
    fake = stack.fake
    await schedule(stack, fake.user("ada"))
    for day in range(2):
        await stack.advance_to(DAY1 + timedelta(days=day))
        post = fake.message_in(fake.channel_id)[-1]
        await fake.dispatch("MESSAGE_REACTION_ADD",
                            fake.reaction(alice, int(post["id"]), emoji_for("A")))
        await eventually(attempts_reach(stack, day + 1), what="the vote")
    await stack.advance_to(DAY1 + timedelta(days=1, hours=2))


async def open_review(stack: Stack, alice: FakeUser) -> dict[str, Any]:
    payload = stack.fake.slash("review", alice, subcommand="start")
    await stack.interact(payload)
    [message] = stack.fake.replies_to(payload)
    assert is_ephemeral(message), message
    return message


async def press(stack: Stack, message_id: int, label: str, user: FakeUser) -> dict[str, Any]:
    """Press a button on the message as it is now; return the message after the update."""
    fake = stack.fake
    message = fake.messages[message_id]
    updates = len(fake.updates)
    payload = fake.button(buttons_of(message)[label], message, user)
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda f: len(f.updates) > updates or f.interaction_replies(payload),
                        within=5)
    return fake.messages[message_id]


async def test_review_moves_card_to_card_in_one_private_message_across_a_restart(
        make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    alice = fake.user("alice")
    await missed_both(stack, alice)

    message = await open_review(stack, alice)
    mid = int(message["id"])
    assert message["flags"] & EPHEMERAL
    first = text_of(message)
    assert "Review" in first and set(buttons_of(message)) >= {"A", "B"}
    assert all(c.startswith("qotd:") for c in buttons_of(message).values())
    created = len(fake.messages)

    await stack.down()  # a new bot process on the same database
    await stack.up()

    after = await press(stack, mid, "B", alice)
    # the press was acknowledged at once as a deferred update of the same message
    # (DEFERRED_UPDATE_MESSAGE), then the card was edited in place
    assert [c["type"] for c in fake.callbacks.values()][-1] == 6
    assert len(fake.messages) == created  # no new message: the card moved in place
    assert after["flags"] & EPHEMERAL
    second = text_of(after)
    assert "✅ B was right" in second and second != first
    assert set(buttons_of(after)) >= {"A", "B"}  # the next due card's options

    done = await press(stack, mid, "A", alice)
    text = text_of(done)
    assert "❌ B was right (you chose A)" in text
    assert "All done" in text and "next card due" in text
    assert buttons_of(done) == {}  # nothing left to press
    assert stack.count("review_logs") == 4  # two first attempts, two reviews


async def test_a_stale_press_rates_nothing_and_a_stranger_cannot_press(make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    alice, mallory = fake.user("alice"), fake.user("mallory")
    await missed_both(stack, alice)
    message = await open_review(stack, alice)
    mid = int(message["id"])
    old = dict(message)

    stranger = fake.button(buttons_of(old)["B"], old, mallory)
    [refusal] = await stack.interact(stranger)
    assert is_ephemeral(refusal) and "not yours" in text_of(refusal)
    assert stack.count("review_logs") == 2

    await press(stack, mid, "B", alice)
    logs = stack.count("review_logs")
    # the same button again, on the message as it was before the update (a double press)
    replay = fake.button(buttons_of(old)["B"], old, alice)
    await fake.dispatch("INTERACTION_CREATE", replay)
    await fake.wait_for(lambda f: "already rated" in text_of(f.messages[mid]), within=5)
    assert stack.count("review_logs") == logs


async def test_a_slow_core_defers_the_update_and_patches_the_buttons_message(
        make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up(defer_after=0)
    fake = stack.fake
    alice = fake.user("alice")
    await missed_both(stack, alice)
    message = await open_review(stack, alice)
    mid = int(message["id"])
    payload = fake.button(buttons_of(message)["B"], message, alice)
    await fake.dispatch("INTERACTION_CREATE", payload)
    token = payload["token"]
    route = rf"/webhooks/{fake.application_id}/{token}/messages/@original"
    await fake.wait_for(lambda f: f.find("PATCH", route), within=5)
    assert fake.callbacks[int(payload["id"])]["type"] == 6  # DEFERRED_UPDATE_MESSAGE
    assert "✅ B was right" in text_of(fake.messages[mid])
    assert fake.messages[mid]["flags"] & EPHEMERAL
    assert not fake.find("POST", rf"/webhooks/{fake.application_id}/{token}")


async def test_mastery_uploads_a_png_with_alt_text(make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    alice = fake.user("alice")
    await missed_both(stack, alice)
    payload = fake.slash("mastery", alice)
    # the chart may take longer than the bridge waits (matplotlib's first import): the
    # reply is then deferred and the files go with the PATCH of @original instead
    await stack.interact(payload)
    [message] = fake.replies_to(payload)
    assert is_ephemeral(message) and "experiment tracking" in text_of(message)
    [carrier] = [r for r in fake.requests if payload["token"] in r.path and r.files]
    assert carrier.headers["Content-Type"].startswith("multipart/form-data")
    [upload] = carrier.files
    assert upload.field == "files[0]" and upload.filename.endswith(".png")
    [(attachment, data)] = fake.attachment_bytes(message)
    width, height = png_size(data)
    assert width > 0 and height > 0
    assert attachment["content_type"] == "image/png" and attachment.get("description")
    embed = message["embeds"][0]
    assert embed["image"]["url"] == f"attachment://{attachment['filename']}"


async def test_review_in_a_dm_is_refused_with_where_to_use_it(make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    payload = fake.slash("review", fake.user("dave"), subcommand="status", in_dm=True,
                         channel_id=fake.new_id())
    [reply] = await stack.interact(payload)
    assert is_ephemeral(reply) and "server channels" in text_of(reply)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 3, 2)
       + b"\x08\x02\x00\x00\x00" + b"\x00" * 4)


async def test_send_direct_opens_the_dm_once_and_a_resend_is_adopted(make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    assert stack.discord is not None
    outbound = stack.discord.client.outbound
    zoe = fake.user("zoe")
    person = DirectRef("discord", str(fake.guild_id), str(zoe.id))
    nudge = OutMessage(tone="info", title="Review", body="3 cards are due @everyone: /review",
                       buttons=(Button("Open", "x:1"),))
    first = await outbound.send_direct(person, nudge, idempotency_key="nudge:7:2027-01-05")
    again = await outbound.send_direct(person, nudge, idempotency_key="nudge:7:2027-01-05")
    adopted = await outbound.send_direct(person, nudge, idempotency_key="nudge:7:2027-01-05",
                                         resend=True)
    assert first == again == adopted
    dm = fake.dm_channel_of(zoe)
    assert dm is not None
    [sent] = fake.message_in(dm)
    assert "guild_id" not in sent and "3 cards are due" in text_of(sent)
    assert "@everyone" not in text_of(sent)  # defused
    assert len(fake.find("POST", r"/users/@me/channels")) == 1  # the channel is cached
    creates = fake.find("POST", rf"/channels/{dm}/messages")
    assert len(creates) == 2 and all(c.json["enforce_nonce"] for c in creates)
    assert len({c.json["nonce"] for c in creates}) == 1
    assert all(c.json["allowed_mentions"]["parse"] == [] for c in creates)

    # yesterday's nudge reads the same, but is not adopted for today's resend
    fake.messages[int(first)]["timestamp"] = "2020-01-01T08:30:00.000000+00:00"
    today = await outbound.send_direct(person, nudge, idempotency_key="nudge:7:2027-01-06",
                                       resend=True)
    assert today != first and len(fake.message_in(dm)) == 2

    chart = Attachment("mastery chart.png", PNG, "Bars: evaluation 40% remembered")
    other = await outbound.send_direct(person, OutMessage(tone="info", body="chart",
                                                          attachments=(chart,)),
                                       idempotency_key="nudge:7:2027-01-07")
    message = fake.messages[int(other)]
    [(attachment, data)] = fake.attachment_bytes(message)
    assert data == PNG and png_size(data) == (3, 2)
    assert attachment["filename"] == "mastery_chart.png"
    assert attachment["description"] == "Bars: evaluation 40% remembered"
    assert message["embeds"][0]["image"]["url"] == "attachment://mastery_chart.png"


async def test_the_daily_nudge_arrives_once_as_a_dm_and_not_when_nothing_is_due(
        make_stack: Any) -> None:
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    alice, bob = fake.user("alice"), fake.user("bob")
    await schedule(stack, fake.user("ada"))
    await stack.advance_to(DAY1)
    post = fake.message_in(fake.channel_id)[-1]
    await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(alice, int(post["id"]),
                                                              emoji_for("A")))
    await eventually(lambda: stack.count("attempts") == 1, what="the vote")
    for user in (alice, bob):  # bob has no cards: his nudge never comes
        [set_reply] = await stack.interact(fake.slash(
            "review", user, subcommand="remind",
            options={"time": "08:30", "timezone": "Europe/Berlin"}))
        assert is_ephemeral(set_reply) and "08:30" in text_of(set_reply)

    await stack.advance_to(datetime(2027, 1, 5, 7, 29, tzinfo=UTC))  # 08:29 in Berlin
    assert fake.dm_channel_of(alice) is None
    await stack.advance_to(datetime(2027, 1, 5, 7, 31, tzinfo=UTC))
    dm = fake.dm_channel_of(alice)
    assert dm is not None
    [nudge] = fake.message_in(dm)
    assert "1 card is due" in text_of(nudge) and "/review" in text_of(nudge)
    await stack.down()  # a restart the same day sends nothing again
    await stack.up()
    await stack.advance_to(datetime(2027, 1, 5, 20, 0, tzinfo=UTC))
    assert len(fake.message_in(dm)) == 1
    assert fake.dm_channel_of(bob) is None
    assert len(fake.find("POST", r"/users/@me/channels")) == 1


async def test_an_update_to_a_command_is_an_ephemeral_reply(make_stack: Any) -> None:
    """Only a button has a message to update: the bridge answers a command's "update"
    privately (driven with a real interaction object, as the core never does this)."""
    stack: Stack = make_stack(two_choice_questions())
    await stack.up()
    fake = stack.fake
    assert stack.discord is not None
    client = stack.discord.client
    payload = fake.slash("review", fake.user("dave"), subcommand="status")
    interaction = discord.Interaction(data=cast(Any, payload), state=client._connection)

    async def replies() -> list[Reply]:
        return [Reply("update", OutMessage(tone="info", body="moved on"))]

    await client.qotd_bridge._deliver(interaction, replies(), likely_ephemeral=True)
    callback = fake.callbacks[int(payload["id"])]
    assert callback["type"] == 5 and int(callback["data"]["flags"]) & EPHEMERAL  # ack first
    [reply] = fake.interaction_replies(payload)
    assert is_ephemeral(reply) and "moved on" in text_of(reply)

    # answered directly (a positive defer_after): a type 4, ephemeral
    client.qotd_bridge.defer_after = 1.0
    payload = fake.slash("review", fake.user("dave"), subcommand="status")
    interaction = discord.Interaction(data=cast(Any, payload), state=client._connection)
    await client.qotd_bridge._deliver(interaction, replies(), likely_ephemeral=True)
    callback = fake.callbacks[int(payload["id"])]
    assert callback["type"] == 4 and int(callback["data"]["flags"]) & EPHEMERAL
    assert "moved on" in text_of(callback["data"])
