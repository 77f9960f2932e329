"""aiogram FSM storage in the database, so a dialogue survives a restart (Redis is the other option)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import FsmRecord


class SqlStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def _load(self, key: StorageKey) -> FsmRecord | None:
        async with self._sessionmaker() as session:
            return await session.get(FsmRecord, self._keys.build(key))

    async def _save(self, key: StorageKey, **values: Any) -> None:
        async with self._sessionmaker() as session, session.begin():
            record = await session.get(FsmRecord, self._keys.build(key))
            if record is None:
                record = FsmRecord(key=self._keys.build(key), state=None, data={})
                session.add(record)
            for name, value in values.items():
                setattr(record, name, value)
            if record.state is None and not record.data:
                await session.delete(record)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._save(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._load(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._load(key)
        return dict(record.data or {}) if record else {}

    async def clear_all(self) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(FsmRecord))

    async def count(self) -> int:
        async with self._sessionmaker() as session:
            return len((await session.scalars(select(FsmRecord.key))).all())

    async def close(self) -> None:
        return None
