"""Starting and stopping the Slack side of a running bot.

One place decides the connection mode (Socket Mode when an app token is set, else HTTP),
single vs multi-workspace, and registers the Outbound on the core's router; the plugin
and the end-to-end tests both go through `start_slack`, so tests run the production path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import build_app
from adapters.slack.client import build_client
from adapters.slack.http_server import SlackHttpServer
from adapters.slack.oauth import OAuthStores, oauth_settings, open_stores
from adapters.slack.ordering import KeyedLocks
from adapters.slack.outbound import SlackOutbound
from adapters.slack.pacing import ChannelPacer
from adapters.slack.settings import SlackSettings
from adapters.slack.users import UserDirectory
from bot.plugins import CoreHandle

log = logging.getLogger(__name__)
PLATFORM = "slack"
STOP_GRACE_SECONDS = 5.0


class SlackConfigError(RuntimeError):
    """Settings that cannot work; the message says which variables to set (never values)."""


@dataclass
class RunningSlack:
    core: CoreHandle
    app: AsyncApp
    client: AsyncWebClient
    outbound: SlackOutbound
    socket: AsyncSocketModeHandler | None = None
    http: SlackHttpServer | None = None
    stores: OAuthStores | None = None
    reactions: KeyedLocks | None = None
    closed: bool = False

    @property
    def http_port(self) -> int | None:
        return self.http.port if self.http is not None else None

    async def stop(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.reactions is not None:
            # Votes already being recorded finish; a stuck one does not hold up shutdown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reactions.idle(), STOP_GRACE_SECONDS)
        self.core.router.unregister(PLATFORM)
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.http is not None:
            await self.http.stop()
        if self.stores is not None:
            await self.stores.close()


async def _check_tokens(settings: SlackSettings, client: AsyncWebClient) -> None:
    """Ask Slack whether the tokens work before going live.

    Without this a wrong bot token shows up only when the first post fails, and a wrong
    app token makes the Socket Mode client retry forever. Only Slack's error code is
    reported, never the token.
    """
    if not settings.multi_workspace:
        try:
            await client.auth_test()
        except SlackApiError as err:
            raise SlackConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({err.response.get('error')}); "
                "copy the Bot User OAuth Token (xoxb-…) from the app's Install App page"
            ) from None
    if settings.app_token is not None:
        try:
            await client.apps_connections_open(app_token=settings.app_token.get_secret_value())
        except SlackApiError as err:
            raise SlackConfigError(
                f"Slack refused SLACK_APP_TOKEN ({err.response.get('error')}); generate an "
                "app-level token (xapp-…) with connections:write under Basic Information"
            ) from None


async def start_slack(
    core: CoreHandle,
    settings: SlackSettings,
    *,
    database_url: str | None = None,
    pacer: ChannelPacer | None = None,
) -> RunningSlack:
    """Connect to Slack and register the Outbound; raises SlackConfigError when the
    settings cannot work."""
    problems = settings.problems()
    if problems:
        raise SlackConfigError("Slack is not fully configured: " + "; ".join(problems))
    stores: OAuthStores | None = None
    signing = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    pacer = pacer or ChannelPacer(settings.post_interval_seconds)
    directory = UserDirectory(admin_ids=settings.admin_ids())
    reactions = KeyedLocks()
    if settings.multi_workspace:
        url = settings.database_url or database_url
        if not url:
            raise SlackConfigError(
                "multi-workspace install needs DATABASE_URL (or SLACK_DATABASE_URL)"
            )
        stores = await open_stores(settings, url)
        client = build_client(settings)
        app = build_app(
            core,
            client=client,
            signing_secret=signing,
            oauth_settings=oauth_settings(settings, stores),
            directory=directory,
            in_order=reactions,
        )
        token_for = stores.token_for
    else:
        assert settings.bot_token is not None
        bot_token = settings.bot_token.get_secret_value()
        client = build_client(settings, token=bot_token)
        app = build_app(
            core,
            client=client,
            signing_secret=None if settings.socket_mode else signing,
            directory=directory,
            in_order=reactions,
        )

        async def token_for(team_id: str) -> str | None:
            return None

    token = (
        settings.bot_token.get_secret_value()
        if settings.bot_token and not settings.multi_workspace
        else None
    )
    outbound = SlackOutbound(
        client,
        token_for=token_for,
        pacer=pacer,
        history_window=settings.history_window,
        post_client=build_client(settings, token=token, for_posting=True),
        post_attempts=settings.max_retries + 1,
        retry_pause=settings.retry_backoff_seconds,
    )
    running = RunningSlack(core, app, client, outbound, stores=stores, reactions=reactions)
    try:
        await _check_tokens(settings, client)
        core.router.register(PLATFORM, outbound)
        if settings.socket_mode:
            assert settings.app_token is not None
            running.socket = AsyncSocketModeHandler(app, settings.app_token.get_secret_value())
            await running.socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack connected in Socket Mode")
        if not settings.socket_mode or settings.multi_workspace:
            server = SlackHttpServer(
                app, host=settings.host, port=settings.port, path=settings.path
            )
            running.http = server
            await server.start()
    except BaseException:
        await running.stop()
        raise
    return running
