"""Routers split by audience; the order of `get_routers()` is the order of matching."""
from __future__ import annotations

from aiogram import Router

from bot.handlers import citizen, common, fallback, staff


def get_routers() -> list[Router]:
    # Staff commands before the citizen's catch-all intake; the fallback last.
    return [common.router, staff.router, citizen.router, fallback.router]
