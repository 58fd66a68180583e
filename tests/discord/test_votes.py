"""Answering with buttons (issue 16) end to end: the real core, the real discord.py
client and the fake Discord on the wire.

A vote is a press of one of the post's buttons: acknowledged at once and privately
(a deferred ephemeral reply, never an update of the public post), changeable until the
reveal. The post in buttons mode is one request; in reactions mode the seeds follow the
post and members' reactions count as before.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from adapters.discord.emoji import emoji_for
from bot.boundary import Button, ChannelRef, OutMessage, vote_action
from tests.discord.conftest import Stack, choice_question, open_question
from tests.discord.fake_discord import EPHEMERAL, FakeUser, components_problem
from tests.discord.test_end_to_end import (
    AT_0900,
    answer_buttons,
    board_until,
    is_ephemeral,
    schedule,
    text_of,
)

REVEAL = datetime(2027, 1, 4, 17, 0, 30, tzinfo=UTC)


async def vote(stack: Stack, post: dict[str, Any], label: str, user: FakeUser
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Press the post's button `label` as `user`: (the callback, the reply shown)."""
    fake = stack.fake
    [custom_id] = [cid for lab, cid in answer_buttons(fake.messages[int(post["id"])])
                   if lab == label]
    payload = fake.button(custom_id, fake.messages[int(post["id"])], user)
    [reply] = await stack.interact(payload)
    return fake.callbacks[int(payload["id"])], reply


def assert_private_ack(callback: dict[str, Any]) -> None:
    """A deferred reply (type 5) flagged ephemeral: never 6/7, which would update the
    public post, and never a public reply."""
    assert callback["type"] == 5, callback
    assert int((callback.get("data") or {}).get("flags") or 0) & EPHEMERAL


async def test_a_vote_by_button_is_private_and_changeable_until_the_reveal(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    alice, bob, dave = fake.user("alice"), fake.user("bob"), fake.user("dave")
    await schedule(stack, fake.user("ada"))
    await stack.advance_to(AT_0900)
    [post] = fake.message_in(fake.channel_id)
    mid = int(post["id"])
    assert fake.requests_for_message(mid) == 1  # the create, nothing else
    shown_before = (post["embeds"], post["components"])

    callback, reply = await vote(stack, post, "A", alice)
    assert_private_ack(callback)
    assert is_ephemeral(reply) and "You chose **A**" in text_of(reply)
    callback, reply = await vote(stack, post, "B", alice)  # switch: the latest counts
    assert_private_ack(callback)
    assert "You chose **B**" in text_of(reply)
    _, reply = await vote(stack, post, "B", bob)
    _, reply = await vote(stack, post, "B", bob)  # the same again: withdrawn
    assert is_ephemeral(reply) and "withdrew" in text_of(reply)
    _, reply = await vote(stack, post, "A", bob)
    assert "You chose **A**" in text_of(reply)

    # nothing public changed: the post was never edited, nobody sees the votes
    assert (fake.messages[mid]["embeds"], fake.messages[mid]["components"]) == shown_before
    assert fake.requests_for_message(mid) == 1
    assert not [u for u in fake.updates if int(u["id"]) == mid]
    await board_until(stack, dave, ["Alice: 1 pts"], absent=("Bob: 1 pts",))

    await stack.advance_to(REVEAL)
    [reveal] = fake.message_in(mid)  # in the thread started from the post
    assert "Answer to question #1" in text_of(reveal)
    assert "2 answered, 50% correct" in text_of(reveal)
    assert "MLflow Tracking" in text_of(reveal)

    # after the reveal a press changes nothing and says so, privately
    before = stack.snapshot()
    callback, reply = await vote(stack, post, "C", alice)
    assert_private_ack(callback)
    assert is_ephemeral(reply)
    assert stack.snapshot() == before
    await board_until(stack, dave, ["Alice: 1 pts"])


async def test_open_questions_vote_knew_it_or_not_yet(make_stack: Any) -> None:
    stack: Stack = make_stack([open_question()])
    await stack.up()
    fake = stack.fake
    alice = fake.user("alice")
    await schedule(stack, fake.user("ada"))
    await stack.advance_to(AT_0900)
    [post] = fake.message_in(fake.channel_id)
    assert [label for label, _ in answer_buttons(post)] == ["I knew it", "Not yet"]
    callback, reply = await vote(stack, post, "I knew it", alice)
    assert_private_ack(callback)
    assert is_ephemeral(reply) and "**I knew it**" in text_of(reply)
    await board_until(stack, fake.user("dave"), ["Alice: 2 pts"])  # medium: 2 points


async def test_reactions_mode_seeds_after_the_post_and_members_reactions_count(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    await schedule(stack, fake.user("ada"), answers="reactions")
    await stack.advance_to(AT_0900)
    [post] = fake.message_in(fake.channel_id)
    mid = int(post["id"])
    assert answer_buttons(post) == []  # no answer buttons in reactions mode
    await fake.wait_for(lambda f: len(f.reactions.get(mid, [])) == 3)
    assert fake.reactions[mid] == [emoji_for(k) for k in "ABC"]
    # the create first, then one request per seed
    creates = [i for i, r in enumerate(fake.requests) if r.message_id == mid]
    assert [fake.requests[i].method for i in creates] == ["POST", "PUT", "PUT", "PUT"]
    assert fake.requests_for_message(mid) == 4

    alice, bob = fake.user("alice"), fake.user("bob")
    await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(alice, mid, emoji_for("A")))
    await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(alice, mid, emoji_for("B")))
    await fake.dispatch("MESSAGE_REACTION_ADD", fake.reaction(bob, mid, emoji_for("A")))
    await board_until(stack, bob, ["Alice: 1 pts"], absent=("Bob: 1 pts",))
    await stack.advance_to(REVEAL)
    [reveal] = fake.message_in(mid)
    assert "2 answered, 50% correct" in text_of(reveal)


async def test_a_forged_custom_id_changes_nothing(make_stack: Any) -> None:
    stack: Stack = make_stack([choice_question()])
    second = stack.fake.new_id()
    stack.fake.add_text_channel(second, "qotd-2")
    await stack.up()
    fake = stack.fake
    ada, mallory = fake.user("ada"), fake.user("mallory")
    await schedule(stack, ada)
    await schedule(stack, ada, channel_id=second)
    await stack.advance_to(AT_0900)
    [post] = fake.message_in(fake.channel_id)
    [other] = fake.message_in(second)
    [(_, other_b)] = [(lab, cid) for lab, cid in answer_buttons(other) if lab == "B"]
    before = stack.snapshot()

    # a custom_id the message does not carry (Discord would never send it): the other
    # channel's vote pressed on this channel's post
    payload = fake.button(other_b, post, mallory)
    [reply] = await stack.interact(payload)
    assert is_ephemeral(reply)
    # the other channel's vote, on a message of this channel that carries it
    forged = dict(post)
    forged["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "B", "custom_id": other_b}]}]
    for custom_id in (other_b, "qotd:vote:99999:B", "qotd:vote:1:Z", "qotd:vote:-1:A"):
        forged["components"][0]["components"][0]["custom_id"] = custom_id
        payload = fake.button(custom_id, forged, mallory)
        [reply] = await stack.interact(payload)
        assert is_ephemeral(reply), custom_id
        callback = fake.callbacks[int(payload["id"])]
        assert callback["type"] in (4, 5), custom_id  # never an update of the post
    assert stack.snapshot() == before
    assert fake.requests_for_message(int(post["id"])) == 1
    assert fake.requests_for_message(int(other["id"])) == 1


async def test_a_vote_whose_ack_discord_refuses_is_not_recorded(make_stack: Any) -> None:
    """Ack first, then the core: a press Discord did not take (the member saw "This
    interaction failed") records nothing, so their retry votes instead of withdrawing."""
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    alice = fake.user("alice")
    await schedule(stack, fake.user("ada"))
    await stack.advance_to(AT_0900)
    [post] = fake.message_in(fake.channel_id)
    [b] = [cid for lab, cid in answer_buttons(post) if lab == "B"]
    before = stack.snapshot()
    press = fake.button(b, fake.messages[int(post["id"])], alice)
    fake.fail("POST", rf"/interactions/{press['id']}/.+/callback", 400, times=2)
    await fake.dispatch("INTERACTION_CREATE", press)
    await fake.wait_for(lambda f: len([r for r in f.requests
                                       if r.path.startswith(f"/interactions/{press['id']}/")])
                        >= 2)
    assert stack.snapshot() == before
    _, reply = await vote(stack, post, "B", alice)
    assert "You chose **B**" in text_of(reply)


async def test_a_post_is_one_request_with_its_buttons_in_rows_of_five(make_stack: Any) -> None:
    """Outbound.post sends the buttons with the create and never the seed reactions
    (the core adds those with add_reactions, after marking the post sent)."""
    stack: Stack = make_stack([choice_question()])
    await stack.up()
    fake = stack.fake
    assert stack.discord is not None
    outbound = stack.discord.client.outbound
    channel = ChannelRef("discord", str(fake.guild_id), str(fake.channel_id))
    keys = "ABCDEFGHIJ"
    message = OutMessage(
        tone="question", title="Question #7", body="Pick one",
        buttons=tuple(Button(k if k != "C" else "<@&1> @everyone " + "x" * 90,
                             vote_action(7, k)) for k in keys),
        reactions=tuple(keys),
    )
    mid = int(await outbound.post(channel, message, idempotency_key="post-7"))
    assert fake.requests_for_message(mid) == 1 and mid not in fake.reactions
    rows = fake.messages[mid]["components"]
    assert [len(r["components"]) for r in rows] == [5, 5] and all(r["type"] == 1 for r in rows)
    ids = [c["custom_id"] for r in rows for c in r["components"]]
    assert ids == [f"qotd:vote:7:{k}" for k in keys]
    odd = rows[0]["components"][2]["label"]
    assert len(odd) <= 80 and "<@&1>" not in odd and "@everyone" not in odd

    await outbound.add_reactions(channel, str(mid), ["A", "B"])
    assert fake.reactions[mid] == [emoji_for("A"), emoji_for("B")]
    assert fake.requests_for_message(mid) == 3


def test_the_fake_refuses_components_discord_refuses() -> None:
    def button(cid: str, label: str = "x") -> dict[str, Any]:
        return {"type": 2, "style": 2, "label": label, "custom_id": cid}

    def row(*buttons: dict[str, Any]) -> dict[str, Any]:
        return {"type": 1, "components": list(buttons)}

    assert components_problem([row(button("a"), button("b"))]) is None
    assert components_problem([row(button(str(i))) for i in range(6)])  # 6 rows
    assert components_problem([row(*(button(str(i)) for i in range(6)))])  # 6 in a row
    assert components_problem([row(button("a"), button("a"))])  # duplicate custom_id
    assert components_problem([row(button("a" * 101))])
    assert components_problem([row(button("a", "l" * 81))])
    assert components_problem([button("a")])  # a button outside an action row
    assert components_problem([row()])


class GatedCore:
    """The real core behind a gate that counts the commands inside it (how many the
    bridge lets in at once); everything else passes straight through."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self.router = core.router
        self.gate = asyncio.Event()
        self.inside = 0
        self.most = 0

    async def handle_command(self, command: Any) -> Any:
        self.inside += 1
        self.most = max(self.most, self.inside)
        try:
            await self.gate.wait()
            return await self._core.handle_command(command)
        finally:
            self.inside -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)


async def test_every_interaction_is_acked_before_the_core_and_the_core_is_bounded(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack([choice_question()])
    await stack.up(core_concurrency=2)
    fake = stack.fake
    assert stack.discord is not None and stack.core is not None
    bridge = stack.discord.client.qotd_bridge
    gated = GatedCore(stack.core)
    bridge.core = gated
    ids = [await fake.inject(fake.slash("qotd", fake.user(f"m{i}"), subcommand="status"))
           for i in range(5)]
    await fake.wait_acked(ids)  # all five acknowledged while the core answers none
    assert all(fake.callbacks[i]["type"] == 5 for i in ids)
    assert gated.most <= 2 and not fake.replied_at
    gated.gate.set()
    await fake.wait_for(lambda f: all(i in f.replied_at for i in ids))
    assert gated.most == 2
