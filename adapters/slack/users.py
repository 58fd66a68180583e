"""Whether a Slack user may run admin commands, asked of `users.info` only when needed.

Display names come from the payloads themselves (a slash command's `user_name`, a
button press's `user.name`); events carry none and the core keeps the stored name. So
`users.info` is called for two things: first, an admin-only command
(`bot.service.commands.needs_admin`) by someone not listed in `SLACK_ADMINS` (nor the
core's own admin setting), to read `is_admin` / `is_owner` / `is_primary_owner`; and,
at low priority, the name of someone the adapter has only seen react
(`lookup_spare`, driven by adapters.slack.names). Both share the team's budget; the
background lookups take only what the admin checks leave (see `lookup_spare`).

`users.info` is Tier 4 (about 100 calls per minute per workspace). Under a burst of
commands the directory must neither storm it into 429s nor let a refused lookup decide
anything, so:

- answers are cached per (team, user) for `ttl_seconds` (10 minutes: a promotion or a
  demotion takes effect within that; a definitive Slack error such as `user_not_found`
  or `missing_scope` is cached the same, as "not a workspace admin", and logged);
- one lookup is in flight per (team, user): twenty commands at once by one person
  share it;
- calls are paced per team at the tier (GCRA: `per_minute`, a small burst), and a caller
  waits for its turn at most `max_wait_seconds`;
- a 429's `Retry-After` stops every lookup for that team until it has passed;
- whatever cannot be answered in time — rate-limited, paced out, Slack's 5xx, a dropped
  connection — raises `LookupUnavailable`: the command is answered "try again in a
  moment", the core is not called, nothing is written. A lookup never silently turns an
  admin into a non-admin.

The lookup client should not retry 429s itself (`client.build_lookup_client`): its
retry handler would sleep through Retry-After once per caller, which is the storm.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.pacing import Gcra
from bot.text import clean_name

log = logging.getLogger(__name__)

TTL_SECONDS = 600.0
PER_MINUTE = 100  # users.info: Tier 4
BURST = 10
MAX_WAIT_SECONDS = 2.0
# The most of the tier background name lookups may use: the rest stays for admin checks
# even while a fill is going on (they go first anyway; this keeps headroom besides).
SPARE_SHARE = 0.8
# Slack's answers that say "not now" rather than "no": a retry may succeed.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
TRY_AGAIN = "Slack is busy and could not confirm your permissions; try again in a moment."


class LookupUnavailable(Exception):
    """users.info could not answer now; the caller must not guess the user's rights."""


class RateLimited(LookupUnavailable):
    """Slack answered 429: every lookup for the team waits until `Retry-After` passed."""


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    is_admin: bool
    name: str = ""  # what Slack shows for them (profile_name); "" when it had none


NAME_LIMIT = 200  # as adapters.slack.inbound: longer than any Slack name


def profile_name(info: object) -> str:
    """The name Slack shows for a users.info `user`: the profile's display name, else
    the real name (profile, then top level), else the handle; "" when none is a string
    with something visible in it (a display name of invisible characters falls through
    to the real name). As is: the core cleans it like every other name."""
    if not isinstance(info, dict):
        return ""
    profile = info.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    for value in (profile.get("display_name"), profile.get("real_name"),
                  info.get("real_name"), info.get("name")):
        if isinstance(value, str) and len(value) <= NAME_LIMIT and clean_name(value):
            return value
    return ""


class UserDirectory:
    def __init__(
        self,
        *,
        admin_ids: frozenset[str] = frozenset(),
        ttl_seconds: float = TTL_SECONDS,
        per_minute: float = PER_MINUTE,
        burst: int = BURST,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        lookup_client: AsyncWebClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._admin_ids = admin_ids
        self._ttl = ttl_seconds
        self._per_minute = per_minute
        self._burst = burst
        self._max_wait = max_wait_seconds
        self._lookup_client = lookup_client
        self._monotonic = monotonic
        self._sleep = sleep
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}
        self._in_flight: dict[tuple[str, str], asyncio.Future[SlackUser]] = {}
        self._pace: dict[str, Gcra] = {}
        self._next_spare: dict[str, float] = {}  # team -> earliest next name-fill call
        self.spare_share = SPARE_SHARE
        self.calls = 0  # users.info requests made (for tests and the benchmark)

    @property
    def monotonic(self) -> Callable[[], float]:
        return self._monotonic

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        return self._sleep

    def listed(self, user_id: str) -> bool:
        """In the admin setting: an admin without asking Slack."""
        return user_id in self._admin_ids

    async def is_admin(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        """Whether the user may run admin commands; raises LookupUnavailable when Slack
        cannot say so now."""
        if self.listed(user_id):
            return True
        return (await self.lookup(client, team_id, user_id)).is_admin

    async def lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackUser:
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit is not None and self._monotonic() - hit[0] < self._ttl:
            return hit[1]
        pending = self._in_flight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(client, team_id, user_id))
            self._in_flight[key] = pending
            pending.add_done_callback(lambda done: self._settled(key, done))
        # shield: one waiter giving up (its request cancelled) does not cancel the others'
        return await asyncio.shield(pending)

    def _settled(self, key: tuple[str, str], done: asyncio.Future[SlackUser]) -> None:
        self._in_flight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone by now

    async def lookup_spare(self, client: AsyncWebClient, team_id: str,
                           user_id: str) -> SlackUser:
        """`lookup` at low priority, for background work (adapters.slack.names): it takes
        a call only from budget the admin checks leave. It waits (however long) until
        the team's meter is empty (no admin lookup queued or owed, no Retry-After pause)
        and at most one call per `interval / spare_share` has gone to background work,
        so an admin check arriving during a fill still finds its burst free and goes at
        once, and the fill alone never uses more than `spare_share` of the tier. A lookup
        for the same person already in flight (an admin check's) is shared. Raises
        RateLimited on a 429 and LookupUnavailable as `lookup` does."""
        key = (team_id, user_id)
        while True:
            hit = self._cache.get(key)
            if hit is not None and self._monotonic() - hit[0] < self._ttl:
                return hit[1]
            pending = self._in_flight.get(key)
            if pending is not None:
                return await asyncio.shield(pending)
            wait = self._spare_wait(team_id)
            if wait <= 0:
                break
            await self._sleep(wait)
        pace = self._meter(team_id)
        pending = asyncio.ensure_future(self._call(pace, client, team_id, user_id))
        self._in_flight[key] = pending
        pending.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(pending)

    def _meter(self, team_id: str) -> Gcra:
        return self._pace.setdefault(team_id, Gcra(self._per_minute, self._burst))

    def _spare_wait(self, team_id: str) -> float:
        """0 and a slot reserved for background work, or the seconds until one may be."""
        pace = self._meter(team_id)
        now = self._monotonic()
        start = max(pace.blocked_until, pace.tat, self._next_spare.get(team_id, 0.0))
        if start > now:
            return start - now
        pace.tat = now + pace.interval  # counted in the team's budget like any call
        self._next_spare[team_id] = now + pace.interval / self.spare_share
        return 0.0

    async def _fetch(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackUser:
        pace = self._meter(team_id)
        wait = pace.reserve(self._monotonic(), self._max_wait)
        if wait is None:
            log.warning("users.info for team %s paced out (Tier 4 budget used up)", team_id)
            raise LookupUnavailable("users.info paced out")
        if wait > 0:
            await self._sleep(wait)
        return await self._call(pace, client, team_id, user_id)

    async def _call(self, pace: Gcra, client: AsyncWebClient, team_id: str,
                    user_id: str) -> SlackUser:
        api = self._lookup_client or client
        token = client.token if self._lookup_client is not None else None
        self.calls += 1
        try:
            resp = (await api.users_info(user=user_id, token=token) if token
                    else await api.users_info(user=user_id))
        except SlackApiError as err:
            code = str(err.response.get("error"))
            status = err.response.status_code
            if status == 429 or code == "ratelimited":
                after = _retry_after(err)
                pace.blocked_until = max(pace.blocked_until, self._monotonic() + after)
                log.warning("users.info rate-limited for team %s; pausing lookups %.0f s",
                            team_id, after)
                raise RateLimited("users.info rate-limited") from None
            if status >= 500 or code in TRANSIENT_ERRORS:
                log.warning("users.info failed for team %s (%s)", team_id, code)
                raise LookupUnavailable(f"users.info: {code}") from None
            # A definitive answer (user_not_found, missing_scope): not a workspace admin;
            # only the admin setting can grant the commands. Cached like an answer.
            log.warning("users.info refused for %s in team %s (%s): only the admin "
                        "setting can make them an admin", user_id, team_id, code)
            user = SlackUser(user_id, False)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.info unreachable for team %s (%s)", team_id,
                        type(exc).__name__)
            raise LookupUnavailable("users.info unreachable") from None
        else:
            info = resp.get("user")
            info = info if isinstance(info, dict) else {}
            user = SlackUser(user_id, bool(
                info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner")
            ), profile_name(info))
        self._cache[(team_id, user_id)] = (self._monotonic(), user)
        return user


def _retry_after(err: SlackApiError) -> float:
    headers = getattr(err.response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(1.0, float(raw)) if raw is not None else 30.0
    except (TypeError, ValueError):
        return 30.0
