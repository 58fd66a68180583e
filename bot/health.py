"""`GET /health` while `qotd run` runs, and the probe `qotd status --health` sends to it.

A supervisor or load balancer cannot see inside the process: a Discord client that lost
its gateway leaves the process up. So the answer is per adapter (its `connected()`), and
the status code alone tells a probe what it needs: 200 when every adapter can receive
events and send, 503 otherwise (also while the process starts or restarts an adapter).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import ClientError, ClientSession, ClientTimeout, web

PATH = "/health"
# A probe of the wildcard address asks the loopback one: it is where the server answers.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}

Report = Callable[[], dict[str, bool]]


def health_body(adapters: dict[str, bool]) -> tuple[int, dict[str, object]]:
    """The status code and JSON body for one adapters-connected snapshot."""
    healthy = bool(adapters) and all(adapters.values())
    body: dict[str, object] = {"status": "ok" if healthy else "degraded",
                               "adapters": dict(adapters)}
    return (200 if healthy else 503), body


class HealthServer:
    """An aiohttp site on the loop `qotd run` already runs (no thread, no second loop)."""

    def __init__(self, host: str, port: int, report: Report) -> None:
        self.host = host
        self.port = port
        self._report = report
        self._runner: web.AppRunner | None = None

    async def _health(self, _request: web.Request) -> web.Response:
        try:
            snapshot = self._report()
        except Exception:  # a health check must answer, not raise
            snapshot = {}
        status, body = health_body(snapshot)
        return web.json_response(body, status=status)

    async def start(self) -> None:
        """Listen; raises OSError when the port is taken (a start-up failure)."""
        app = web.Application()
        app.router.add_get(PATH, self._health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return health_url(self.host, self.port)


def health_url(host: str, port: int) -> str:
    host = _LOOPBACK.get(host, host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{PATH}"


@dataclass(frozen=True)
class Probe:
    healthy: bool
    line: str  # what `qotd status --health` prints


def _describe(adapters: object) -> str:
    if not isinstance(adapters, dict) or not adapters:
        return "no adapter running"
    return ", ".join(f"{name} {'connected' if up is True else 'NOT connected'}"
                     for name, up in sorted(adapters.items()))


async def probe(host: str, port: int, within: float = 5.0) -> Probe:
    """Ask a running `qotd run`; never raises: not answering is an answer too."""
    url = health_url(host, port)
    try:
        async with ClientSession(timeout=ClientTimeout(total=within)) as http, \
                http.get(url) as response:
            text = await response.text()
            status = response.status
    except (ClientError, OSError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        return Probe(False, f"not answering: {url}: {reason} (is `qotd run` running with "
                            f"QOTD_HEALTH_PORT={port}?)")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict) or status not in (200, 503):
        return Probe(False, f"not answering: {url} answered HTTP {status} without a health "
                            "report (is something else on that port?)")
    adapters = _describe(body.get("adapters"))
    if status == 200 and body.get("status") == "ok":
        return Probe(True, f"healthy: {adapters} ({url})")
    return Probe(False, f"degraded: {adapters} ({url})")
