"""Named crash points for the fault-injection suite.

`QOTD_FAULT_KILL_AT=after-claim` (or `after-claim@2` for the second time the point is
reached) makes the process SIGKILL itself there: no cleanup, no flush, exactly what a
power cut or an OOM kill does. Unset in production, where `checkpoint` is one dict
lookup. The points are listed in POINTS so a typo in a test fails loudly.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

log = logging.getLogger(__name__)

POINTS = frozenset({
    "before-claim",      # a due slot was found; nothing written yet
    "after-claim",       # the claim (with its question) is committed; nothing sent
    "after-send",        # the platform answered with the message id; not marked sent
    "after-mark-sent",   # marked sent; reactions of the post may still be on their way
    "before-reveal",     # the reveal lease is taken; nothing sent
    "after-reveal-send", # the platform answered the reveal; not recorded
})

_counts: dict[str, int] = {}


def _wanted() -> tuple[str, int] | None:
    spec = os.environ.get("QOTD_FAULT_KILL_AT", "")
    if not spec:
        return None
    name, _, nth = spec.partition("@")
    if name not in POINTS:
        raise ValueError(f"QOTD_FAULT_KILL_AT: unknown point {name!r}; points: "
                         f"{', '.join(sorted(POINTS))}")
    return name, int(nth or "1")


def checkpoint(name: str) -> None:
    assert name in POINTS, name
    wanted = _wanted()
    if wanted is None or wanted[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == wanted[1]:
        sys.stderr.write(f"qotd: fault injection: SIGKILL at {name}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
