"""Rotating bot tokens (an OAuth install with token rotation on): the fake Slack issues
tokens that expire after 12 hours on its clock, and the adapter renews them on the same
clock — moved by the test, never slept through. A scheduled post after expiry renews the
token first and goes out; concurrent renewals for one workspace refresh once (the fake
accepts each refresh token once, so a race would fail)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.client import build_client
from adapters.slack.oauth import OAuthStores, open_stores
from adapters.slack.rotation import LockedTokenRotator, TeamTokens
from adapters.slack.settings import SlackSettings
from tests.conftest import START
from tests.slack.fake_slack import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_ID,
    TOKEN_LIFETIME,
    FakeSlack,
)
from tests.slack.harness import CHANNEL, bot_on_slack, say, settings_for

MULTI = {"bot_token": None, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
# slack_sdk sends the client id and secret with aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
HOURS = 3600


class WallClock:
    """Epoch seconds that move only when told."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


async def install(stores: OAuthStores, fake: FakeSlack, clock: WallClock) -> str:
    """What the OAuth redirect saves for an app with token rotation on."""
    access, refresh = fake.issue_rotating_token()
    await stores.installations.async_save(
        Installation(
            app_id=APP_ID,
            team_id=TEAM_ID,
            bot_token=access,
            bot_refresh_token=refresh,
            bot_token_expires_at=int(clock() + TOKEN_LIFETIME),
            bot_id=BOT_ID,
            bot_user_id=BOT_USER_ID,
            bot_scopes=["chat:write", "commands"],
            user_id="UADMIN",
            installed_at=clock(),
        )
    )
    return access


async def test_a_scheduled_post_after_expiry_renews_the_token_and_goes_out(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    async with bot_on_slack(tmp_path, "http", kind="open", clock=clock, **MULTI) as (core, slack):
        fake, stores = slack.fake, slack.running.stores
        assert stores is not None
        first = await install(stores, fake, clock)
        await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        assert fake.refreshes == 0, "a fresh token is used as it is"

        clock.now += 13 * HOURS  # the installed token has expired
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = fake.channel_posts(CHANNEL)
        [sent] = fake.calls_to("chat.postMessage")
        assert fake.refreshes == 1 and sent.token not in (None, first)
        assert fake.calls_to("chat.postMessage", ok_only=False) == [sent], "no failed try"
        bot = await stores.latest_bot(TEAM_ID)
        assert bot is not None and bot.bot_token == sent.token, "saved for the next post"
        assert bot.bot_token_expires_at == int(clock() + TOKEN_LIFETIME)

        # The reveal uses the renewed token without renewing again.
        await core.advance_to(START.replace(hour=17, minute=30))
        assert len(fake.thread(CHANNEL, post["ts"])) == 1 and fake.refreshes == 1


async def test_an_incoming_command_after_expiry_renews_once_for_both_paths(
    tmp_path: Path,
) -> None:
    """Bolt renews for the incoming command through the same rotator; the post that
    follows finds the renewed token and does not refresh again."""
    clock = WallClock()
    async with bot_on_slack(tmp_path, "http", kind="open", clock=clock, **MULTI) as (core, slack):
        assert slack.running.stores is not None
        await install(slack.running.stores, slack.fake, clock)
        clock.now += 11 * HOURS  # within Bolt's two-hour window before expiry
        answer = await say(slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN")
        assert "Next post" in answer["text"] and slack.fake.refreshes == 1
        await core.advance_to(START.replace(hour=9, minute=5))
        assert len(slack.fake.channel_posts(CHANNEL)) == 1 and slack.fake.refreshes == 1


async def test_concurrent_renewals_for_one_workspace_refresh_once(tmp_path: Path) -> None:
    clock = WallClock()
    async with FakeSlack(clock=clock) as fake:
        settings = SlackSettings(**settings_for(fake, "http", **MULTI).model_dump())
        stores = await open_stores(settings, f"sqlite+aiosqlite:///{tmp_path / 'oauth.db'}")
        try:
            first = await install(stores, fake, clock)
            rotator = LockedTokenRotator(
                stores, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                client=build_client(settings), now=clock,
            )  # fmt: skip
            tokens = TeamTokens(stores, rotator)
            assert await tokens.token_for(TEAM_ID) == first
            clock.now += TOKEN_LIFETIME + 60
            got = await asyncio.gather(*(tokens.token_for(TEAM_ID) for _ in range(5)))
            assert len(set(got)) == 1 and first not in got and fake.refreshes == 1
        finally:
            await stores.close()


async def test_a_failed_renewal_reaches_the_core_as_slacks_error(tmp_path: Path) -> None:
    clock = WallClock()
    async with FakeSlack(clock=clock) as fake:
        settings = SlackSettings(**settings_for(fake, "http", **MULTI).model_dump())
        stores = await open_stores(settings, f"sqlite+aiosqlite:///{tmp_path / 'oauth.db'}")
        try:
            await install(stores, fake, clock)
            fake.refresh_tokens.clear()  # the refresh token no longer works
            tokens = TeamTokens(
                stores,
                LockedTokenRotator(
                    stores, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    client=build_client(settings), now=clock,
                ),
            )  # fmt: skip
            clock.now += TOKEN_LIFETIME
            from bot.service.errors import error_code

            try:
                await tokens.token_for(TEAM_ID)
            except Exception as exc:  # what the core's posting loop catches and logs
                assert error_code(exc) == "SlackApiError: invalid_refresh_token"
            else:
                raise AssertionError("an expired token with a dead refresh token")
        finally:
            await stores.close()
