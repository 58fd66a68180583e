"""Unit of work: one AsyncSession per use, repositories on it, commit explicitly.

Leaving the block without `commit()` rolls back, so a handler that refuses bad input
after touching the session changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.answer_writes import ReactionWriter
from storage.cards import CardRepo
from storage.engine import (
    advisory_xact_lock,
    make_engine,
    make_sessions,
    normalize_url,
    split_schema,
    sqlite_in_memory,
)
from storage.notify import announce
from storage.queries import Queries
from storage.repositories import AnswerRepo, ChannelRepo, PostRepo, QuestionRepo, UserRepo


class UnitOfWork:
    channels: ChannelRepo
    questions: QuestionRepo
    posts: PostRepo
    users: UserRepo
    answers: AnswerRepo
    queries: Queries
    cards: CardRepo

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str,
                 url: str = "") -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._url = url
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        session = self._sessions()
        self._session = session
        self.channels = ChannelRepo(session, self._dialect)
        self.questions = QuestionRepo(session, self._dialect)
        self.posts = PostRepo(session, self._dialect)
        self.users = UserRepo(session, self._dialect)
        self.answers = AnswerRepo(session, self._dialect)
        self.queries = Queries(session, self._dialect)
        self.cards = CardRepo(session, self._dialect)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted and detaches the objects with their
        # loaded values intact (rollback() would expire them, making them unreadable)
        session = self.session
        self._session = None
        await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def announce_wake(self, when: datetime) -> None:
        """Other replicas wake by `when` once this commits (PostgreSQL; no-op on SQLite)."""
        await announce(self.session, self._url, when)

    async def lock_for(self, purpose: str) -> None:
        """Serialise this transaction with every other doing the same `purpose`, across
        processes: a PostgreSQL advisory lock until commit; SQLite has one writer."""
        if self._dialect == "postgresql":
            await advisory_xact_lock(self.session, self._url, purpose)


class Database:
    """The engine and session factory; `uow()` gives a fresh unit of work each call."""

    def __init__(self, database_url: str, *, pool_size: int | None = None,
                 max_overflow: int | None = None) -> None:
        self.engine: AsyncEngine = make_engine(database_url, pool_size=pool_size,
                                               max_overflow=max_overflow)
        self._sessions = make_sessions(self.engine)
        self.dialect = self.engine.dialect.name
        self._url = database_url
        url, _ = split_schema(normalize_url(database_url))
        sqlite_file = self.dialect == "sqlite" and not sqlite_in_memory(url)
        # PostgreSQL: the reactions' own small pool, without the pre-ping (a round trip
        # per reaction); the writer retries once on a connection found dead instead
        self._reaction_engine = self.engine if self.dialect == "sqlite" else make_engine(
            database_url, pool_size=4, max_overflow=8, pre_ping=False)
        self.reactions = ReactionWriter(self._reaction_engine, url if sqlite_file else None)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self.dialect, self._url)

    async def dispose(self) -> None:
        await self.reactions.dispose()
        if self._reaction_engine is not self.engine:
            await self._reaction_engine.dispose()
        await self.engine.dispose()
