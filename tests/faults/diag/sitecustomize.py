"""Diagnostics for a `qotd run` started by the fault harness with QOTD_FAULT_DUMP_TASKS=1
(this directory is then put first on its PYTHONPATH): SIGUSR2 prints every asyncio task's
stack and the wake timer's state to stderr, so a test that times out can show where the
process was waiting. Never loaded otherwise."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from datetime import UTC, datetime
from types import FrameType


def _dump(signum: int, frame: FrameType | None) -> None:
    out = sys.stderr
    out.write(f"==== asyncio tasks at {datetime.now(UTC):%H:%M:%S.%f} ====\n")
    loop = asyncio.events._get_running_loop()
    for task in asyncio.all_tasks(loop) if loop is not None else ():
        out.write(f"-- {task!r}\n")
        task.print_stack(file=out)
    for obj in gc.get_objects():
        if type(obj).__name__ == "WakeTimer":
            out.write(f"WakeTimer running={obj._running} poked={obj._poked} "
                      f"failures={obj._failures} clock={obj._clock.now()}\n")
            for job in obj.scheduler.get_jobs():
                out.write(f"  job {job.id} next={job.next_run_time}\n")
    out.flush()


signal.signal(signal.SIGUSR2, _dump)
