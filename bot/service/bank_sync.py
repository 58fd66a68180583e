"""Copy the bank (files on disk, the source of truth) into the questions table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from content.model import Question
from storage.uow import UnitOfWork

_syncs_committed = 0  # bank syncs this process has committed (see syncs_committed)


def syncs_committed() -> int:
    """How many bank syncs this process has committed. A `BankCache` remembers the count
    it was filled at and refills when it moved, so this process's own sync is seen at
    once (even at the same clock reading, as in tests); other processes' syncs are
    caught by the cache's `synced_at` check instead (bot.service.bank_cache)."""
    return _syncs_committed


class GroupsLike(Protocol):
    def canonical_of(self, qid: str) -> str: ...


@dataclass(frozen=True)
class SyncReport:
    upserted: int
    retired: int


async def sync_bank(
    uow: UnitOfWork,
    bank: Iterable[Question],
    groups: GroupsLike,
    *,
    now: datetime | None = None,
) -> SyncReport:
    """Upsert every question by id and retire (never delete) the ones that left the bank,
    so an edited question keeps its posts, attempts and history. Commits."""
    when = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for question in bank:
        try:
            canonical = groups.canonical_of(question.id)
        except KeyError:
            canonical = question.id
        rows.append(
            {
                "id": question.id,
                "status": question.status,
                "topic": question.topic,
                "difficulty": question.difficulty,
                "kind": question.kind,
                "group_key": canonical,
                "retired": False,
                "data": question.model_dump(mode="json"),
                "synced_at": when,
            }
        )
    await uow.questions.upsert(rows)
    retired = await uow.questions.retire_except(r["id"] for r in rows)
    await uow.commit()
    global _syncs_committed
    _syncs_committed += 1  # after the commit: a refill before it would see the old bank
    return SyncReport(upserted=len(rows), retired=retired)


def question_of(data: dict[str, Any]) -> Question:
    return Question.model_validate(data)


async def alternates_of(uow: UnitOfWork, question_id: str, group_key: str
                        ) -> list[Question]:
    """The other questions of a near-duplicate group: shown as "see also", never posted."""
    return [question_of(alt.data) for alt in await uow.questions.group(group_key)
            if alt.id != question_id]
