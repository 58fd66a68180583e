"""`qotd run` freezes its start-up heap (bot.heap): the collector's full passes skip it,
and what is allocated later is still collected."""

from __future__ import annotations

import gc
import weakref


def test_freezing_the_heap_moves_what_is_alive_and_later_garbage_is_collected() -> None:
    from bot.heap import freeze_startup_heap

    class Cycle:
        pass

    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > before
        # a reference cycle made after the freeze is still found by a collection
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
