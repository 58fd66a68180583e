"""Query plans for the plan tests: run a piece of storage code, catch the statement it
sends, and EXPLAIN it on the backend at hand (SQLite's EXPLAIN QUERY PLAN; PostgreSQL's
EXPLAIN after VACUUM ANALYZE)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event

from storage.uow import Database, UnitOfWork


async def plan_of(db: Database, run: Callable[[UnitOfWork], Awaitable[Any]], *markers: str,
                  force: bool = False) -> str:
    """The plan of the last statement `run` sends that contains every marker. `force`
    prices sequential scans out on PostgreSQL: the statement must be able to use an
    index, where on a test's little data a scan would be cheaper."""
    sent: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with db.uow() as uow:
            await run(uow)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", grab)
    statement, parameters = [s for s in sent if all(m in s[0] for m in markers)][-1]
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(r[-1]) for r in rows)
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql("VACUUM ANALYZE")
        await conn.exec_driver_sql(f"SET enable_seqscan = {'off' if force else 'on'}")
        try:
            rows = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        finally:
            await conn.exec_driver_sql("RESET enable_seqscan")
        return "\n".join(str(r[0]) for r in rows)


def no_full_scan(plan: str, *tables: str) -> None:
    """No table of `tables` is read whole (an index scan or search is fine)."""
    lines = plan.splitlines()
    for table in tables:
        assert not [line for line in lines if f"SCAN {table}" in line and "INDEX" not in line
                    ], plan
        assert f"Seq Scan on {table}" not in plan, plan
