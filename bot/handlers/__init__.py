"""Routers split by audience; the order of `get_routers()` is the order of matching."""
from __future__ import annotations

from aiogram import Router

from bot.handlers import citizen, common, fallback, staff


def get_routers() -> list[Router]:
    # Fresh routers for each dispatcher (a router joins one parent only).
    # Staff commands before the citizen's catch-all intake; the fallback last.
    return [common.make_router(), staff.make_router(), citizen.make_router(), fallback.make_router()]
