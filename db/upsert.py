"""INSERT … ON CONFLICT, whose construct differs between PostgreSQL and SQLite."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def dialect_insert(session: AsyncSession) -> Any:
    """The `insert` of the session's database, for a statement built on the spot."""
    return _INSERTS[session.bind.dialect.name]


def per_dialect(build: Callable[[Any], Any]) -> dict[str, Any]:
    """A statement that runs on every update, built once for each database: `build(insert)`;
    pick it with `statements[session.bind.dialect.name]`."""
    return {name: build(insert) for name, insert in _INSERTS.items()}
