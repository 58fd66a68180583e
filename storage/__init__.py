"""Persistence: SQLAlchemy 2 async models, repositories, unit of work, Alembic migrations.

`engine` (pragmas, `?schema=` for PostgreSQL), `models` (tables and their invariants),
`repositories` + `queries` (all SQL), `answer_writes` (the reaction hot path, one
transaction of written-out SQL), `uow` (`Database().uow()`, `Database().reactions`), `migrate`
(`await upgrade(database_url)`, what `qotd db upgrade` and `qotd run` call).
"""
