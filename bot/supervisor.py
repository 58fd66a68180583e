"""How `qotd run` keeps its adapters alive: each one is started, watched through
`finished()`, restarted with backoff while its failures are transient; a fatal one ends
the process with one line naming the adapter (bot.plugins.AdapterFailed).

Apart from the command line so the policy reads, and is tested, on its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.app import Core
from bot.plugins import AdapterFailed, AdapterPlugin, RunningAdapter

log = logging.getLogger("bot.cli_core")  # the logger operators' alerts already match


@dataclass(frozen=True)
class Supervision:
    """How `qotd run` restarts an adapter that stopped by itself: after `first_delay`
    seconds, doubling up to `max_delay`, back to `first_delay` once an adapter has stayed
    up `reset_after` seconds. Tests pass their own `sleep` and `monotonic` (nothing
    waits); `stop_timeout` bounds each adapter's stop so a failing process still exits."""

    first_delay: float = 1.0
    max_delay: float = 60.0
    reset_after: float = 300.0
    stop_timeout: float = 10.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic


class Fatal(Exception):
    """An adapter that a restart cannot fix: `qotd run` ends with status 1."""

    def __init__(self, adapter: str, cause: str) -> None:
        super().__init__(f"{adapter}: {cause}")
        self.adapter = adapter
        self.cause = cause


def describe(exc: BaseException) -> str:
    """An unexpected exception as a cause: its type and first line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _seconds(value: float) -> str:
    return f"{value:g}"


class Supervised:
    """One adapter under `qotd run`: started, watched through `finished()`, restarted
    with backoff while its failures are transient."""

    def __init__(self, plugin: AdapterPlugin, core: Core, policy: Supervision,
                 redact_text: Callable[[str], str]) -> None:
        self.plugin = plugin
        self.name = plugin.name
        self.core = core
        self.policy = policy
        self._redact = redact_text
        self.running: RunningAdapter | None = None
        self.closing = False  # the process is stopping: an end now is no failure

    def connected(self) -> bool:
        """False while (re)starting, and when the adapter's own check raises."""
        running = self.running
        if running is None:
            return False
        try:
            return bool(running.connected())
        except Exception:
            return False

    def _cause(self, exc: BaseException) -> str:
        if isinstance(exc, AdapterFailed):
            return self._redact(exc.cause)
        log.debug("adapter %s: the exception behind the next line", self.name, exc_info=exc)
        return self._redact(describe(exc))

    async def start(self) -> None:
        """The first start: any failure is fatal, so a bad configuration does not loop."""
        try:
            self.running = await self.plugin.start(self.core)
        except Exception as exc:
            raise Fatal(self.name, self._cause(exc)) from exc

    async def _failure(self) -> str | None:
        """Wait for the running adapter to end: None for a normal end, else the cause of a
        transient failure; raises Fatal."""
        assert self.running is not None
        try:
            await self.running.finished()
            return None
        except Exception as exc:
            return self._transient(exc)

    async def watch(self) -> None:
        """Returns when the adapter ends normally; raises Fatal when it cannot go on."""
        policy = self.policy
        delay = policy.first_delay
        up_since = policy.monotonic()
        while True:
            cause = await self._failure()
            if cause is None or self.closing:
                return
            if policy.monotonic() - up_since >= policy.reset_after:
                delay = policy.first_delay
            while cause is not None:
                if self.closing:
                    return
                log.warning("adapter %s stopped: %s; restarting in %s s", self.name, cause,
                            _seconds(delay))
                await self.stop()
                await policy.sleep(delay)
                delay = min(delay * 2, policy.max_delay)
                cause = await self._restart()
            up_since = policy.monotonic()
            log.info("adapter %s restarted", self.name)

    async def _restart(self) -> str | None:
        """None once started again; the cause when this start failed transiently."""
        try:
            self.running = await self.plugin.start(self.core)
        except Exception as exc:
            return self._transient(exc)
        return None

    def _transient(self, exc: Exception) -> str:
        """The cause of a failure a restart may fix; raises Fatal for one it cannot."""
        if isinstance(exc, AdapterFailed) and exc.fatal:
            raise Fatal(self.name, self._cause(exc)) from exc
        return self._cause(exc)

    async def stop(self) -> None:
        running, self.running = self.running, None
        if running is None:
            return
        try:
            await asyncio.wait_for(running.stop(), self.policy.stop_timeout)
        except TimeoutError:
            log.warning("adapter %s did not stop within %s s; going on", self.name,
                        _seconds(self.policy.stop_timeout))
        except Exception as exc:
            log.warning("adapter %s did not stop cleanly: %s", self.name, self._cause(exc))



async def until_done(adapters: list[Supervised], stop: asyncio.Event) -> int:
    stopper = asyncio.ensure_future(stop.wait())
    watchers = {asyncio.ensure_future(a.watch()): a for a in adapters}
    try:
        done, _ = await asyncio.wait([stopper, *watchers], return_when=asyncio.FIRST_COMPLETED)
        # Stop the adapters before cancelling what waits on them: each ends its own work
        # (a client closes, handlers finish) and an end that follows is not restarted.
        for adapter in adapters:
            adapter.closing = True
        for adapter in reversed(adapters):
            await adapter.stop()
    finally:
        for task in [stopper, *watchers]:
            task.cancel()
        await asyncio.gather(stopper, *watchers, return_exceptions=True)
    code = 0
    for task, adapter in watchers.items():
        if task not in done:
            continue
        exc = task.exception()
        if isinstance(exc, Fatal):
            log.critical("adapter %s failed: %s; exiting", exc.adapter, exc.cause)
            code = 1
        elif exc is not None:  # a bug in the supervision itself: still one line, still 1
            log.critical("adapter %s failed: %s; exiting", adapter.name, describe(exc))
            code = 1
        else:
            log.info("adapter %s ended; stopping", adapter.name)
    if code == 0:
        log.info("stopped")
    return code


