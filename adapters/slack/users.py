"""Who a Slack user is (display name) and whether they may run admin commands.

Admins are workspace admins/owners (from `users.info`) and the user ids listed in
`SLACK_ADMINS`. Answers are cached briefly: a slash command must be acknowledged within
three seconds, and reactions arrive in bursts from the same people.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    display_name: str
    is_admin: bool


class UserDirectory:
    def __init__(
        self,
        *,
        admin_ids: frozenset[str] = frozenset(),
        ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._admin_ids = admin_ids
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    async def lookup(
        self, client: AsyncWebClient, team_id: str, user_id: str, *, token: str | None = None
    ) -> SlackUser:
        key = (team_id, user_id)
        hit = self._cache.get(key)
        now = self._monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        user = await self._fetch(client, user_id, token)
        self._cache[key] = (now, user)
        return user

    async def _fetch(self, client: AsyncWebClient, user_id: str, token: str | None) -> SlackUser:
        listed = user_id in self._admin_ids
        try:
            resp = (
                await client.users_info(user=user_id, token=token)
                if token
                else await client.users_info(user=user_id)
            )
        except SlackApiError as err:
            # Without users.info (missing scope, deleted user) only the setting can grant admin.
            log.warning("users.info failed for %s: %s", user_id, err.response.get("error"))
            return SlackUser(user_id, user_id, listed)
        info = resp.get("user") or {}
        profile = info.get("profile") or {}
        name = (
            profile.get("display_name") or profile.get("real_name") or info.get("name") or user_id
        )
        platform_admin = bool(
            info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner")
        )
        return SlackUser(user_id, str(name), listed or platform_admin)
