"""/directories/calendar: the production calendar of a year with the centre's overrides marked; add or
remove an override (core.calendar), and count a deadline as the program would."""
from __future__ import annotations

import calendar as monthly
from datetime import date, datetime, time
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import requires
from admin.i18n import page_gettext
from admin.keys import SETTINGS
from admin.views.dir_common import (
    EDIT_ROLES,
    NOTHING_TYPED,
    VIEW_ROLES,
    Form,
    Typed,
    may_edit,
    now_of,
    read_session,
    render,
    submit,
    text,
)
from core.calendar import (
    OVERRIDE_YEARS,
    WorkingCalendar,
    load_calendar,
    load_overrides,
    parse_duration,
    remove_override,
    set_override,
)
from core.options import load_options
from core.routing import N_, RoutingError

LIST = "/directories/calendar"
MONTHS = (N_("Январь"), N_("Февраль"), N_("Март"), N_("Апрель"), N_("Май"), N_("Июнь"), N_("Июль"), N_("Август"),
          N_("Сентябрь"), N_("Октябрь"), N_("Ноябрь"), N_("Декабрь"))
WEEKDAYS = (N_("пн"), N_("вт"), N_("ср"), N_("чт"), N_("пт"), N_("сб"), N_("вс"))


def _day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise RoutingError(N_("Укажите дату, например 2026-05-04.")) from None
    low, high = OVERRIDE_YEARS
    if not low <= day.year <= high:
        raise RoutingError(N_("Год — от {low} до {high}."), low=low, high=high)
    return day


def _year(request: web.Request, today: date) -> int:
    try:
        year = int(request.query.get("year", today.year))
    except ValueError:
        year = today.year
    low, high = OVERRIDE_YEARS
    return min(max(year, low), high)


def _months(cal: WorkingCalendar, year: int) -> list[dict[str, Any]]:
    """Each month as weeks of cells: (day or None, css class, title)."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in monthly.Calendar().monthdatescalendar(year, month):
            cells: list[tuple[date | None, str, str]] = []
            for day in week:
                if day.month != month:
                    cells.append((None, "", ""))
                    continue
                working = cal.is_working_day(day)
                kind = "work" if working else "off"
                if day in cal.overrides:
                    kind += " override"
                elif working and day.weekday() >= 5:
                    kind += " transfer"
                name = cal.holiday_name(day) or ""
                if name and not working and day not in cal.overrides:
                    kind += " holiday"
                cells.append((day, kind, name))
            weeks.append(cells)
        months.append({"name": MONTHS[month - 1], "weeks": weeks})
    return months


async def _deadline(request: web.Request, cal: WorkingCalendar) -> dict[str, Any] | None:
    """«Посчитать срок»: a GET form, as `mcu calendar DATE +N` answers it."""
    query = request.query
    if "start" not in query:
        return None
    _ = page_gettext(request)
    result: dict[str, Any] = {"start": query.get("start", ""), "time": query.get("time", ""),
                              "duration": query.get("duration", "")}
    try:
        day = _day(result["start"])
        clock = time.fromisoformat(result["time"]) if result["time"] else time(9, 0)
        duration = parse_duration(result["duration"])
        due = cal.add(datetime.combine(day, clock, tzinfo=cal.tz), duration).astimezone(cal.tz)
    except RoutingError as exc:
        return {**result, "error": exc.localized(_)}
    except ValueError:  # a bad duration or time, or a date the production calendar does not cover
        return {**result, "error": _("Срок пишется числом и единицей: 30d, 10wd или 8wh; время — ЧЧ:ММ; "
                                     "дата — с 1991 по 2100 год.")}
    return {**result, "due": due, "working": cal.is_working_day(due.date())}


async def _page(request: web.Request, typed: Typed) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    today = now_of(request).astimezone(settings.tz).date()
    year = _year(request, today)
    async with read_session(request) as session:
        options = await load_options(session)
        cal = await load_calendar(session, settings.tz, move_to_working_day=options.move_to_working_day)
        overrides = await load_overrides(session)
    return {"year": year, "months": _months(cal, year), "weekdays": WEEKDAYS, "today": today,
            "working_days": cal.working_days_in_year(year), "overrides": overrides,
            "deadline": await _deadline(request, cal), "move_to_working_day": options.move_to_working_day,
            "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def calendar_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_calendar.html", await _page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def create(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    form = await request.post()
    year = text(form, "day")[:4]
    back = f"{LIST}?year={year}" if year.isdigit() else LIST

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        kind = text(form, "kind")
        if kind not in ("working", "off"):
            raise RoutingError(N_("Выберите: рабочий день или выходной."))
        day = _day(text(form, "day"))
        await set_override(session, day, is_working=kind == "working", note=text(form, "note") or None,
                           staff_id=staff_id, now=now)
        message = _("{day} теперь рабочий день.") if kind == "working" else _("{day} теперь выходной.")
        return message.format(day=f"{day:%d.%m.%Y}")

    return await submit(request, form_name="add", work=work, done=back, template="dir_calendar.html", page=_page)


@requires(*EDIT_ROLES)
async def remove(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    form = await request.post()
    year = text(form, "day")[:4]
    back = f"{LIST}?year={year}" if year.isdigit() else LIST

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        day = _day(text(form, "day"))
        await remove_override(session, day, staff_id=staff_id, now=now)
        return _("Поправка на {day} удалена: день снова как в производственном календаре.").format(
            day=f"{day:%d.%m.%Y}")

    return await submit(request, form_name="remove", work=work, done=back, template="dir_calendar.html", page=_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, calendar_page)
    app.router.add_post(LIST, create)
    app.router.add_post(LIST + "/remove", remove)
