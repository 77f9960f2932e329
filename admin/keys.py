"""Typed application keys shared by the views."""
from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.settings import Settings
from core.staff_auth import IpThrottle

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
SANDBOX_URL = web.AppKey("sandbox_url", str | None)  # type: ignore[arg-type]
HTTP = web.AppKey("http", ClientSession)
# The time the admin reads: system time in production, a ManualClock in tests (lockout expiry …).
CLOCK = web.AppKey("clock", Clock)  # type: ignore[arg-type]
# Failed sign-ins with unknown logins per address (core.staff_auth.IpThrottle).
THROTTLE = web.AppKey("login_throttle", IpThrottle)
