"""Bank sync: upsert by id, edits keep history, removed questions retire, groups count once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.service.bank_sync import sync_bank
from content.dedup import Group, Groups
from content.model import Question, SourceRef
from storage.repositories import SENT
from storage.uow import Database

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _q(prompt: str, answer: str = "Because.", topic: str = "Serving") -> Question:
    return Question.make(prompt=prompt, answer=answer, topic=topic,
                         source=SourceRef(file="bank/t.md", line=1))


async def test_sync_upserts_retires_and_keeps_referenced(migrated_url: str, tmp_path: Path) -> None:
    a, b, c = _q("What is batching?"), _q("What is caching?"), _q("What is sharding?")
    alt = _q("Explain request batching.")
    groups = Groups.of([Group(a.id, (a.id, alt.id)), Group(b.id, (b.id,)), Group(c.id, (c.id,))])
    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            report = await sync_bank(uow, [a, b, c, alt], groups, now=NOW)
        assert (report.upserted, report.retired) == (4, 0)
        async with db.uow() as uow:
            pickable = sorted(r.id for r in await uow.questions.pickable())
            assert pickable == sorted([a.id, b.id, c.id])  # the alternate counts once
            assert [r.id for r in await uow.questions.group(a.id)] == sorted([a.id, alt.id])
            channel = await uow.channels.get_or_create("console", "w", "c", NOW)
            post_id = await uow.posts.claim(channel.id, date(2027, 3, 1), SENT, NOW)
            post = await uow.posts.get(post_id or 0)
            assert post is not None
            post.question_id = c.id
            await uow.commit()

        edited = a.model_copy(update={"answer": "Group requests to use the hardware well."})
        async with db.uow() as uow:
            report = await sync_bank(uow, [edited, b, alt], groups, now=NOW)
        assert (report.upserted, report.retired) == (3, 1)
        async with db.uow() as uow:
            row = await uow.questions.get(a.id)
            assert row is not None and row.data["answer"].startswith("Group requests")
            gone = await uow.questions.get(c.id)
            assert gone is not None and gone.retired  # kept: a post refers to it
            assert c.id not in {r.id for r in await uow.questions.pickable()}
            assert await uow.questions.topics() == ["Serving"]
            post = await uow.posts.get(post_id or 0)
            assert post is not None and post.question_id == c.id

        async with db.uow() as uow:  # coming back un-retires it
            await sync_bank(uow, [edited, b, c, alt], groups, now=NOW)
        async with db.uow() as uow:
            back = await uow.questions.get(c.id)
            assert back is not None and not back.retired
    finally:
        await db.dispose()
