"""Typed application keys shared by the views."""
from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
SANDBOX_URL = web.AppKey("sandbox_url", str | None)  # type: ignore[arg-type]
HTTP = web.AppKey("http", ClientSession)
