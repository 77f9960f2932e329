"""The dashboard's charts as PNG: open items by status, items by topic and per day over 30 days.

Drawn with matplotlib's object API on the Agg canvas in a worker thread (`asyncio.to_thread`; pyplot's
global state is not safe across threads), and kept for a minute per chart, scope and language, so a
room of people reloading the dashboard draws each chart once a minute at most.
"""
from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

from aiohttp import web
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from admin.auth import current_staff, requires
from admin.i18n import page_gettext, page_language
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS
from core.cards import status_label
from core.dashboard import Dashboard, dashboard
from core.item_list import CHANNEL_OFFICER, sees_everything
from db.models import Staff

Gettext = Callable[[str], str]
CHARTS = ("status", "topics", "days")
TTL = 60.0
SIZE, DPI = (6.4, 3.6), 100
BAR, INK, GRID = "#1f5fbf", "#333333", "#dddddd"
LABEL_LIMIT = 28


def chart_title(name: str, _: Gettext) -> str:
    return {"status": _("Открытые обращения по статусам"), "topics": _("Поступило за 30 дней по темам"),
            "days": _("Поступило по дням за 30 дней")}[name]


@dataclass
class ChartCache:
    """PNG bytes by (chart, scope, language), each kept TTL seconds."""

    monotonic: Callable[[], float] = time.monotonic
    entries: dict[tuple[str, str, str], tuple[float, bytes]] = field(default_factory=dict)

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        found = self.entries.get(key)
        if found is None or self.monotonic() - found[0] >= TTL:
            return None
        return found[1]

    def put(self, key: tuple[str, str, str], png: bytes) -> None:
        now = self.monotonic()
        # Old entries go, so a long-running admin does not keep every scope's charts forever.
        for stale in [k for k, (at, _png) in self.entries.items() if now - at >= TTL]:
            del self.entries[stale]
        self.entries[key] = (now, png)


CACHE = web.AppKey("dashboard_charts", ChartCache)


def scope_key(staff: Staff) -> str:
    """Two people with the same view of the items share the same charts."""
    if sees_everything(staff):
        return "all"
    channels = ",".join(sorted(c for c, role in CHANNEL_OFFICER.items() if role in staff.role_set))
    return f"ch:{channels};org:{staff.organisation_id if 'recipient' in staff.role_set else ''}"


def _shorten(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"


def _figure() -> Figure:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _empty(axes, _: Gettext) -> None:  # type: ignore[no-untyped-def]
    axes.text(0.5, 0.5, _("Нет данных"), ha="center", va="center", color="#888888", fontsize=14,
              transform=axes.transAxes)
    axes.set_axis_off()


def draw(name: str, d: Dashboard, _: Gettext, language: str) -> bytes:
    figure = _figure()
    axes = figure.add_subplot()
    if name == "status":
        pairs = [(status_label(s, _), n) for s, n in d.by_status]
    elif name == "topics":
        pairs = [((en if language == "en" and en else ru) or _("без темы"), n) for ru, en, n in d.by_topic]
    else:
        pairs = [(day.strftime("%d.%m"), n) for day, n in d.by_day]
    if not pairs or not any(n for _label, n in pairs):
        _empty(axes, _)
    elif name == "days":
        axes.bar(range(len(pairs)), [n for _label, n in pairs], color=BAR, width=0.7)
        step = max(1, len(pairs) // 8)
        axes.set_xticks(range(0, len(pairs), step), [label for label, _n in pairs][::step], fontsize=9)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color=GRID)
    else:
        labels = [_shorten(label) for label, _n in pairs][::-1]
        axes.barh(range(len(pairs)), [n for _label, n in pairs][::-1], color=BAR, height=0.6)
        axes.set_yticks(range(len(pairs)), labels, fontsize=9)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="x", color=GRID)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=INK)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


@requires()
async def chart(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in CHARTS:
        raise web.HTTPNotFound()
    staff = current_staff(request)
    language = page_language(request)
    cache = request.app[CACHE]
    key = (name, scope_key(staff), language)
    png = cache.get(key)
    if png is None:
        settings = request.app[SETTINGS]
        async with request.app[SESSIONMAKER]() as session, session.begin():
            d = await dashboard(session, staff, request.app[CLOCK](), settings.tz)
        png = await asyncio.to_thread(draw, name, d, page_gettext(request), language)
        cache.put(key, png)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def setup(app: web.Application) -> None:
    app[CACHE] = ChartCache()
    app.router.add_get("/charts/dashboard-{name}.png", chart)
