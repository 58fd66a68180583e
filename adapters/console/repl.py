"""The REPL around a Session: where lines come from, and where what happens is printed.

At a terminal (stdin and stdout both TTYs) lines come from prompt_toolkit, with line
editing and a history kept in a file under the user's state directory (so Up finds
yesterday's lines; in memory when that directory cannot be written). Scheduled posts
and log lines printed while the prompt is open go above it (patch_stdout), so they never
garble what is being typed. From a pipe or a file, lines are read as they are, echoed as
`> line`, and undecodable bytes become U+FFFD instead of ending the input.

A line never ends the REPL (Session.run_line answers every line). What does end it: the
end of input (interact returns), or input/output that fails (TerminalGone, OSError),
which no restart can mend.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from adapters.console.session import Session, UnknownLine

TICK_SECONDS = 1.0  # how often posts made by the scheduler are printed


class TerminalGone(Exception):
    """Reading the console's input failed (not its end): the REPL cannot go on."""


class LineSource(Protocol):
    async def next(self, prompt: str) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        ...


class _Pump:
    """One reader thread per input stream, for the life of the process: a restarted
    REPL (qotd run restarts a console that failed) reads on where the last one stopped,
    instead of a second thread racing the first for lines. A daemon thread, so Ctrl-C
    never waits on a blocked read."""

    _by_stream: ClassVar[weakref.WeakKeyDictionary[Any, _Pump]] = weakref.WeakKeyDictionary()
    _guard: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, stream: Any) -> _Pump:
        with cls._guard:
            pump = cls._by_stream.get(stream)
            if pump is None:
                pump = cls._by_stream[stream] = cls(stream)
            return pump

    def __init__(self, stream: Any) -> None:
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._read, args=(stream,), name="console-stdin",
                         daemon=True).start()

    def _read(self, stream: Any) -> None:
        try:
            binary = getattr(stream, "buffer", None)
            if binary is not None:
                encoding = getattr(stream, "encoding", None) or "utf-8"
                for raw in binary:
                    self._put(raw.decode(encoding, errors="replace"))
            else:
                for line in stream:
                    self._put(line)
        except Exception as exc:  # a closed or broken stream: reported to the reader
            self._error = exc
        finally:
            self._put(None)

    def _put(self, item: str | None) -> None:
        self._lines.put(item)
        with self._lock:
            wake = self._wake
        if wake is not None:
            loop, event = wake
            with suppress(RuntimeError):  # that loop has closed; its reader is gone
                loop.call_soon_threadsafe(event.set)

    async def next(self) -> str | None:
        while True:
            event = asyncio.Event()
            with self._lock:
                self._wake = (asyncio.get_running_loop(), event)
            try:
                item = self._lines.get_nowait()
            except queue.Empty:
                await event.wait()
                continue
            if item is None:
                self._lines.put(None)  # the end stays the end for a later reader
                if self._error is not None:
                    raise TerminalGone(_describe(self._error)) from self._error
            return item


class PipedLines:
    """Lines from a pipe or a file, as they are."""

    prompting = False

    def __init__(self, stream: Any) -> None:
        self._pump = _Pump.of(stream)

    async def next(self, prompt: str) -> str | None:
        return await self._pump.next()


class PromptLines:
    """Lines from a terminal through prompt_toolkit. Ctrl-D (on an empty line) and
    Ctrl-C end the input, as they would end any other terminal program."""

    prompting = True

    def __init__(self, history: History | None = None, **io: Any) -> None:
        self._session: PromptSession[str] = PromptSession(
            history=history if history is not None else default_history(), **io
        )

    async def next(self, prompt: str) -> str | None:
        try:
            return await self._session.prompt_async(prompt)
        except (EOFError, KeyboardInterrupt):
            return None


def history_path() -> Path:
    """`$XDG_STATE_HOME/qotd/console_history`, by default under ~/.local/state."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "qotd" / "console_history"


def default_history() -> History:
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def lines_for(stdin: Any, stdout: Any) -> PipedLines | PromptLines:
    if is_tty(stdin) and is_tty(stdout):
        return PromptLines()
    return PipedLines(stdin)


@contextmanager
def _above_prompt(enabled: bool, raw: bool = False) -> Iterator[None]:
    """While the prompt is open, print() and the log go above it. patch_stdout swaps
    sys.stdout/sys.stderr; log handlers hold the streams they were given at start-up,
    so those are pointed at the proxy for the time being. `raw`: escape sequences pass
    (the session draws rich's colours, from text cleaned of control characters first);
    otherwise the proxy shows ESC as `?`."""
    if not enabled:
        yield
        return
    originals = {id(sys.stdout), id(sys.stderr), id(sys.__stdout__), id(sys.__stderr__)}
    with patch_stdout(raw=raw):
        moved: list[tuple[logging.StreamHandler[Any], IO[str]]] = []
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in originals:
                old = handler.setStream(sys.stdout)
                if old is not None:
                    moved.append((handler, old))
        try:
            yield
        finally:
            for handler, stream in moved:
                handler.setStream(stream)


async def interact(session: Session, *, stdin: Any = None, out: Any = None,
                   lines: LineSource | None = None) -> None:
    """The REPL: print scheduled posts as they happen, run each line until end of input.
    Raises TerminalGone or OSError when input or output fails."""
    stdin = stdin if stdin is not None else sys.stdin
    source = lines if lines is not None else lines_for(stdin, out or sys.stdout)
    prompting = bool(getattr(source, "prompting", False))
    with _above_prompt(prompting and out is None, raw=session.terminal):
        target = out if out is not None else sys.stdout  # the proxy, when prompting

        def show(blocks: list[str]) -> None:
            try:
                for block in blocks:  # a lone surrogate typed back is no reason to die
                    print(block.encode("utf-8", "replace").decode("utf-8"), file=target,
                          flush=True)
            except ValueError as exc:  # print on a closed stream
                if getattr(target, "closed", False):
                    raise TerminalGone("the output is closed") from exc
                raise

        async def ticker() -> None:
            while True:
                await asyncio.sleep(TICK_SECONDS)
                show(session.flush())

        background = asyncio.ensure_future(ticker())
        reading: asyncio.Future[str | None] | None = None
        try:
            while True:
                reading = asyncio.ensure_future(source.next(f"{session.user}> "))
                await asyncio.wait({reading, background}, return_when=asyncio.FIRST_COMPLETED)
                if background.done():  # printing failed: the output is gone
                    background.result()
                line = reading.result()
                if line is None:
                    break
                if not prompting and line.strip():
                    show([f"> {line.rstrip()}"])
                try:
                    blocks = await session.run_line(line)
                except UnknownLine as exc:
                    blocks = [f'unknown command "{exc}"; try help']
                show(blocks)
        finally:  # also when cancelled (qotd run stopping): no prompt is left open
            for task in (background, reading):
                if task is not None:
                    task.cancel()
            await asyncio.gather(*(t for t in (background, reading) if t is not None),
                                 return_exceptions=True)
        show(session.flush())


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
