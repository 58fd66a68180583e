"""Starting, watching and stopping the Slack side of a running bot.

One place decides the connection mode (Socket Mode when an app token is set, else HTTP),
single vs multi-workspace, and registers the Outbound on the core's router; the plugin
and the end-to-end tests both go through `start_slack`, so tests run the production path.

`RunningSlack` is what `qotd run` supervises (`bot.plugins.RunningAdapter`):
`finished()` raises AdapterFailed — fatal when a token is refused for good, transient
when a connection stays down past `SLACK_RECONNECT_GRACE_SECONDS` — and `connected()` is
the health check (Socket Mode session up, HTTP server listening).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import build_app
from adapters.slack.client import build_client, build_lookup_client
from adapters.slack.http_server import SlackHttpServer
from adapters.slack.names import NameFiller
from adapters.slack.oauth import OAuthStores, oauth_settings, open_stores
from adapters.slack.ordering import KeyedLocks
from adapters.slack.outbound import SlackOutbound, TokenFor
from adapters.slack.pacing import ChannelPacer
from adapters.slack.rotation import LockedTokenRotator, TeamTokens
from adapters.slack.settings import SlackSettings
from adapters.slack.users import UserDirectory
from adapters.slack.watch import (
    ADAPTER,
    APP_TOKEN_FIX,
    BOT_TOKEN_FIX,
    FATAL_TOKEN_ERRORS,
    Watch,
    Watchdog,
    WatchedSocketModeHandler,
    socket_connected,
)
from bot.boundary import ChannelRef
from bot.plugins import AdapterFailed, CoreHandle
from bot.service.errors import error_code

log = logging.getLogger(__name__)
PLATFORM = "slack"
STOP_GRACE_SECONDS = 5.0


@runtime_checkable
class NamesCore(CoreHandle, Protocol):
    """A core that can be told a name learned outside an input (`Core.learn_name`):
    Slack looks up, in the background, the names of people who only react. A core
    without it (a test double) gets no lookups; its reactors stay shown by id."""

    async def learn_name(self, ref: ChannelRef, user_id: str, display_name: str) -> None: ...


class SlackConfigError(AdapterFailed):
    """Settings that cannot work (fatal: a restart would fail the same way); the
    message says which variables to set, never their values."""

    def __init__(self, cause: str) -> None:
        super().__init__(ADAPTER, cause, fatal=True)


@dataclass
class RunningSlack:
    core: CoreHandle
    app: AsyncApp
    client: AsyncWebClient
    outbound: SlackOutbound
    socket: WatchedSocketModeHandler | None = None
    http: SlackHttpServer | None = None
    stores: OAuthStores | None = None
    reactions: KeyedLocks | None = None
    names: NameFiller | None = None
    watch: Watch = field(default_factory=Watch)
    watchdog: asyncio.Task[None] | None = None
    closed: bool = False

    @property
    def http_port(self) -> int | None:
        return self.http.port if self.http is not None else None

    async def finished(self) -> None:
        """Never returns: raises AdapterFailed when the Slack side died by itself."""
        await self.watch.wait()

    def connected(self) -> bool:
        if self.closed or self.watch.failure is not None:
            return False
        if self.socket is not None and not socket_connected(self.socket.client):
            return False
        return self.http is None or self.http.listening

    async def stop(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.watchdog is not None:
            self.watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watchdog
        if self.reactions is not None:
            # Votes already being recorded finish; a stuck one does not hold up shutdown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reactions.idle(), STOP_GRACE_SECONDS)
        if self.names is not None:
            await self.names.stop()  # lookups not yet made are dropped
        self.core.router.unregister(PLATFORM)
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.http is not None:
            await self.http.stop()
        if self.stores is not None:
            await self.stores.close()


def _refusal(variable: str, err: SlackApiError, fix: str) -> AdapterFailed:
    """Slack answered a token check with an error: fatal for a refused token, transient
    for Slack's own trouble (`fatal_error`, `ratelimited`, `service_unavailable`)."""
    code = str(err.response.get("error"))
    if code in FATAL_TOKEN_ERRORS:
        return SlackConfigError(f"Slack refused {variable} ({code}); {fix}")
    return AdapterFailed(
        ADAPTER, f"Slack could not check {variable} ({code}); trying again", fatal=False
    )


async def _check_tokens(settings: SlackSettings, client: AsyncWebClient) -> None:
    """Ask Slack whether the tokens work before going live.

    Without this a wrong bot token shows up only when the first post fails, and a wrong
    app token makes the Socket Mode client retry forever. Only Slack's error code is
    reported, never the token.
    """
    try:
        if not settings.multi_workspace:
            try:
                await client.auth_test()
            except SlackApiError as err:
                raise _refusal("SLACK_BOT_TOKEN", err, BOT_TOKEN_FIX) from None
        if settings.app_token is not None:
            try:
                await client.apps_connections_open(app_token=settings.app_token.get_secret_value())
            except SlackApiError as err:
                raise _refusal("SLACK_APP_TOKEN", err, APP_TOKEN_FIX) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdapterFailed(
            ADAPTER,
            f"could not reach Slack at {settings.normalized_api_url} "
            f"({error_code(exc)}); trying again",
            fatal=False,
        ) from None


async def _connect_socket(running: RunningSlack, grace: float) -> None:
    """Open the Socket Mode session; give up (transient) after `grace` seconds, or at
    once when the app token is refused (the client itself would retry forever)."""
    assert running.socket is not None
    connect = asyncio.ensure_future(running.socket.connect_async())  # type: ignore[no-untyped-call]
    failed = asyncio.ensure_future(running.watch.wait())
    try:
        await asyncio.wait({connect, failed}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    finally:
        failed.cancel()
    if running.watch.failure is not None:
        connect.cancel()
        raise running.watch.failure
    if not connect.done():
        connect.cancel()
        raise AdapterFailed(
            ADAPTER,
            f"could not open a Socket Mode connection within {grace:g} s; trying again",
            fatal=False,
        )
    connect.result()


def _core_admins(core: CoreHandle) -> frozenset[str]:
    """The user ids the core's own admin setting lists (QOTD_ADMINS): admins whatever
    Slack says, so their commands need no users.info. Read off the core when it has its
    settings (the real Core does; CoreHandle does not promise them)."""
    admins = getattr(getattr(core, "settings", None), "admins", "")
    if not isinstance(admins, str):
        return frozenset()
    return frozenset(part.strip() for part in admins.split(",") if part.strip())


def _share_rotator(app: AsyncApp, rotator: LockedTokenRotator) -> None:
    """Let Bolt renew tokens for incoming requests through our rotator too, so both
    paths share its per-workspace lock (Bolt keeps its authorizer private)."""
    authorize = getattr(app, "_async_authorize", None)
    if isinstance(authorize, AsyncInstallationStoreAuthorize):
        authorize.token_rotator = rotator


async def start_slack(
    core: CoreHandle,
    settings: SlackSettings,
    *,
    database_url: str | None = None,
    pacer: ChannelPacer | None = None,
    now: Callable[[], float] = time.time,
    directory: UserDirectory | None = None,
) -> RunningSlack:
    """Connect to Slack and register the Outbound; raises SlackConfigError (fatal
    AdapterFailed) when the settings cannot work, AdapterFailed(fatal=False) when Slack
    cannot be reached. `now` is the wall clock that decides when a rotating token is
    renewed (epoch seconds; tests move it). `directory`: the admin lookups' cache and
    pacing (tests give one on their own clock); by default one on the settings."""
    problems = settings.problems()
    if problems:
        raise SlackConfigError("Slack is not fully configured: " + "; ".join(problems))
    stores: OAuthStores | None = None
    signing = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    pacer = pacer or ChannelPacer(settings.post_interval_seconds)
    directory = directory or UserDirectory(
        admin_ids=settings.admin_ids() | _core_admins(core),
        lookup_client=build_lookup_client(
            settings,
            token=None if settings.multi_workspace or settings.bot_token is None
            else settings.bot_token.get_secret_value(),
        ),
    )
    reactions = KeyedLocks()
    names = NameFiller(directory, core.learn_name) if isinstance(core, NamesCore) else None
    watch = Watch()
    token_for: TokenFor
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
            names=names,
        )
        assert settings.client_id and settings.client_secret
        rotator = LockedTokenRotator(
            stores,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            client=client,
            now=now,
        )
        _share_rotator(app, rotator)
        token_for = TeamTokens(stores, rotator).token_for
        token = None
    else:
        assert settings.bot_token is not None
        token = settings.bot_token.get_secret_value()
        client = build_client(settings, token=token, on_refused=watch.bot_token_refused)
        app = build_app(
            core,
            client=client,
            signing_secret=None if settings.socket_mode else signing,
            directory=directory,
            in_order=reactions,
            names=names,
        )

        async def token_for(team_id: str) -> str | None:
            return None

    outbound = SlackOutbound(
        client,
        token_for=token_for,
        pacer=pacer,
        history_window=settings.history_window,
        post_client=build_client(
            settings,
            token=token,
            for_posting=True,
            on_refused=None if settings.multi_workspace else watch.bot_token_refused,
        ),
        post_attempts=settings.max_retries + 1,
        retry_pause=settings.retry_backoff_seconds,
    )
    running = RunningSlack(
        core, app, client, outbound, stores=stores, reactions=reactions, names=names,
        watch=watch,
    )
    try:
        await _check_tokens(settings, client)
        core.router.register(PLATFORM, outbound)
        if settings.socket_mode:
            assert settings.app_token is not None
            running.socket = WatchedSocketModeHandler(
                app, settings.app_token.get_secret_value(), watch=watch
            )
            await _connect_socket(running, settings.reconnect_grace_seconds)
            log.info("Slack connected in Socket Mode")
        if not settings.socket_mode or settings.multi_workspace:
            assert signing is not None  # settings.problems() insists on it here
            server = SlackHttpServer(
                app,
                host=settings.host,
                port=settings.port,
                path=settings.path,
                signing_secret=signing,
            )
            running.http = server
            await server.start()
        socket = running.socket
        http = running.http
        running.watchdog = asyncio.create_task(
            Watchdog(
                watch,
                socket=(lambda: socket_connected(socket.client)) if socket else None,
                http=(lambda: http.listening) if http else None,
                http_address=http.address if http else "",
                grace=settings.reconnect_grace_seconds,
            ).run(),
            name="slack-watchdog",
        )
    except BaseException:
        await running.stop()
        raise
    return running
