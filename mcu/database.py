"""Opening the database for any command: migrations, the reference seed, the engine.

Kept apart from `mcu.runtime` (which imports the bot, the admin and the scheduler) so the small
commands (`mcu org list`, `mcu report` …) start in a fraction of the time.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.reports import dispose_report_engines
from core.seed import seed_reference
from core.settings import ConfigError, Settings
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


@contextlib.asynccontextmanager
async def open_database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Database]:
    url = settings.effective_database_url
    if migrate:
        try:
            await upgrade(url)
        except (OSError, DBAPIError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ConfigError(f"MCU_DATABASE_URL: cannot open the database: {reason}") from None
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    if migrate:
        async with sessionmaker() as session, session.begin():
            await seed_reference(session)
    try:
        yield Database(engine, sessionmaker)
    finally:
        await dispose_report_engines()
        await engine.dispose()
