"""Parsed questions, kept per bank version, so a reaction does not re-validate JSON.

A question's stored row carries `synced_at`, which every bank sync (by any replica)
moves, so an entry is looked up under (id, synced_at): after a sync the old parse is
simply never asked for again. Bounded (LRU), since only recently posted questions are
hot, and locked, since the SQLite writer thread reads it too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.service.bank_sync import question_of
from content.model import Question

CAPACITY = 512


class ParsedQuestions:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, tuple[datetime | None, Question]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, question_id: str, version: datetime | None,
            data: Callable[[], dict[str, Any]]) -> Question:
        """The parsed question; `data()` is read (and parsed) only on a miss."""
        with self._lock:
            hit = self._items.get(question_id)
            if hit is not None and hit[0] == version:
                self._items.move_to_end(question_id)
                return hit[1]
        question = question_of(data())
        with self._lock:
            self._items[question_id] = (version, question)
            self._items.move_to_end(question_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return question

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
