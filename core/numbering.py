"""Readable, unique item numbers: ``2026-000042``, a sequence per year of the district."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Counter
from db.upsert import per_dialect

# Built once per dialect: it runs for every new item.
_TAKE_NEXT = per_dialect(
    lambda insert: insert(Counter.__table__)
    .values(name=bindparam("name"), value=1)
    .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
    .returning(Counter.value)
)


async def next_value(session: AsyncSession, name: str) -> int:
    """Atomically take the next value of a named counter (safe under concurrent writers)."""
    result = await session.execute(_TAKE_NEXT[session.bind.dialect.name], {"name": name})
    return int(result.scalar_one())


async def next_item_number(session: AsyncSession, now: datetime, tz: ZoneInfo) -> str:
    year = now.astimezone(tz).year
    value = await next_value(session, f"item-number-{year}")
    return f"{year}-{value:06d}"
