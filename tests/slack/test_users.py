"""UserDirectory against the fake Slack's users.info: cached per (team, user) with a TTL,
one lookup in flight per person, paced at Tier 4, Retry-After honoured, and every
answer Slack could not give now raised as LookupUnavailable (never "not an admin")."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.users import LookupUnavailable, UserDirectory
from tests.slack.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.slack.harness import FakeTime, directory_for


def request_client(fake: FakeSlack) -> AsyncWebClient:
    """What Bolt hands a listener: the request's client, carrying the token."""
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)


async def test_answers_are_cached_per_user_until_the_ttl() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        fake.add_user("UA", "ada", is_admin=True)
        fake.add_user("UO", "olga", is_owner=True)
        fake.add_user("U1", "ana")
        users = directory_for(fake, t, ttl_seconds=600)
        web = request_client(fake)
        assert [await users.is_admin(web, TEAM_ID, u) for u in ("UA", "UO", "U1")] == [
            True, True, False]
        assert await users.is_admin(web, TEAM_ID, "U1") is False
        assert len(fake.calls_to("users.info")) == 3
        t.now += 601
        fake.users["U1"]["is_admin"] = True  # promoted meanwhile: seen after the TTL
        assert await users.is_admin(web, TEAM_ID, "U1") is True
        assert len(fake.calls_to("users.info")) == 4
        # the token is the request's (the installation's), on the lookup client
        assert {c.token for c in fake.calls_to("users.info")} == {BOT_TOKEN}


async def test_listed_admins_need_no_lookup() -> None:
    async with FakeSlack() as fake:
        users = UserDirectory(admin_ids=frozenset({"ULISTED"}))
        assert await users.is_admin(request_client(fake), TEAM_ID, "ULISTED") is True
        assert fake.calls_to("users.info", ok_only=False) == []


async def test_one_lookup_in_flight_per_user() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        fake.add_user("UA", "ada", is_admin=True)
        users = directory_for(fake, t)
        gate = fake.hold("users.info")
        web = request_client(fake)
        waiting = [asyncio.ensure_future(users.is_admin(web, TEAM_ID, "UA")) for _ in range(20)]
        await fake.wait_for(lambda: any(c.status == 0 for c in fake.calls))
        gate.set()
        assert await asyncio.gather(*waiting) == [True] * 20
        assert len(fake.calls_to("users.info")) == 1


async def test_lookups_are_paced_at_the_tier_and_paced_out_past_the_wait() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        for n in range(8):
            fake.add_user(f"U{n}", f"user{n}")
        users = directory_for(fake, t, per_minute=60, burst=3, max_wait_seconds=2.0)
        web = request_client(fake)
        for n in range(5):  # 3 at once, then one a second (time moves only by sleeping)
            await users.is_admin(web, TEAM_ID, f"U{n}")
        assert t.slept == [1.0, 1.0]
        # a turn further off than max_wait: unavailable at once, nothing asked of Slack
        strict = directory_for(fake, t, per_minute=60, burst=1, max_wait_seconds=0.5)
        assert await strict.is_admin(web, TEAM_ID, "U5") is False
        with pytest.raises(LookupUnavailable):
            await strict.is_admin(web, TEAM_ID, "U6")
        assert await strict.is_admin(web, "T0OTHER", "U6") is False  # its own budget
        assert len(fake.calls_to("users.info", ok_only=False)) == 7


async def test_a_429_pauses_the_team_for_retry_after_and_is_never_a_no() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        fake.add_user("UA", "ada", is_admin=True)
        fake.add_user("UB", "bo", is_admin=True)
        users = directory_for(fake, t)
        web = request_client(fake)
        fake.fail("users.info", status=429, retry_after=20)
        with pytest.raises(LookupUnavailable):
            await users.is_admin(web, TEAM_ID, "UA")
        with pytest.raises(LookupUnavailable):  # paused: no request at all
            await users.is_admin(web, TEAM_ID, "UB")
        assert len(fake.calls_to("users.info", ok_only=False)) == 1  # the client did not retry
        t.now += 19  # within max_wait of the end of the pause: waits for it, then asks
        assert await users.is_admin(web, TEAM_ID, "UA") is True
        assert t.slept == [1.0]


async def test_slacks_trouble_is_unavailable_a_definitive_answer_is_a_cached_no() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        fake.add_user("UA", "ada", is_admin=True)
        users = directory_for(fake, t)
        web = request_client(fake)
        fake.fail("users.info", status=500)
        with pytest.raises(LookupUnavailable):
            await users.is_admin(web, TEAM_ID, "UA")
        assert await users.is_admin(web, TEAM_ID, "UA") is True  # not cached: asked again
        # user_not_found: Slack answered; not an admin (only the setting could make them one)
        assert await users.is_admin(web, TEAM_ID, "UGONE") is False
        assert await users.is_admin(web, TEAM_ID, "UGONE") is False
        assert [c.params["user"] for c in fake.calls_to("users.info")].count("UGONE") == 1


async def test_a_dropped_connection_is_unavailable() -> None:
    t = FakeTime()
    async with FakeSlack() as fake:
        users = directory_for(fake, t)
        web = request_client(fake)
    # the fake is gone: nothing listens on its port any more
    with pytest.raises(LookupUnavailable):
        await users.is_admin(web, TEAM_ID, "UA")
