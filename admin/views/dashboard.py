"""/ — the dashboard: new today, in work, due today, overdue, satisfaction over 30 days, with charts.

The figures are those of `core.dashboard`, scoped like the list (a recipient sees its organisation's);
each tile links to the list filtered the same way. The charts are PNG images (admin/views/charts.py).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.auth import current_staff, requires
from admin.i18n import page_gettext, page_language
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS
from admin.views.charts import CHARTS, chart_title
from admin.views.dir_common import render
from core.dashboard import RECENT_DAYS, SATISFACTION_DAYS, dashboard


def items_link(**query: str) -> str:
    return "/items?" + urlencode(query)


@requires()
async def page(request: web.Request) -> web.StreamResponse:
    staff = current_staff(request)
    settings = request.app[SETTINGS]
    _ = page_gettext(request)
    now = request.app[CLOCK]()
    today = now.astimezone(settings.tz).date().isoformat()
    async with request.app[SESSIONMAKER]() as session, session.begin():
        d = await dashboard(session, staff, now, settings.tz)
    share = d.satisfied_share
    tiles: list[dict[str, Any]] = [
        {"label": _("Новые за сегодня"), "value": d.new_today, "link": items_link(**{"from": today, "to": today}),
         "code": "new"},
        {"label": _("Ждут распределения"), "value": d.waiting, "link": items_link(status="registered"),
         "code": "waiting"},
        {"label": _("В работе у исполнителей"), "value": d.in_work, "link": items_link(status="working"),
         "code": "in_work"},
        {"label": _("Ответы на проверке"), "value": d.review, "link": items_link(status="review"), "code": "review"},
        {"label": _("Срок ответа сегодня"), "value": d.due_today, "link": items_link(due_today="1"),
         "code": "due_today"},
        {"label": _("Просрочено"), "value": d.overdue, "link": items_link(overdue="1"),
         "code": "overdue" if d.overdue else "overdue-none"},
    ]
    context = {
        "tiles": tiles,
        "d": d,
        "share": None if share is None else round(share * 100),
        "satisfaction_days": SATISFACTION_DAYS,
        "recent_days": RECENT_DAYS,
        "charts": [(name, chart_title(name, _)) for name in CHARTS],
        "language": page_language(request),
        "updated": now.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M"),
    }
    return await render(request, "dashboard.html", context)


def setup(app: web.Application) -> None:
    app.router.add_get("/", page)
