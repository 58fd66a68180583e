"""Every row of every table, to show that a refused input changed nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Core
from storage.models import Base

Snapshot = dict[str, list[tuple[object, ...]]]


async def snapshot(core: Core) -> Snapshot:
    out: Snapshot = {}
    async with core.db.uow() as uow:
        for table in Base.metadata.sorted_tables:
            rows = (await uow.session.execute(select(table))).all()
            out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out
