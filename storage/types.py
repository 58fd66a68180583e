"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every dialect.

    SQLite has no time zone type and hands back naive values; PostgreSQL's timestamptz
    comes back in the session zone. Normalising here means no caller ever compares a
    naive datetime with an aware one, which Python refuses at run time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = to_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return stored_utc(value)


def to_utc(value: datetime) -> datetime:
    """What is stored for an aware time: the same instant in UTC. A naive one is refused
    (its zone is a guess)."""
    if value.tzinfo is None:
        raise ValueError("refusing to store a naive datetime: pass an aware UTC value")
    return value.astimezone(UTC)


def stored_utc(value: datetime | str) -> datetime:
    """A stored time read back, aware UTC: SQLite gives naive UTC (or, where a value
    skips the column type, as in an aggregate or the raw driver, its text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is UTC:  # read once already (boards convert thousands of rows)
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
