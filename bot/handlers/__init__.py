"""Routers split by audience; the order of `get_routers()` is the order of matching."""
from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    citizen,
    common,
    dialogue,
    drafts,
    fallback,
    reply,
    report,
    review,
    staff,
    staff_import,
    staff_new,
    staff_web,
    survey,
    work,
)


def get_routers() -> list[Router]:
    # Fresh routers for each dispatcher (a router joins one parent only).
    # /start and a shared contact mid-dialogue before the greeting and the plain contact handler;
    # staff commands before the citizen's intake dialogue (which takes any text); the fallback last.
    # Item drafts (answers, questions, reasons) right after the staff commands: they are entered only
    # by a card button, and their text must not reach the intake dialogue.
    # The survey first: its text steps are entered only by the citizen's own tap.
    return [survey.make_router(), dialogue.make_priority_router(), common.make_router(), staff.make_router(), staff_web.make_router(),
            report.make_router(), drafts.make_router(), work.make_router(), review.make_router(), reply.make_router(),
            staff_new.make_router(), staff_import.make_router(), citizen.make_router(),
            dialogue.make_router(), fallback.make_router()]
