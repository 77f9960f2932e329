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
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares.database import current_session
from db.models import FsmRecord

_Snapshot = tuple[str | None, dict[str, Any]]


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
            return _as_snapshot(await self._record(shared, name))
        cached = self._cache.get(name)
        if cached is not None:
            self._cache.move_to_end(name)
            return cached
        async with self._sessionmaker() as session:
            snapshot = _as_snapshot(await session.get(FsmRecord, name))
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
            # No flush here: the unit of work writes the record with the update's other changes
            # (autoflush before any query, or the commit), so set_state + set_data is one statement.
            await self._write(shared, name, values)
            return
        async with self._sessionmaker() as session, session.begin():
            await self._write(session, name, values)

    @staticmethod
    async def _record(session: AsyncSession, name: str) -> FsmRecord | None:
        """The record, read at most once per session: the session's identity map holds objects
        weakly, so the records (and the knowledge that one is absent) are kept in session.info."""
        known: dict[str, FsmRecord | None] = session.info.setdefault("fsm_records", {})
        if name not in known:
            known[name] = await session.get(FsmRecord, name)
        record = known[name]
        if record is not None and record not in session:  # deleted, or expunged as empty
            return None
        return record

    async def _write(self, session: AsyncSession, name: str, values: dict[str, Any]) -> None:
        known: dict[str, FsmRecord | None] = session.info.setdefault("fsm_records", {})
        record = await self._record(session, name)
        if record is not None and record in session.deleted:
            await session.flush()  # the pending DELETE goes first; a fresh row follows
            record = None
        if record is None:
            record = FsmRecord(key=name, state=None, data={})
            session.add(record)
            known[name] = record
        for field, value in values.items():
            setattr(record, field, value)
        if record.state is None and not record.data:
            if record in session.new:
                session.expunge(record)
            else:
                await session.delete(record)

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


def _as_snapshot(record: FsmRecord | None) -> _Snapshot:
    if record is None:
        return None, {}
    return record.state, dict(record.data or {})
