"""aiogram FSM storage in the database, so a dialogue survives a restart (Redis is the other option).

Inside an update the storage joins the update's own session and transaction, so the dialogue
state and the item change together. aiogram reads the state of every update before any handler
runs; those reads are served from a bounded in-process cache, filled from the database on a miss
and dropped on every write. One bot process per database is assumed here: several bot instances
share their dialogue state through Redis (`MCU_REDIS_URL`) instead.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares.database import current_session
from db.models import FsmRecord
from db.upsert import per_dialect

_Snapshot = tuple[str | None, dict[str, Any]]

# Plain statements built once: the state is read and written on nearly every update, and the ORM's
# unit of work cost several times what SQLite takes to run them.
_TABLE = FsmRecord.__table__
_READ = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("key"))
_FORGET = delete(_TABLE).where(_TABLE.c.key == bindparam("key"))


def _upsert(insert: Any) -> Any:
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"state": statement.excluded.state, "data": statement.excluded.data,
              "updated_at": statement.excluded.updated_at},
    )


_WRITE = per_dialect(_upsert)


class SqlStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cache_size: int = 100_000) -> None:
        self._sessionmaker = sessionmaker
        self._keys = DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, _Snapshot] = OrderedDict()
        self._cache_size = cache_size

    async def _snapshot(self, key: StorageKey) -> _Snapshot:
        name = self._keys.build(key)
        shared = current_session.get()
        if shared is not None:
            return await _known(shared, name)
        cached = self._cache.get(name)
        if cached is not None:
            self._cache.move_to_end(name)
            return cached
        async with self._sessionmaker() as session:
            snapshot = await _read(session, name)
        self._remember(name, snapshot)
        return snapshot

    def _remember(self, name: str, snapshot: _Snapshot) -> None:
        self._cache[name] = snapshot
        self._cache.move_to_end(name)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _save(self, key: StorageKey, **values: Any) -> None:
        name = self._keys.build(key)
        # Dropped before the write: a transaction that later rolls back leaves no stale copy.
        self._cache.pop(name, None)
        shared = current_session.get()
        if shared is not None:
            await _write(shared, name, values)
            return
        async with self._sessionmaker() as session, session.begin():
            await _write(session, name, values)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._save(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._snapshot(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._snapshot(key))[1])

    async def clear_all(self) -> None:
        self._cache.clear()
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(FsmRecord))

    async def close(self) -> None:
        return None


async def _read(session: AsyncSession, name: str) -> _Snapshot:
    row = (await session.execute(_READ, {"key": name})).first()
    return (None, {}) if row is None else (row.state, dict(row.data or {}))


async def _known(session: AsyncSession, name: str) -> _Snapshot:
    """The state as this transaction sees it, read at most once: aiogram reads it before the
    handler runs, and handlers read it again; the copy in session.info follows every write."""
    known: dict[str, _Snapshot] = session.info.setdefault("fsm_states", {})
    if name not in known:
        known[name] = await _read(session, name)
    return known[name]


async def _write(session: AsyncSession, name: str, values: dict[str, Any]) -> None:
    state, data = await _known(session, name)
    state = values.get("state", state)
    data = dict(values.get("data", data))
    if state is None and not data:
        await session.execute(_FORGET, {"key": name})
    else:
        await session.execute(_WRITE[session.bind.dialect.name], {"key": name, "state": state, "data": data})
    session.info["fsm_states"][name] = (state, data)
