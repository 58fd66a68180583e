"""Unit of work: one AsyncSession per use, repositories on it, commit explicitly.

Leaving the block without `commit()` rolls back, so a handler that refuses bad input
after touching the session changes nothing.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.engine import make_engine, make_sessions
from storage.queries import Queries
from storage.repositories import AnswerRepo, ChannelRepo, PostRepo, QuestionRepo, UserRepo


class UnitOfWork:
    channels: ChannelRepo
    questions: QuestionRepo
    posts: PostRepo
    users: UserRepo
    answers: AnswerRepo
    queries: Queries

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect = dialect
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


class Database:
    """The engine and session factory; `uow()` gives a fresh unit of work each call."""

    def __init__(self, database_url: str) -> None:
        self.engine: AsyncEngine = make_engine(database_url)
        self._sessions = make_sessions(self.engine)
        self.dialect = self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self.dialect)

    async def dispose(self) -> None:
        await self.engine.dispose()
