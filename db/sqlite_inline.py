"""SQLite on the event loop's own thread, under SQLAlchemy's asyncio API.

SQLAlchemy's aiosqlite dialect sends every DBAPI call (cursor, execute, fetch, description,
commit …) to aiosqlite's worker thread and back, and through a greenlet switch on the way. On
the small statements this application makes, those hand-offs cost many times the statement
itself (measured on the project's machine: SQLite answers a keyed SELECT in 3 µs; through
aiosqlite and an AsyncSession it took 206 µs, with this dialect 108 µs).

This dialect is SQLAlchemy's own pysqlite dialect declared asynchronous: the sqlite3 calls are
made directly, and each statement hands control to the event loop's side once, which is what
SQLAlchemy's asyncio layer expects of a driver. The application code sees the same
`AsyncSession`/`AsyncEngine` as with aiosqlite, and the URL stays `sqlite+aiosqlite://`
(`db.engine.make_engine` picks this dialect for it).

What this gives up: a statement blocks the event loop while it runs. Transactions here are
short; long read-only work (reports over a year of items) runs through real aiosqlite in a
worker thread (`make_engine(..., inline=False)`, see core.reports).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVERNAME = "sqlite+mcu_inline"


async def _nothing() -> None:
    return None


def _hand_over() -> None:
    # SQLAlchemy's AsyncConnection.execute insists that the driver awaited something; an awaited
    # no-op is the cheapest such thing (one greenlet switch, no trip through the event loop).
    if in_greenlet():
        await_(_nothing())


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        _hand_over()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        _hand_over()
        return super().executemany(sql, parameters)

    async def _async_soft_close(self) -> None:
        """Asked of asyncio drivers' cursors before a result is read outside the greenlet;
        a sqlite3 cursor is read on this same thread, so there is nothing to do."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        # check_same_thread off: a pooled connection may be closed by the garbage collector
        # on another thread; all statements still run on the event loop's thread.
        cparams["check_same_thread"] = False
        return sqlite3.connect(*cargs, factory=_Connection, **cparams)


registry.register(DRIVERNAME.replace("+", "."), __name__, "SQLiteDialect_inline")
