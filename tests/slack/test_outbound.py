"""The Outbound against the fake Slack: pacing, idempotent thread replies, edits,
ephemerals."""

from __future__ import annotations

from adapters.slack.client import build_client
from adapters.slack.outbound import SlackOutbound
from adapters.slack.pacing import ChannelPacer, WorkspacePacer
from bot.boundary import Button, ChannelRef, OutMessage
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.harness import FakeTime, settings_for


async def no_token(team_id: str) -> str | None:
    return None


def outbound_for(fake: FakeSlack, pacer: ChannelPacer) -> SlackOutbound:
    settings = settings_for(fake, "http")
    assert settings.bot_token is not None
    client = build_client(settings, token=settings.bot_token.get_secret_value())
    return SlackOutbound(client, token_for=no_token, pacer=pacer)


def ref(channel: str) -> ChannelRef:
    return ChannelRef("slack", TEAM_ID, channel)


async def test_posts_to_one_channel_are_spaced_other_channels_are_not_held_up() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        out = outbound_for(fake, ChannelPacer(1.0, monotonic=t.monotonic, sleep=t.sleep))
        message = OutMessage("info", body="hello")
        await out.post(ref("C1"), message, idempotency_key="k1")
        await out.post(ref("C2"), message, idempotency_key="k2")
        assert t.slept == []
        await out.post(ref("C1"), message, idempotency_key="k3")
        assert t.slept == [1.0]
        assert len(fake.channel_posts("C1")) == 2 and len(fake.channel_posts("C2")) == 1
        # History is read only for a resend, which finds the earlier message.
        assert fake.calls_to("conversations.history") == []
        assert await out.post(ref("C1"), message, idempotency_key="k3", resend=True) == (
            fake.channel_posts("C1")[-1]["ts"]
        )
        assert len(fake.channel_posts("C1")) == 2
        assert len(fake.calls_to("conversations.history")) == 1


async def test_thread_replies_edits_and_ephemerals() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U1", "ana")
        out = outbound_for(fake, ChannelPacer(0))
        parent = await out.post(ref("C1"), OutMessage("question", title="Q"), idempotency_key="p")
        reveal = OutMessage("reveal", title="Answer", body="**42**")
        first = await out.reply_in_thread(ref("C1"), parent, reveal, idempotency_key="r")
        assert fake.calls_to("conversations.replies") == []  # a first send does not look
        again = await out.reply_in_thread(ref("C1"), parent, reveal, idempotency_key="r",
                                          resend=True)
        assert first == again
        [reply] = fake.thread("C1", parent)
        assert reply["thread_ts"] == parent and "*42*" in reply["blocks"][1]["text"]["text"]

        await out.edit(ref("C1"), parent, OutMessage("question", title="Q (closed)"))
        edited = fake.find_message("C1", parent)
        assert edited is not None and edited["blocks"][0]["text"]["text"] == "Q (closed)"

        await out.send_ephemeral(
            ref("C1"),
            "U1",
            OutMessage("answer", body="psst", buttons=(Button("Good", "grade:1:good"),)),
        )
        [ephemeral] = fake.ephemerals
        assert (
            ephemeral["user"] == "U1"
            and ephemeral["blocks"][-1]["elements"][0]["value"] == "grade:1:good"
        )

        await out.add_reactions(ref("C1"), parent, ["A", "A", "yes"])
        message = fake.find_message("C1", parent)
        assert message is not None and [r["name"] for r in message["reactions"]] == [
            "one",
            "white_check_mark",
        ]


async def test_a_post_is_one_request_its_buttons_an_actions_block() -> None:
    async with FakeSlack() as fake:
        out = outbound_for(fake, ChannelPacer(0))
        message = OutMessage("question", title="Q", buttons=(
            Button("A", "vote:7:A"), Button("B", "vote:7:B")), reactions=("A", "B"))
        ts = await out.post(ref("C1"), message, idempotency_key="p")
        # reactions are the core's later step (add_reactions), never part of the post
        assert fake.post_requests == {ts: {"chat.postMessage": 1}}
        [posted] = fake.channel_posts("C1")
        [actions] = [b for b in posted["blocks"] if b["type"] == "actions"]
        assert [(e["type"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
            ("button", "A", "vote:7:A"), ("button", "B", "vote:7:B")]
        assert len({e["action_id"] for e in actions["elements"]}) == 2  # unique in the block
        await out.reply_in_thread(ref("C1"), ts, message, idempotency_key="r")
        assert fake.calls_to("reactions.add") == []


async def test_seed_reactions_are_paced_per_workspace_at_their_tier() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        settings = settings_for(fake, "http")
        assert settings.bot_token is not None
        client = build_client(settings, token=settings.bot_token.get_secret_value())
        out = SlackOutbound(client, token_for=no_token, pacer=ChannelPacer(0),
                            reaction_pacer=WorkspacePacer(50, burst=2, monotonic=t.monotonic,
                                                          sleep=t.sleep))
        first = await out.post(ref("C1"), OutMessage("info", body="one"), idempotency_key="1")
        second = await out.post(ref("C2"), OutMessage("info", body="two"), idempotency_key="2")
        await out.add_reactions(ref("C1"), first, ["A", "B"])  # the burst
        assert t.slept == []
        await out.add_reactions(ref("C2"), second, ["A", "B"])  # then 50 a minute
        assert t.slept == [1.2, 1.2]
        assert fake.post_requests[first]["reactions.add"] == 2
