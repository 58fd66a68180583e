"""HTTP mode served inside the bot's own event loop, behind a gate for the raw request.

`AsyncApp.start()` would call `aiohttp.web.run_app`, which takes over the loop; the
scheduler and the Discord client share this process, so the Bolt app is mounted on our
own `AppRunner` instead. OAuth install pages (multi-workspace) are served here too.

Anyone on the internet can reach this port, so nothing of a request is parsed before its
signature is checked: the body is read as bytes (at most `MAX_BODY_BYTES`), the
timestamp and signature headers must have their exact shape, the bytes must be UTF-8
(as Slack's always are), and slack_sdk's `SignatureVerifier` checks the HMAC over that
exact body and refuses timestamps more than five minutes off. Only then is the body
checked the way Bolt will parse it (JSON object, form fields, a `payload` field holding
a JSON object), so a request that reaches Bolt cannot make it raise. A slash command or
a button press is then answered 200 at once and handed to Bolt after (`acknowledge_first`):
nothing its listeners do can change that answer. Refusals are 4xx with one log line, never a 500 and
never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from adapters.slack.app import describe, dispatch
from bot.service.errors import error_code

log = logging.getLogger(__name__)

# Slack's largest requests are interactions that echo a message's blocks back (a message
# is at most ~12,000 characters of text plus its JSON); a megabyte leaves ample room.
MAX_BODY_BYTES = 1 << 20
STOP_GRACE_SECONDS = 5.0
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # int() of a 5,000-digit string raises
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _refuse(status: int, reason: str, request: web.Request) -> web.Response:
    log.info(
        "refused a Slack HTTP request from %s: %s (%d)", request.remote or "?", reason, status
    )
    return web.json_response({"error": reason}, status=status)


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def acknowledge_first(body: Any) -> bool:
    """Whether the 200 goes out before Bolt runs: a slash command or a block_actions
    press, whose listeners only ever `ack()` with nothing and answer through the
    request's response_url. Bolt would hold the HTTP answer until the listener task has
    acked, polling every 10 ms behind its authorize and other middleware on a loop that
    is also doing the core's work: that wait was most of the 200's latency. Everything
    else (events, url_verification, options, views) keeps Bolt's own answer."""
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("command"), str) and not body.get("ssl_check"):
        return True
    return body.get("type") == "block_actions"


def readable(text: str, content_type: str) -> bool:
    """Whether Bolt's `parse_body` will turn this body into a dict without raising: the
    rule the gate applies (on Bolt's own parse of the body, so it is parsed once)."""
    if content_type == JSON or text.startswith("{"):
        return _json_object(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return payload is None or _json_object(payload)
    return True


class SlackHttpServer:
    def __init__(
        self,
        app: AsyncApp,
        *,
        host: str,
        port: int,
        path: str,
        signing_secret: str,
        clock: Clock | None = None,
    ) -> None:
        self._bolt = app
        self._host = host
        self._port = port
        self._path = path
        self._verifier = SignatureVerifier(signing_secret, clock or Clock())
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._acknowledged: set[asyncio.Future[None]] = set()  # dispatches after the 200
        self.port: int | None = None

    @property
    def listening(self) -> bool:
        server = self._site._server if self._site is not None else None
        serving = getattr(server, "is_serving", None)
        return bool(serving()) if callable(serving) else False

    @property
    def address(self) -> str:
        return f"{self._host}:{self.port if self.port is not None else self._port}"

    async def _events(self, request: web.Request) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return _refuse(413, "body too large", request)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "body too large", request)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return _refuse(401, "missing or malformed signature headers", request)
        try:
            # Slack sends UTF-8; the verifier would decode the bytes itself and raise.
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "body is not UTF-8", request)
        if not self._verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
            return _refuse(401, "bad signature or stale timestamp", request)
        # Signed by Slack from here on; still, nothing below may raise on odd content.
        content_type = request.content_type
        if content_type not in (FORM, JSON):
            return _refuse(400, f"unsupported content type {content_type[:60]!r}", request)
        try:  # Bolt parses the body once, here (a button's payload echoes its message)
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
        except ValueError:  # not JSON where JSON belongs
            return _refuse(400, "body is not a Slack payload", request)
        except Exception as exc:  # Bolt reading fields of the wrong type
            return _refuse(400, f"payload Bolt cannot read ({error_code(exc)})", request)
        if not isinstance(bolt_request.body, dict):  # what `readable` says, without a reparse
            return _refuse(400, "body is not a Slack payload", request)
        if acknowledge_first(bolt_request.body):
            task = asyncio.ensure_future(self._dispatch_acknowledged(bolt_request))
            self._acknowledged.add(task)
            task.add_done_callback(self._acknowledged.discard)
            return web.Response(status=200)
        response = await dispatch(self._bolt, bolt_request)
        if response is None:
            return _refuse(400, "payload Bolt cannot read", request)
        return await to_aiohttp_response(response)

    async def _dispatch_acknowledged(self, bolt_request: AsyncBoltRequest) -> None:
        """Bolt's run of a request already answered 200: its own answer goes nowhere, so
        anything but an empty 200 is logged (the listeners answer through response_url)."""
        response = await dispatch(self._bolt, bolt_request)
        if response is None or response.status != 200 or response.body:
            log.info("Bolt answered an acknowledged Slack %s request with %s",
                     describe(bolt_request.body),
                     "an error" if response is None else f"HTTP {response.status}")

    async def _oauth(self, request: web.Request) -> web.StreamResponse:
        flow = self._bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        try:
            bolt_request = await to_bolt_request(request)
            if request.path == flow.install_path:
                response: Any = await flow.handle_installation(bolt_request)
            else:
                response = await flow.handle_callback(bolt_request)
        except Exception as exc:
            return _refuse(400, f"OAuth request failed ({error_code(exc)})", request)
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        web_app = web.Application(client_max_size=MAX_BODY_BYTES)
        web_app.router.add_post(self._path, self._events)
        flow = self._bolt.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self._oauth)
            web_app.router.add_get(flow.redirect_uri_path, self._oauth)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self._host, self._port)
        await self._site.start()
        sockets = getattr(self._site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("Slack HTTP mode listening on %s:%s%s", self._host, self.port, self._path)

    async def stop(self) -> None:
        if self._acknowledged:  # requests already answered 200 reach their listeners
            await asyncio.wait(set(self._acknowledged), timeout=STOP_GRACE_SECONDS)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
