"""Names for members who only react (issue 16): looked up in the background with
users.info, from budget the admin checks leave, never in the way of a vote or a command.

The real core and the real Bolt app against the fake Slack. The admin lookups' directory
runs on FakeTime, and so does the fake's tier window (`fake.monotonic`): pacing waits and
Retry-After pauses pass without waiting, and the fake counts users.info calls per minute
of that same time, so a call over Tier 4 would be answered 429 and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.emoji import emoji_for
from adapters.slack.names import NameFiller
from adapters.slack.users import TRY_AGAIN
from bot.app import Core
from bot.boundary import ChannelRef
from tests.conftest import START, sample_questions
from tests.slack.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.harness import (
    CHANNEL,
    FakeTime,
    Mode,
    SlackDriver,
    bot_on_slack,
    directory_for,
    say,
)


class PausableTime(FakeTime):
    """FakeTime whose long sleeps (a Retry-After pause, not a pacing wait) last until
    the test ends them, so the test can act while one is going on."""

    def __init__(self) -> None:
        super().__init__()
        self.pausing = asyncio.Event()
        self.resume = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds >= 10:
            self.pausing.set()
            await self.resume.wait()
        await super().sleep(seconds)


@asynccontextmanager
async def bot_on_fake_time(
    tmp_path: Path, mode: Mode = "socket", t: FakeTime | None = None
) -> AsyncIterator[tuple[Core, SlackDriver, FakeTime]]:
    t = t or FakeTime()

    def directory(fake: FakeSlack) -> Any:
        fake.monotonic = t.monotonic  # the tier's window counts the same time
        return directory_for(fake, t)

    async with bot_on_slack(tmp_path, mode, kind="choice", directory=directory) as (
        core, slack
    ):
        yield core, slack, t


def filler(slack: SlackDriver) -> NameFiller:
    names = slack.running.names
    assert names is not None
    return names


async def posted_question(core: Core, slack: SlackDriver) -> tuple[dict[str, Any], str, str]:
    """Schedule the channel in reactions mode, let the post go out; the post and its
    right and a wrong answer's emoji."""
    scheduled = await say(
        slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily answers:reactions",
        "UADMIN",
    )
    assert "Next post" in scheduled["text"]
    await core.advance_to(START.replace(hour=9, minute=5))
    [post] = slack.fake.channel_posts(CHANNEL)
    body = " ".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    question = next(q for q in sample_questions() if q.prompt.split("?")[0] in body)
    right = question.correct or "A"
    wrong = next(k for k in question.letters if k != right)
    return post, emoji_for(right), emoji_for(wrong)


def vote(user: str, post: dict[str, Any], emoji: str) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item_user": BOT_USER_ID,
        "item": {"type": "message", "channel": CHANNEL, "ts": post["ts"]},
        "event_ts": "1790000001.000100",
    }


async def votes_recorded(slack: SlackDriver) -> None:
    assert slack.running.reactions is not None
    await asyncio.wait_for(slack.running.reactions.idle(), 15)


async def stored_name(core: Core, user: str) -> str | None:
    async with core.db.uow() as uow:
        row = await uow.users.find("slack", TEAM_ID, user)
        return row.display_name if row is not None else None


def lookups_of(fake: FakeSlack, user: str) -> int:
    return sum(c.params.get("user") == user for c in fake.calls_to("users.info", ok_only=False))


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_a_member_who_only_reacts_gets_their_name_on_the_board(
    tmp_path: Path, mode: Mode
) -> None:
    async with bot_on_fake_time(tmp_path, mode) as (core, slack, _):
        fake = slack.fake
        fake.add_user("U9", "zed")
        # Slack's profile fields first: the display name the member chose, not the handle
        fake.users["U9"]["profile"]["display_name"] = "Zed the Quiet"
        # a display name of invisible characters is no name: the real name is next
        fake.add_user("U6", "uma")
        fake.users["U6"]["profile"] |= {"display_name": "\u3164\u200b",
                                        "real_name": "Uma\u202e Real"}
        await say(slack, "/qotd", "status", "U1")  # named by its payload: no lookup
        post, right, _ = await posted_question(core, slack)

        await slack.event(vote("U9", post, right), event_id="EvOnlyReacts")
        await slack.event(vote("U1", post, right), event_id="EvNamed")
        await slack.event(vote("U6", post, right), event_id="EvInvisible")
        await votes_recorded(slack)
        await asyncio.wait_for(filler(slack).idle(), 15)
        assert await stored_name(core, "U9") == "Zed the Quiet"
        assert await stored_name(core, "U6") == "Uma Real"  # cleaned as inputs are

        await core.advance_to(START.replace(hour=17, minute=30))
        board = await say(slack, "/leaderboard", "week channel", "U1")
        assert "Zed the Quiet:" in board["text"] and "U9" not in board["text"]
        assert "ana:" in board["text"]
        # one lookup for the reactor; none for people named by a payload
        assert lookups_of(fake, "U9") == 1 and lookups_of(fake, "U1") == 0

        # reacting again: the adapter has their name now, no second lookup
        await slack.event(vote("U9", post, right) | {"type": "reaction_removed"},
                          event_id="EvAgain")
        await votes_recorded(slack)
        await asyncio.wait_for(filler(slack).idle(), 15)
        assert lookups_of(fake, "U9") == 1


async def test_two_hundred_reactors_fill_within_the_tier_and_admins_go_first(
    tmp_path: Path,
) -> None:
    async with bot_on_fake_time(tmp_path) as (core, slack, t):
        fake = slack.fake
        fake.enforce_tier("users.info")  # Tier 4: 100 a minute, 429 beyond
        reactors = [f"UR{n:03d}" for n in range(200)]
        for n, user in enumerate(reactors):
            fake.add_user(user, f"member{n}")
        fake.add_user("UBOSS", "boss", is_admin=True)
        post, right, wrong = await posted_question(core, slack)
        # Slack slow to answer the fill's first lookup: the admin's command arrives while
        # the whole fill is still to do
        stuck = fake.hold_call("users.info", match=lambda p: p.get("user", "")[:2] == "UR")

        started = t.now
        await asyncio.gather(*(
            slack.event(vote(user, post, right if n % 2 else wrong), event_id=f"EvR{n}")
            for n, user in enumerate(reactors)
        ))
        await votes_recorded(slack)  # every vote in at once, names or not
        async with core.db.uow() as uow:
            assert await uow.users.find("slack", TEAM_ID, "UR199") is not None

        await stuck.wait_reached()
        assert filler(slack).pending() == 200
        slept = len(t.slept)
        paused = await say(slack, "/qotd", "pause", "UBOSS")  # admin-only: users.info
        assert paused["text"] != TRY_AGAIN and "Only channel admins" not in paused["text"]
        assert lookups_of(fake, "UBOSS") == 1
        assert len(t.slept) == slept  # its lookup went at once, not after the fill's turn
        assert filler(slack).pending() == 200  # ahead of the whole fill

        stuck.release()
        await asyncio.wait_for(filler(slack).idle(), 60)
        assert fake.rate_limited["users.info"] == 0  # no 429 at all
        assert sum(lookups_of(fake, u) for u in reactors) == 200  # one each
        # spread over the tier: at most 100 a minute (the fill takes 4/5 of it)
        assert t.now - started >= 199 * 60 / 100
        assert {await stored_name(core, u) for u in ("UR000", "UR050", "UR199")} == {
            "member0", "member50", "member199"}


async def test_a_429_on_the_fill_never_delays_a_vote_and_retry_after_is_honoured(
    tmp_path: Path,
) -> None:
    t = PausableTime()
    async with bot_on_fake_time(tmp_path, t=t) as (core, slack, _):
        fake = slack.fake
        for user, name in (("U7", "gus"), ("U8", "hal"), ("U9", "ida")):
            fake.add_user(user, name)
        post, right, _ = await posted_question(core, slack)
        asked = len(fake.calls_to("users.info", ok_only=False))  # the admin's, so far
        gate = fake.hold("users.info")  # Slack slow: the first name lookup hangs ...
        fake.fail("users.info", status=429, retry_after=30)  # ... then answers 429

        await slack.event(vote("U7", post, right), event_id="EvFirst")
        await votes_recorded(slack)  # recorded while its name lookup hangs
        await slack.event(vote("U8", post, right), event_id="EvSecond")
        await votes_recorded(slack)
        assert [await stored_name(core, u) for u in ("U7", "U8")] == ["U7", "U8"]
        gate.set()
        await asyncio.wait_for(t.pausing.wait(), 15)  # Retry-After: every lookup waits
        before = t.now
        await slack.event(vote("U9", post, right), event_id="EvDuringPause")
        await votes_recorded(slack)  # a vote in the pause goes in at once too
        assert await stored_name(core, "U9") == "U9"
        calls = fake.calls_to("users.info", ok_only=False)[asked:]
        assert [c.status for c in calls] == [429]  # nothing more asked in the pause

        t.resume.set()
        await asyncio.wait_for(filler(slack).idle(), 15)
        assert t.now - before >= 30
        assert [await stored_name(core, u) for u in ("U7", "U8", "U9")] == [
            "gus", "hal", "ida"]
        calls = fake.calls_to("users.info", ok_only=False)[asked:]
        assert [(c.params["user"], c.status) for c in calls] == [
            ("U7", 429), ("U7", 200), ("U8", 200), ("U9", 200)]


async def test_a_failed_lookup_is_retried_once_then_given_up(tmp_path: Path) -> None:
    async with bot_on_fake_time(tmp_path) as (core, slack, _):
        fake = slack.fake
        fake.add_user("U7", "gus")
        post, right, _ = await posted_question(core, slack)
        fake.fail("users.info", status=500, times=2)

        await slack.event(vote("U7", post, right), event_id="EvFails")
        await votes_recorded(slack)
        await asyncio.wait_for(filler(slack).idle(), 15)
        assert lookups_of(fake, "U7") == 2  # the first and one retry, later
        assert filler(slack).given_up == 1
        assert await stored_name(core, "U7") == "U7"  # still by id, never a guess

        # given up for this process: reacting again asks nothing more
        await slack.event(vote("U7", post, right) | {"type": "reaction_removed"},
                          event_id="EvFailsAgain")
        await votes_recorded(slack)
        assert lookups_of(fake, "U7") == 2


async def test_reactions_elsewhere_look_nobody_up_and_stop_is_clean(tmp_path: Path) -> None:
    async with bot_on_fake_time(tmp_path) as (core, slack, _):
        fake = slack.fake
        fake.add_user("U7", "gus")
        post, right, _ = await posted_question(core, slack)
        # a ✅ on a colleague's message: not a vote, nobody to look up
        elsewhere = vote("U7", post, right) | {
            "item_user": "U1", "item": {"type": "message", "channel": CHANNEL,
                                        "ts": "1790000000.000001"}}
        await slack.event(elsewhere, event_id="EvElse")
        await votes_recorded(slack)
        assert lookups_of(fake, "U7") == 0

        # a lookup hanging on Slack when the adapter stops: stop does not wait for it
        fake.hold("users.info")
        await slack.event(vote("U7", post, right), event_id="EvHang")
        await votes_recorded(slack)
        await fake.wait_for(lambda: any(c.status == 0 for c in fake.calls))
        await asyncio.wait_for(filler(slack).stop(), 5)
        assert filler(slack).pending() == 0
        await slack.event(vote("U1", post, right), event_id="EvAfterStop")
        await votes_recorded(slack)
        assert filler(slack).pending() == 0  # stopped: nothing queued any more


async def test_background_lookups_leave_the_admin_checks_their_burst() -> None:
    """The directory alone: a fill running flat out still leaves an admin check its
    turn at once, and after a burst of admin checks the fill waits for the meter."""
    t = FakeTime()
    async with FakeSlack() as fake:
        fake.monotonic = t.monotonic
        fake.enforce_tier("users.info")
        for n in range(40):
            fake.add_user(f"U{n}", f"user{n}", is_admin=n >= 30)
        users = directory_for(fake, t)  # Tier 4: 100 a minute, a burst of 10
        web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        for n in range(20):
            assert (await users.lookup_spare(web, TEAM_ID, f"U{n}")).name == f"user{n}"
        # the fill's pace: one call per interval / spare_share, never the full tier
        assert t.slept == [0.75] * 19
        before = len(t.slept)
        assert [await users.is_admin(web, TEAM_ID, f"U{n}") for n in range(30, 39)] == [
            True] * 9
        assert len(t.slept) == before  # nine admin checks at once: none waited
        t.slept.clear()
        await users.lookup_spare(web, TEAM_ID, "U20")
        # the fill waited until the meter was idle: its own last call and the nine
        # admin checks paid off (ten intervals of 0.6 s)
        assert sum(t.slept) == pytest.approx(10 * 0.6, abs=0.01)
        assert fake.rate_limited["users.info"] == 0


async def test_the_queue_is_bounded_and_a_retry_never_holds_up_new_people() -> None:
    """The filler alone, on the directory against the fake: beyond `limit` waiting
    people are dropped (and queued again when they next act); a retry waiting for its
    time does not keep someone new waiting."""
    t = PausableTime()
    async with FakeSlack() as fake:
        for n in range(8):
            fake.add_user(f"U{n}", f"user{n}")
        web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        learned: list[tuple[str, str]] = []
        told = {f"U{n}": asyncio.Event() for n in range(8)}

        async def learn(ref: ChannelRef, user: str, name: str) -> None:
            learned.append((user, name))
            told[user].set()

        names = NameFiller(directory_for(fake, t), learn, limit=3)
        ref = ChannelRef("slack", TEAM_ID, CHANNEL)
        gate = fake.hold("users.info")
        for n in range(5):
            names.heard(web, ref, f"U{n}")
        assert names.pending() == 3 and names.dropped == 2
        gate.set()
        await asyncio.wait_for(names.idle(), 10)
        assert learned == [("U0", "user0"), ("U1", "user1"), ("U2", "user2")]
        names.heard(web, ref, "U3")  # dropped before, acting again: queued now
        names.heard(web, ref, "U0")  # known: nothing to do
        await asyncio.wait_for(names.idle(), 10)
        assert learned[3:] == [("U3", "user3")]

        fake.fail("users.info", status=503)
        names.heard(web, ref, "U5")
        await asyncio.wait_for(t.pausing.wait(), 10)  # U5 failed: its retry waits 60 s
        names.heard(web, ref, "U6")  # someone new goes now, not after the retry
        await asyncio.wait_for(told["U6"].wait(), 10)
        assert names.pending() == 1  # U5's retry, still to come
        t.resume.set()
        await asyncio.wait_for(names.idle(), 10)
        assert learned[-1] == ("U5", "user5")
        assert [c.params["user"] for c in fake.calls_to("users.info", ok_only=False)].count(
            "U5") == 2
        await names.stop()


async def test_learn_name_stores_a_clean_name_once(core: Core) -> None:
    """Core.learn_name on both databases: cleaned as inputs are, one write, nothing when
    this process stored the same name lately, nothing for an empty name or a bad id."""
    ref = ChannelRef("slack", TEAM_ID, CHANNEL)
    await core.learn_name(ref, "U7", "  Gus\u202e\u200b  the   Bold ")
    assert await stored_name(core, "U7") == "Gus the Bold"
    async with core.db.uow() as uow:  # another replica renamed them meanwhile
        await uow.users.remember_name("slack", TEAM_ID, "U7", "Gus 2", core.clock.now())
        await uow.commit()
    await core.learn_name(ref, "U7", "Gus the Bold")  # KnownNames: stored lately, skipped
    assert await stored_name(core, "U7") == "Gus 2"
    await core.learn_name(ref, "U7", "Gus the Bolder")  # a new name is stored
    assert await stored_name(core, "U7") == "Gus the Bolder"
    await core.learn_name(ref, "U8", "\u3164\u200b")  # nothing visible: nothing stored
    await core.learn_name(ref, "U9\n", "Nine")  # not an id the columns take
    assert await stored_name(core, "U8") is None and await stored_name(core, "U9\n") is None
