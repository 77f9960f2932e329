"""A report's three charts as PNG: items per day by topic, answers on time by organisation, and the
satisfaction trend. Sent as one album by the bot and the digests.

Drawn on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot: pyplot keeps global
state that is not safe across threads, and the callers draw in a worker thread
(`asyncio.to_thread`) so the event loop stays free. Sizes and fonts are chosen to stay readable on
a phone (Telegram shows an album photo about 1280 px wide at most). An empty period gives a chart
that says so.
"""
from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # no display here; set before anything of matplotlib draws

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from core.report_model import Rating, Report
from core.report_text import period_text, scope_text

Gettext = Callable[[str], str]

SIZE = (10.0, 6.25)  # inches; at DPI 128 → 1280 × 800 px
DPI = 128
ORGS_SHOWN = 12
LABEL_LIMIT = 38
# One colour per topic everywhere (the decree's topics, core/seed.py); others take the spare ones.
TOPIC_COLOURS = {
    "health": "#e15759", "education": "#4e79a7", "social": "#b07aa1", "housing": "#f28e2b", "waste": "#9c755f",
    "roads": "#59a14f", "transport": "#76b7b2", "energy": "#edc948", "other": "#bab0ac",
}
SPARE_COLOURS = ("#ff9da7", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d")
GOOD, MIDDLE, BAD, INK, GRID = "#59a14f", "#edc948", "#e15759", "#333333", "#dddddd"
PERCENT = FuncFormatter(lambda value, _pos: f"{value:.0f} %")
# Font sizes are given on each element: rcParams are process-wide, and charts are drawn in threads.
TITLE, LABEL, TICK = 17, 13, 12


def _figure() -> Figure:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _title(figure: Figure, title: str, report: Report, _: Gettext) -> None:
    figure.suptitle(f"{title}\n{period_text(report.period)} · {scope_text(report.scope, _)}",
                    fontsize=TITLE, color=INK)


def _nothing(figure: Figure, text: str) -> None:
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=18, color="#777777", wrap=True,
            transform=ax.transAxes)


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=TICK)


def _cut(text: str, limit: int = LABEL_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _weekly(report: Report) -> tuple[list[date], dict[str, list[int]], int]:
    """Days, or weeks for a period longer than two months (bars stay wide enough to see)."""
    step = 7 if report.period.days > 62 else 1
    starts: list[date] = []
    series: dict[str, list[int]] = {code: [] for code in report.topic_labels}
    for offset in range(0, len(report.daily), step):
        chunk = report.daily[offset:offset + step]
        starts.append(chunk[0].day)
        for code, values in series.items():
            values.append(sum(d.counts.get(code, 0) for d in chunk))
    return starts, series, step


def items_per_day(report: Report, _: Gettext) -> bytes:
    figure = _figure()
    _title(figure, _("Обращения по дням и тематикам"), report, _)
    days, series, step = _weekly(report)
    series = {code: values for code, values in series.items() if any(values)}
    if not series:
        _nothing(figure, _("За период обращений не было"))
        return _png(figure)
    ax = figure.add_subplot()
    _style(ax)
    positions = list(range(len(days)))
    bottom = [0] * len(days)
    spare = iter(SPARE_COLOURS * 4)
    for code, values in series.items():
        colour = TOPIC_COLOURS.get(code) or next(spare)
        ax.bar(positions, values, bottom=bottom, width=0.8, color=colour, label=_cut(report.topic_labels[code], 24))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    every = max(1, math.ceil(len(days) / 9))  # «dd.mm» labels that do not run into each other
    ax.set_xticks(positions[::every], [d.strftime("%d.%m") for d in days[::every]])
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(_("обращений за неделю") if step == 7 else _("обращений в день"), fontsize=LABEL)
    ax.grid(axis="y", color=GRID)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=TICK)
    return _png(figure)


def _shown_ratings(report: Report) -> list[Rating]:
    rated = [r for r in report.ratings.get("all", []) if r.on_time_share is not None]
    rated = sorted(rated, key=lambda r: -r.items)[:ORGS_SHOWN]  # the busiest, if there are many
    return sorted(rated, key=lambda r: (r.on_time_share or 0.0, -r.items))


def on_time_by_organisation(report: Report, _: Gettext) -> bytes:
    figure = _figure()
    _title(figure, _("Ответы в срок по организациям"), report, _)
    rated = _shown_ratings(report)
    if not rated:
        _nothing(figure, _("За период ответов не было"))
        return _png(figure)
    ax = figure.add_subplot()
    _style(ax)
    shares = [(r.on_time_share or 0.0) * 100 for r in rated]
    colours = [GOOD if s >= 90 else MIDDLE if s >= 70 else BAD for s in shares]
    labels = [f"{_cut(r.name)} ({r.answered})" for r in rated]
    bars = ax.barh(range(len(rated)), shares, color=colours, height=0.7)
    ax.set_yticks(range(len(rated)), labels)
    ax.bar_label(bars, labels=[f"{s:.0f} %" for s in shares], padding=4, fontsize=TICK, color=INK)
    ax.set_xlim(0, 112)
    ax.xaxis.set_major_formatter(PERCENT)
    ax.set_xlabel(_("доля ответов в срок (в скобках — число ответов)"), fontsize=LABEL)
    ax.grid(axis="x", color=GRID)
    return _png(figure)


def satisfaction_trend(report: Report, _: Gettext) -> bytes:
    figure = _figure()
    _title(figure, _("Удовлетворённость заявителей"), report, _)
    points = [p for p in report.satisfaction if p.answered]
    if not points:
        _nothing(figure, _("За период опросов не было"))
        return _png(figure)
    ax = figure.add_subplot()
    _style(ax)
    days = [p.start for p in points]
    shares = [None if p.satisfied_share is None else p.satisfied_share * 100 for p in points]
    ax.plot(days, [s if s is not None else float("nan") for s in shares], marker="o", linewidth=2.5,
            color=GOOD, label=_("довольны, %"))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PERCENT)
    ax.set_ylabel(_("доля довольных"), fontsize=LABEL)
    ax.grid(axis="y", color=GRID)
    scores = ax.twinx()
    scores.spines[["top"]].set_visible(False)
    scores.tick_params(labelsize=TICK)
    scores.plot(days, [p.average_score if p.average_score is not None else float("nan") for p in points],
                marker="s", linewidth=2, linestyle="--", color="#4e79a7", label=_("средняя оценка"))
    scores.set_ylim(1, 5.2)
    scores.set_ylabel(_("средняя оценка (1–5)"), fontsize=LABEL)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _day(value)))
    # The whole period on the axis, so a short series is seen in its place; one point gets room.
    ax.set_xlim(min(days[0], report.period.start) - timedelta(days=1), max(days[-1], report.period.end) + timedelta(days=1))
    handles = ax.get_legend_handles_labels()[0] + scores.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize=TICK)
    return _png(figure)


def _day(value: float) -> str:
    from matplotlib.dates import num2date

    return num2date(value).strftime("%d.%m")


def render_charts(report: Report, _: Gettext) -> list[tuple[str, bytes]]:
    """(file name, PNG) of each chart, in the album's order. CPU work: run it in a thread."""
    charts: Sequence[tuple[str, Callable[[Report, Gettext], bytes]]] = (
        ("items_per_day.png", items_per_day), ("on_time.png", on_time_by_organisation),
        ("satisfaction.png", satisfaction_trend))
    return [(name, draw(report, _)) for name, draw in charts]
