"""Persistence: SQLAlchemy 2 async models, repositories, unit of work, Alembic migrations.

`engine` (pragmas, `?schema=` for PostgreSQL), `models` (tables and their invariants),
`repositories` + `queries` (all SQL), `uow` (`Database().uow()`), `migrate`
(`await upgrade(database_url)`, what `qotd db upgrade` and `qotd run` call).
"""
