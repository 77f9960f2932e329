"""Async engine and sessions for SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db.sqlite_inline import DRIVERNAME as INLINE_SQLITE


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the admin read while the bot writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str, *, inline: bool = True, **kwargs: Any) -> AsyncEngine:
    """`inline=False` (SQLite only): connections run in aiosqlite's worker thread, so a long
    statement (a report over a year of items) leaves the event loop free; see core.reports."""
    # Statement parameters carry citizens' texts and names: keep them out of error messages and logs.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        parsed = make_url(url)
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            if inline:
                url = parsed.set(drivername=INLINE_SQLITE)  # type: ignore[assignment]
        # One connection: SQLite has one writer at a time, and a second connection waiting on
        # its lock sleeps in SQLite's busy handler (up to 100 ms a try). Queueing on the pool
        # is fair and costs nothing; every transaction here is short (nothing waits on the
        # network inside one).
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 60)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def configured_url(engine: AsyncEngine) -> str:
    """The engine's database URL as configured: which SQLite dialect `make_engine` chose is its
    own business, so another engine for the same database is made from this."""
    url = engine.url
    if url.drivername == INLINE_SQLITE:
        url = url.set(drivername="sqlite+aiosqlite")
    return url.render_as_string(hide_password=False)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
