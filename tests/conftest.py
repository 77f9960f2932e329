"""Shared fixtures: a real database (SQLite file, or PostgreSQL with MCU_TEST_DATABASE_URL),
the sandbox Bot API over HTTP, and the real bot polling it."""
from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.seed import seed_reference
from core.settings import Settings
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_sync
from db.models import Base

PG_URL = os.environ.get("MCU_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrations run once; each test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("template") / "mcu.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """One fresh PostgreSQL database for the session, migrated; tables emptied between tests."""
    if not PG_URL:
        yield None
        return
    import asyncpg

    name = f"mcu_test_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_URL)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(
            user=admin.username, password=admin.password, host=admin.host, port=admin.port or 5432,
            database=admin.database or "postgres",
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    upgrade_sync(url)
    yield url
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, pg_database: str | None) -> str:
    if pg_database:
        return pg_database
    target = tmp_path / "mcu.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path,
        bot_token=None,
        redis_url=None,
        webhook_url=None,
        smtp_url=None,
    )


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.effective_database_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await seed_reference(session)
    yield maker
    await engine.dispose()
