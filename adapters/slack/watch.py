"""Is the Slack side alive? What `RunningSlack.finished()` and `connected()` are made of.

slack_sdk's Socket Mode client reconnects by itself and never gives up: with a revoked
app token it asks apps.connections.open again every ping interval, forever, while the
process looks healthy. So:

- `WatchedSocketModeClient` sees every apps.connections.open answer. A code no retry can
  fix (`FATAL_TOKEN_ERRORS`) ends the adapter as fatal at once, naming what to do.
- `WatchedWebClient` does the same for the single-workspace bot token on any Web API
  call (an uninstalled app answers `token_revoked` / `account_inactive`).
- `Watchdog` ends the adapter as transient when Socket Mode stays disconnected longer
  than the grace period, or the HTTP server stops listening; `qotd run` then restarts it
  with backoff.

Failures are `bot.plugins.AdapterFailed`, whose cause is for an operator: what happened
and what to do, with Slack's error code and never a token.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import dispatch
from bot.plugins import AdapterFailed
from bot.service.errors import error_code

log = logging.getLogger(__name__)
ADAPTER = "slack"

# Error codes that mean the token itself is unusable: restarting cannot help.
FATAL_TOKEN_ERRORS: dict[str, str] = {
    "invalid_auth": "the token is not valid",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked (the app was uninstalled or the token reset)",
    "account_inactive": "the app or its workspace was deactivated",
    "not_allowed_token_type": "it is the wrong kind of token",
    "token_expired": "it is a rotating token and expired",
    "missing_scope": "the token lacks a scope it needs",
}
APP_TOKEN_FIX = (
    "generate an app-level token (xapp-…) with connections:write under Basic Information "
    "→ App-Level Tokens and set SLACK_APP_TOKEN to it"
)
BOT_TOKEN_FIX = (
    "reinstall the app (Install App page) and set SLACK_BOT_TOKEN to its Bot User OAuth "
    "Token (xoxb-…)"
)


def refused(variable: str, code: str, fix: str) -> AdapterFailed:
    meaning = FATAL_TOKEN_ERRORS.get(code, "Slack refused it")
    return AdapterFailed(
        ADAPTER, f"Slack refused {variable} ({code}: {meaning}); {fix}", fatal=True
    )


class Watch:
    """The first failure of a running adapter; `wait()` raises it."""

    def __init__(self) -> None:
        self._failed = asyncio.Event()
        self.failure: AdapterFailed | None = None
        self.last_error: str | None = None  # the latest apps.connections.open problem

    def fail(self, failure: AdapterFailed) -> None:
        if self.failure is None:
            self.failure = failure
            self._failed.set()

    async def wait(self) -> None:
        await self._failed.wait()
        assert self.failure is not None
        raise self.failure

    def connections_open(self, code: str | None) -> None:
        """An apps.connections.open answer: None for success, else Slack's code."""
        self.last_error = code
        if code in FATAL_TOKEN_ERRORS:
            self.fail(
                refused("SLACK_APP_TOKEN while reconnecting Socket Mode", code, APP_TOKEN_FIX)
            )

    def bot_token_refused(self, code: str) -> None:
        self.fail(refused("SLACK_BOT_TOKEN", code, BOT_TOKEN_FIX))


class WatchedWebClient(AsyncWebClient):
    """A Web API client that reports a fatal refusal of its own token (single workspace:
    one bot token for everything, so its refusal is the adapter's end)."""

    on_refused: Callable[[str], None] | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> Any:
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as err:
            code = err.response.get("error")
            other_token = any(
                isinstance(kwargs.get(part), dict) and "token" in kwargs[part]
                for part in ("json", "data", "params")
            )
            if self.on_refused and not other_token and code in FATAL_TOKEN_ERRORS:
                self.on_refused(str(code))
            raise


class _OneLine(logging.Filter):
    """The socket client logs every failed reconnect with a traceback, and the error text
    can hold the websocket URL with its connection ticket: one line, ticket hidden."""

    _TICKET = re.compile(r"ticket=[^&\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.args:
            record.msg = self._TICKET.sub("ticket=…", record.getMessage())
            record.args = None
            record.exc_info = None
            record.exc_text = None
        elif isinstance(record.msg, str):
            record.msg = self._TICKET.sub("ticket=…", record.msg)
        return True


def socket_logger() -> logging.Logger:
    logger = logging.getLogger("adapters.slack.socket_mode")
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())
    return logger


class WatchedSocketModeClient(SocketModeClient):
    def __init__(self, *args: Any, watch: Watch, **kwargs: Any) -> None:
        self._watch = watch
        super().__init__(*args, **kwargs)

    async def issue_new_wss_url(self) -> str:
        try:
            url = str(await super().issue_new_wss_url())
        except SlackApiError as err:
            self._watch.connections_open(str(err.response.get("error")))
            raise
        except Exception as exc:
            self._watch.connections_open(error_code(exc))
            raise
        self._watch.connections_open(None)
        return url


def socket_connected(client: SocketModeClient) -> bool:
    """The client's own `is_connected()` (an async method) without awaiting."""
    session = client.current_session
    if client.closed or client.stale or session is None or session.closed:
        return False
    last = client.last_ping_pong_time
    return last is None or time.time() - last < client.ping_interval * 4


async def dispatch_envelope(app: AsyncApp, req: SocketModeRequest) -> BoltResponse:
    """Bolt's run_async_bolt_app, except that a payload Bolt cannot even read (it raises
    while building the request) is acknowledged and logged in one line."""
    try:
        bolt_req = AsyncBoltRequest(
            mode="socket_mode", body=req.payload, headers=build_headers(req)
        )
    except Exception as exc:
        log.warning(
            "dropped a Socket Mode %s envelope Bolt cannot read (%s)",
            str(req.type)[:40],
            error_code(exc),
        )
        return BoltResponse(status=200, body="")
    return await dispatch(app, bolt_req) or BoltResponse(status=200, body="")


class WatchedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler on a WatchedSocketModeClient with `dispatch_envelope`."""

    def __init__(self, app: AsyncApp, app_token: str, *, watch: Watch, ping_interval: float = 10):
        # Not super().__init__(): it would build (and start) a plain SocketModeClient.
        self.app = app
        self.app_token = app_token
        self.client = WatchedSocketModeClient(
            app_token=app_token,
            logger=socket_logger(),
            web_client=app.client,
            ping_interval=ping_interval,
            watch=watch,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        await send_async_response(client, req, await dispatch_envelope(self.app, req), start)


class Watchdog:
    """Ends the adapter (transient) when a connection stays down past the grace period."""

    def __init__(
        self,
        watch: Watch,
        *,
        socket: Callable[[], bool] | None,
        http: Callable[[], bool] | None,
        http_address: str = "",
        grace: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._watch = watch
        self._socket = socket
        self._http = http
        self._address = http_address
        self._grace = grace
        self._monotonic = monotonic
        self._sleep = sleep

    async def run(self) -> None:
        down_since: float | None = None
        every = max(min(5.0, self._grace / 4), 0.01)
        while self._watch.failure is None:
            await self._sleep(every)
            if self._http is not None and not self._http():
                self._watch.fail(
                    AdapterFailed(
                        ADAPTER,
                        f"the Slack HTTP server on {self._address} stopped listening; "
                        "restarting it",
                        fatal=False,
                    )
                )
                return
            if self._socket is None:
                continue
            if self._socket():
                down_since = None
                continue
            now = self._monotonic()
            down_since = now if down_since is None else down_since
            if now - down_since >= self._grace:
                last = self._watch.last_error or "none"
                self._watch.fail(
                    AdapterFailed(
                        ADAPTER,
                        f"the Socket Mode connection was lost and not re-established "
                        f"within {self._grace:g} s (last apps.connections.open error: {last}); "
                        "check the network and https://slack-status.com",
                        fatal=False,
                    )
                )
                return
