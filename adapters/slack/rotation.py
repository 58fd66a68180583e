"""Rotating bot tokens, renewed for the posts nobody asked for.

With token rotation on (an OAuth install whose app enables it), a bot token lives 12
hours and is renewed with its refresh token. Bolt renews it only while it handles an
incoming request; scheduled posts and reveals go out through the Outbound, so
`TeamTokens.token_for` renews an expiring token before the Outbound calls the Web API,
and saves the renewed bot to the installation store, where Bolt and the next post find it.

One rotator serves both paths (it replaces the one Bolt builds), and it holds one lock
per workspace around "read the stored bot, refresh, save": two posts, or a post and an
incoming event, that find the token expiring refresh it once. A refresh token is good
for one refresh, so a second refresh with the same one would fail.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.oauth import OAuthStores

log = logging.getLogger(__name__)

REFRESH_BEFORE_MINUTES = 120  # Bolt's default: renew once less than two hours are left


class LockedTokenRotator(AsyncTokenRotator):
    """slack_sdk's rotator with an injected clock (it reads `time.time` itself, which a
    test cannot move 12 hours) and a per-workspace lock with a re-read of the store."""

    def __init__(
        self,
        stores: OAuthStores,
        *,
        client_id: str,
        client_secret: str,
        client: AsyncWebClient,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret, client=client)
        self._stores = stores
        self._now = now
        self._locks: dict[str, asyncio.Lock] = {}

    def expiring(self, bot: Bot, minutes_before_expiration: int) -> bool:
        expires = bot.bot_token_expires_at
        if expires is None or not bot.bot_refresh_token:
            return False
        return expires <= self._now() + minutes_before_expiration * 60

    async def perform_bot_token_rotation(
        self, *, bot: Bot, minutes_before_expiration: int = REFRESH_BEFORE_MINUTES
    ) -> Bot | None:
        """The renewed bot (already saved), or None when `bot`'s token is still good."""
        if not self.expiring(bot, minutes_before_expiration):
            return None
        team = bot.team_id or ""
        async with self._locks.setdefault(team, asyncio.Lock()):
            current = (await self._stores.latest_bot(team) if team else None) or bot
            if current.bot_token != bot.bot_token and not self.expiring(
                current, minutes_before_expiration
            ):
                return current  # renewed by whoever held the lock before us
            renewed = await self._refresh(current)
            await self._stores.installations.async_save_bot(renewed)
        log.info("renewed the rotating bot token of Slack workspace %s", team)
        return renewed

    async def _refresh(self, bot: Bot) -> Bot:
        try:
            resp = await self.client.oauth_v2_access(
                client_id=self.client_id,
                client_secret=self.client_secret,
                grant_type="refresh_token",
                refresh_token=bot.bot_refresh_token or "",
            )
        except SlackApiError as err:
            # What reaches the core is Slack's own error, so its log names the code.
            log.warning(
                "renewing the bot token of Slack workspace %s failed (%s)",
                bot.team_id,
                err.response.get("error"),
            )
            raise SlackTokenRotationError(err) from None
        if resp.get("token_type") != "bot" or not resp.get("access_token"):
            raise SlackTokenRotationError(
                SlackApiError("oauth.v2.access gave no bot token", resp)  # type: ignore[no-untyped-call]
            )
        renewed = Bot(**bot.to_dict_for_copying())
        renewed.bot_token = str(resp["access_token"])
        renewed.bot_refresh_token = resp.get("refresh_token") or bot.bot_refresh_token
        renewed.bot_token_expires_at = int(self._now()) + int(resp.get("expires_in") or 0)
        return renewed


class TeamTokens:
    """The Outbound's `token_for` for a multi-workspace install."""

    def __init__(self, stores: OAuthStores, rotator: LockedTokenRotator) -> None:
        self._stores = stores
        self.rotator = rotator

    async def token_for(self, team_id: str) -> str | None:
        bot = await self._stores.latest_bot(team_id)
        if bot is None or not bot.bot_token:
            raise LookupError(f"qotd is not installed in Slack workspace {team_id}")
        try:
            renewed = await self.rotator.perform_bot_token_rotation(bot=bot)
        except SlackTokenRotationError as err:
            raise err.api_error from None  # a SlackApiError: the core logs its code
        return str((renewed or bot).bot_token)
