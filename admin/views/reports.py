"""/reports: the centre's report in the browser — the same figures, words, charts and spreadsheet as
`/report` in the bot and `mcu report` (one implementation: core.reports, core.report_output).

Who sees what is core.reports.scope_for: the centre's people any scope; a channel's officer that
channel; a recipient its own organisation, whatever the query asks (narrow_scope). The figures are
read through core.reports.report_sessionmaker (on SQLite a read-only connection in a worker thread)
and the charts and the spreadsheet are drawn in worker threads, so the admin stays responsive while a
quarter is counted. Charts go inline as data: URIs (the CSP allows img-src data:).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from multidict import MultiMapping

from admin.auth import current_staff, forbidden, requires
from admin.i18n import page_gettext
from admin.keys import SESSIONMAKER, SETTINGS
from admin.views.dir_common import now_of, read_session, render
from core.cards import status_label
from core.directories import list_settlements, list_topics
from core.registration import channel_label
from core.report_model import Period, Scope
from core.report_output import produce
from core.report_text import hours_text, number, percent, period_text
from core.reports import (
    N_,
    ReportInputError,
    narrow_scope,
    period_between,
    period_for,
    report_sessionmaker,
    scope_for,
)
from core.routing import list_organisations
from core.staff import REPORT_OWN_ORGANISATION_ROLES, REPORT_ROLES
from db.models import Channel

# The page: everybody who may have a report at all; scope_for decides what each one sees.
PAGE_ROLES = (*REPORT_ROLES, *REPORT_OWN_ORGANISATION_ROLES)
PERIODS = (("today", N_("сегодня")), ("week", N_("7 дней")), ("month", N_("месяц")), ("quarter", N_("квартал")),
           ("dates", N_("даты")))
SCOPE_FIELDS = ("topic_id", "settlement_id", "organisation_id", "channel")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_TITLES = {"items_per_day.png": N_("Обращения по дням и тематикам"),
                "on_time.png": N_("Ответы в срок по организациям"),
                "satisfaction.png": N_("Удовлетворённость")}


@dataclass(frozen=True)
class Asked:
    """The form as sent (strings), so the page shows it back."""

    period: str
    start: str
    end: str
    scope: dict[str, str]

    @classmethod
    def of(cls, query: MultiMapping[str]) -> Asked:
        kind = query.get("period", "week")
        return cls(kind if kind in dict(PERIODS) else "week", query.get("start", ""), query.get("end", ""),
                   {name: query.get(name, "") for name in SCOPE_FIELDS})

    def query(self) -> str:
        values = {"period": self.period, "start": self.start, "end": self.end, **self.scope}
        return urlencode({k: v for k, v in values.items() if v})


def _id(value: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ReportInputError(N_("Выберите значение из списка.")) from None


def _period(asked: Asked, today: date, request: web.Request) -> Period:
    tz = request.app[SETTINGS].tz
    if asked.period != "dates":
        return period_for(asked.period, today, tz)
    try:
        start = date.fromisoformat(asked.start)
        end = date.fromisoformat(asked.end) if asked.end else start
    except ValueError:
        raise ReportInputError(N_("Укажите даты начала и конца периода, например 2026-11-01 и 2026-11-30.")) from None
    return period_between(start, end, tz, today=today)


def _scope(asked: Asked, allowed: Scope) -> Scope:
    channel = asked.scope["channel"] or None
    if channel is not None and channel not in {c.value for c in Channel}:
        raise ReportInputError(N_("Выберите значение из списка."))
    wanted = Scope(topic_id=_id(asked.scope["topic_id"]), settlement_id=_id(asked.scope["settlement_id"]),
                   organisation_id=_id(asked.scope["organisation_id"]), channel=channel)
    return narrow_scope(allowed, wanted)


def _allowed(request: web.Request) -> Scope:
    allowed = scope_for(current_staff(request))
    if allowed is None:  # a recipient with no organisation, say
        raise forbidden(page_gettext(request)(N_("Отчёты вам недоступны: нет роли или организации, по которой "
                                              "их можно построить.")))
    return allowed


async def _choices(request: web.Request, allowed: Scope) -> dict[str, Any]:
    _ = page_gettext(request)
    async with read_session(request) as session:
        topics = await list_topics(session)
        settlements = await list_settlements(session)
        organisations = await list_organisations(session)
    channels = [c.value for c in Channel]
    if allowed.channel is not None:
        channels = [allowed.channel]
    elif allowed.channels:
        channels = list(allowed.channels)
    return {"periods": PERIODS, "topics": topics, "settlements": settlements,
            "organisations": organisations if allowed.organisation_id is None else
            [o for o in organisations if o.id == allowed.organisation_id],
            "channels": [(c, channel_label(c, _)) for c in channels],
            "forced_org": allowed.organisation_id is not None,
            "forced_channel": allowed.channel is not None}


def _formatters(request: web.Request) -> dict[str, Any]:
    _ = page_gettext(request)
    tz = request.app[SETTINGS].tz
    return {"percent": lambda share: percent(share, _), "hours": lambda h: hours_text(h, _),
            "num": lambda value, digits=1: "—" if value is None else number(value, _, digits),
            "status": lambda code: status_label(code, _),
            "local_date": lambda moment: moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")}


@requires(*PAGE_ROLES)
async def reports_page(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    allowed = _allowed(request)
    asked = Asked.of(request.query)
    now = now_of(request)
    today = now.astimezone(request.app[SETTINGS].tz).date()
    context: dict[str, Any] = {"asked": asked, "today": today, **await _choices(request, allowed),
                               **_formatters(request)}
    try:
        period, scope = _period(asked, today, request), _scope(asked, allowed)
    except ReportInputError as exc:
        return await render(request, "reports.html", {**context, "error": exc.localized(_)}, status=400)
    output = await produce(report_sessionmaker(request.app[SESSIONMAKER]), period, scope, now=now, _=_,
                           charts=True, xlsx=False)
    charts = [(_(CHART_TITLES.get(name, name)), "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
              for name, png in output.charts]
    return await render(request, "reports.html", {
        **context, "report": output.report, "summary": output.lines, "charts": charts,
        "period_text": period_text(period), "xlsx_query": asked.query()})


@requires(*PAGE_ROLES)
async def reports_xlsx(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    allowed = _allowed(request)
    asked = Asked.of(request.query)
    now = now_of(request)
    try:
        period = _period(asked, now.astimezone(request.app[SETTINGS].tz).date(), request)
        scope = _scope(asked, allowed)
    except ReportInputError as exc:
        raise web.HTTPBadRequest(text=exc.localized(_)) from None
    output = await produce(report_sessionmaker(request.app[SESSIONMAKER]), period, scope, now=now, _=_,
                           charts=False, xlsx=True)
    assert output.xlsx is not None
    ascii_name = f"mcu-report-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
    return web.Response(body=output.xlsx, content_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(output.xlsx_name)}"})


def setup(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/report.xlsx", reports_xlsx)
