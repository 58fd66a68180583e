"""HTTP mode served inside the bot's own event loop.

`AsyncApp.start()` would call `aiohttp.web.run_app`, which takes over the loop; the
scheduler and the Discord client share this process, so the Bolt app is mounted on our
own `AppRunner` instead. OAuth install pages (multi-workspace) are served here too.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


class SlackHttpServer:
    def __init__(self, app: AsyncApp, *, host: str, port: int, path: str) -> None:
        self._bolt = app
        self._host = host
        self._port = port
        self._path = path
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def _events(self, request: web.Request) -> web.StreamResponse:
        # Bolt's verifier calls int() on the timestamp header and would answer a malformed
        # one with a 500; it is an unauthenticated request, so it gets the same 401.
        if not request.headers.get("X-Slack-Request-Timestamp", "").strip().isdigit():
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self._bolt.async_dispatch(bolt_request))

    async def _oauth(self, request: web.Request) -> web.StreamResponse:
        flow = self._bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(self._path, self._events)
        flow = self._bolt.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self._oauth)
            web_app.router.add_get(flow.redirect_uri_path, self._oauth)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("Slack HTTP mode listening on %s:%s%s", self._host, self.port, self._path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
