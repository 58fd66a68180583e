"""The Web API client, configured the way production needs it.

slack_sdk retries only connection errors by default; rate limits (429 + Retry-After) and
Slack's own 5xx are retried here too. `SLACK_API_URL` points it at GovSlack or a test
server.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings
from adapters.slack.watch import WatchedWebClient


def build_lookup_client(settings: SlackSettings, *, token: str | None = None) -> AsyncWebClient:
    """For `users.info` (adapters.slack.users): a dropped connection is retried once; a
    429 is not (the directory honours Retry-After for every caller at once instead of
    each caller sleeping through it and asking again) and neither is a 5xx (the user is
    told to try again in a moment). Multi-workspace: tokenless, each call carries the
    request's installation token."""
    return AsyncWebClient(
        token=token,
        base_url=settings.normalized_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )


def build_client(
    settings: SlackSettings,
    *,
    token: str | None = None,
    for_posting: bool = False,
    on_refused: Callable[[str], None] | None = None,
) -> WatchedWebClient:
    """`for_posting=True`: a client that retries only 429s. `on_refused` hears Slack's
    code when it refuses this client's own token for good (see `watch`).

    A 5xx or a dropped connection after `chat.postMessage` may mean Slack posted and the
    answer was lost; retrying blindly would post twice. The Outbound retries those itself,
    after checking the channel for the message's idempotency key.
    """
    backoff = BackoffRetryIntervalCalculator(backoff_factor=settings.retry_backoff_seconds)
    handlers: list[AsyncRetryHandler] = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=settings.max_retries)
    ]
    if not for_posting:
        handlers += [
            AsyncConnectionErrorRetryHandler(
                max_retry_count=settings.max_retries, interval_calculator=backoff
            ),
            AsyncServerErrorRetryHandler(
                max_retry_count=settings.max_retries, interval_calculator=backoff
            ),
        ]
    client = WatchedWebClient(
        token=token, base_url=settings.normalized_api_url, retry_handlers=handlers
    )
    client.on_refused = on_refused
    return client
