"""A report's key figures in words: Telegram HTML for the bot and the digests (`summary_html`), plain
lines for the terminal (`summary_lines`). Both come from one list of lines, so they never disagree.

Each figure is shown against the previous period of the same length: an arrow and the change
(items as a count, shares in percentage points, times in hours or days). Numbers are formatted
the reader's way (Babel: «78 %», «5,2 ч» in Russian). Every name from the database is escaped.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from babel.numbers import format_decimal, format_percent

from core.i18n import language_of
from core.report_model import Count, Durations, Figures, Period, Report, Scope

Gettext = Callable[[str], str]

TEXT_LIMIT = 4096  # Telegram's limit for one message
COUNTS_SHOWN = 5  # topics, channels, settlements in a line
WORST_SHOWN = 3  # overdue items named
PROBLEMS_SHOWN = 3
NAME_LIMIT = 50
_TAG = re.compile(r"<[^>]+>")


# --- formatting ------------------------------------------------------------------------------------------


def date_text(day: object) -> str:
    return day.strftime("%d.%m.%Y")  # type: ignore[attr-defined]


def period_text(period: Period) -> str:
    if period.start == period.end:
        return date_text(period.start)
    return f"{date_text(period.start)} — {date_text(period.end)}"


def scope_text(scope: Scope, _: Gettext) -> str:
    if scope.whole:
        return _("весь МЦУ")
    if scope.label:
        return scope.label
    return _("выборка")


def number(value: float, _: Gettext, digits: int = 1) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=language_of(_))


def percent(share: float | None, _: Gettext) -> str:
    return "—" if share is None else format_percent(share, locale=language_of(_))


def hours_text(hours: float | None, _: Gettext) -> str:
    """Under an hour in minutes, under two days in hours, else in days."""
    if hours is None:
        return "—"
    if hours < 1:
        return _("{value} мин").format(value=max(1, round(hours * 60)))
    if hours < 48:
        return _("{value} ч").format(value=number(hours, _))
    return _("{value} дн.").format(value=number(hours / 24, _))


def short(name: str, limit: int = NAME_LIMIT) -> str:
    """Cut and escape a name from the database."""
    name = " ".join(name.split())
    if len(name) > limit:
        name = name[:limit - 1].rstrip() + "…"
    return html.escape(name)


def _arrow(delta: float) -> str:
    return "↑" if delta > 0 else "↓" if delta < 0 else "="


def _signed(text: str, delta: float) -> str:
    return ("+" if delta > 0 else "−" if delta < 0 else "±") + text


def count_change(current: int, previous: int, _: Gettext) -> str:
    """«↑ +16, было 104»."""
    delta = current - previous
    if not delta:
        return _("= без изменений")
    return _("{arrow} {delta}, было {previous}").format(
        arrow=_arrow(delta), delta=_signed(number(abs(delta), _, 0), delta), previous=number(previous, _, 0))


def share_change(current: float | None, previous: float | None, _: Gettext) -> str:
    """«↑ +3 п. п.»; nothing when either period has no figure."""
    if current is None or previous is None:
        return ""
    delta = round((current - previous) * 100)
    if not delta:
        return " (=)"
    return " (" + _("{arrow} {delta} п. п.").format(arrow=_arrow(delta), delta=_signed(str(abs(delta)), delta)) + ")"


def hours_change(current: float | None, previous: float | None, _: Gettext) -> str:
    if current is None or previous is None or abs(current - previous) < 0.05:
        return ""
    delta = current - previous
    return f" ({_arrow(delta)} {_signed(hours_text(abs(delta), _), delta)})"


def score_change(current: float | None, previous: float | None, _: Gettext) -> str:
    if current is None or previous is None or abs(current - previous) < 0.05:
        return ""
    delta = current - previous
    return f" ({_arrow(delta)} {_signed(number(abs(delta), _), delta)})"


def _counts(counts: Sequence[Count], _: Gettext, limit: int = COUNTS_SHOWN) -> str:
    shown = [c for c in sorted(counts, key=lambda c: (-c.count, c.label)) if c.count][:limit]
    parts = []
    for c in shown:
        delta = c.count - c.previous
        change = f" ({_arrow(delta)}{_signed(number(abs(delta), _, 0), delta)})" if delta else ""
        parts.append(f"{short(c.label, 30)} {number(c.count, _, 0)}{change}")
    rest = sum(c.count for c in counts) - sum(c.count for c in shown)
    if rest > 0:
        parts.append(_("прочие {count}").format(count=number(rest, _, 0)))
    return ", ".join(parts)


def _durations(title: str, now: Durations, before: Durations, _: Gettext) -> str | None:
    if not now.count:
        return None
    return _("{title}: медиана {median}{median_change}, 90 % — {p90}{p90_change}").format(
        title=title, median=hours_text(now.median_hours, _),
        median_change=hours_change(now.median_hours, before.median_hours, _),
        p90=hours_text(now.p90_hours, _), p90_change=hours_change(now.p90_hours, before.p90_hours, _))


def _empty(figures: Figures) -> bool:
    return not (figures.received or figures.answered or figures.surveys_answered)


# --- the lines -------------------------------------------------------------------------------------------


def _head(report: Report, _: Gettext) -> list[str]:
    return [
        _("📊 <b>Отчёт МЦУ за {period}</b>").format(period=period_text(report.period)),
        _("Охват: {scope}").format(scope=short(scope_text(report.scope, _), 80)),
        _("Сравнение с {period}; данные на {moment}").format(
            period=period_text(report.period.previous()),
            moment=report.generated_at.astimezone(report.period.tz).strftime("%d.%m.%Y %H:%M")),
    ]


def _overdue(report: Report, _: Gettext) -> list[str]:
    now = report.current
    if not now.overdue_now:
        return [_("Просроченных сейчас нет.")]
    lines = [_("<b>Просрочено сейчас: {count}</b>").format(count=now.overdue_now)]
    for item in report.overdue[:WORST_SHOWN]:
        lines.append(_("• № {number} — {organisation}, {days} раб. дн. сверх срока").format(
            number=html.escape(item.number), organisation=short(item.organisation), days=item.overdue_days))
    return lines


def _body(report: Report, _: Gettext) -> list[list[str]]:
    """Sections in order of importance: when the text is too long, the last ones go first."""
    now, before = report.current, report.previous
    intake = [_("<b>Поступило: {count}</b> ({change})").format(
        count=number(now.received, _, 0), change=count_change(now.received, before.received, _))]
    for title, counts in ((_("По тематикам"), now.by_topic), (_("По каналам"), now.by_channel),
                          (_("По поселениям"), now.by_settlement)):
        if any(c.count for c in counts):
            intake.append(f"{title}: {_counts(counts, _)}")

    answers = [_("<b>Ответы</b>"),
               _("Дано ответов: {answered}, из них в срок: {on_time}{change}").format(
                   answered=number(now.answered, _, 0), on_time=percent(now.on_time_share, _),
                   change=share_change(now.on_time_share, before.on_time_share, _))]
    for line in (_durations(_("Первая реакция"), now.first_reaction, before.first_reaction, _),
                 _durations(_("Время ответа"), now.answer_time, before.answer_time, _)):
        if line:
            answers.append(line)

    satisfaction = [_("<b>Удовлетворённость</b> (оценок: {count})").format(count=now.surveys_answered)]
    if now.surveys_answered:
        satisfaction.append(_("Довольны: {share}{change}; средняя оценка: {score}{score_change}").format(
            share=percent(now.satisfied_share, _), change=share_change(now.satisfied_share, before.satisfied_share, _),
            score="—" if now.average_score is None else number(now.average_score, _),
            score_change=score_change(now.average_score, before.average_score, _)))
    else:
        satisfaction.append(_("Опросов за период не было."))

    quality = [_("<b>Качество работы с обращениями</b>"),
               _("Повторные: {repeat}{repeat_change}; перенаправлены: {redirected}{redirected_change}; "
                 "сменили тематику: {reclassified}{reclassified_change}").format(
                   repeat=percent(now.repeat_share, _),
                   repeat_change=share_change(now.repeat_share, before.repeat_share, _),
                   redirected=percent(now.redirected_share, _),
                   redirected_change=share_change(now.redirected_share, before.redirected_share, _),
                   reclassified=percent(now.reclassified_share, _),
                   reclassified_change=share_change(now.reclassified_share, before.reclassified_share, _))]

    problems = []
    if report.problems:
        problems.append(_("<b>Повторяющиеся проблемы</b>"))
        for p in report.problems[:PROBLEMS_SHOWN]:
            place = short(p.settlement, 30) + (", " + short(p.street, 30) if p.street else "")
            delta = p.count - p.previous
            change = (_(" (новая)") if p.trend == "new"
                      else f" ({_arrow(delta)}{_signed(str(abs(delta)), delta)})" if delta else "")
            problems.append(_("• {theme} — {place}: {count}{change}").format(
                theme=short(p.theme, 40), place=place, count=p.count, change=change))
    return [intake, _overdue(report, _), answers, satisfaction, quality, problems]


def _lines(report: Report, _: Gettext, limit: int | None, heading: str | None = None) -> list[str]:
    head = _head(report, _)
    if heading:  # e.g. «🗓 Еженедельный отчёт» of a digest, above the title
        head = [heading, *head]
    if _empty(report.current):
        lines = [*head, "", _("За период обращений не было.")]
        if report.previous.received:
            lines.append(_("В предыдущем периоде: {count}.").format(count=report.previous.received))
        if report.current.overdue_now:
            lines += ["", *_overdue(report, _)]
        return lines
    sections = [s for s in _body(report, _) if s]
    while True:
        lines = list(head)
        for section in sections:
            lines += ["", *section]
        if limit is None or len("\n".join(lines)) <= limit or len(sections) <= 1:
            break
        sections.pop()  # the least important section goes; the key figures stay
    text = "\n".join(lines)
    if limit is not None and len(text) > limit:  # a pathological section: cut at a line
        lines = text[:limit - 2].rsplit("\n", 1)[0].split("\n") + ["…"]
    return lines


def summary_html(report: Report, _: Gettext, *, heading: str | None = None) -> str:
    """Telegram HTML, at most 4096 characters; `heading` (HTML) goes above the title."""
    return "\n".join(_lines(report, _, TEXT_LIMIT, heading))


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def summary_lines(report: Report, _: Gettext, *, heading: str | None = None) -> list[str]:
    """The same summary as plain text lines, for the terminal and e-mail."""
    return [plain(line) for line in _lines(report, _, None, heading)]


def album_caption(report: Report, _: Gettext) -> str:
    return _("Графики к отчёту за {period}: обращения по дням, ответы в срок, удовлетворённость").format(
        period=period_text(report.period))


def document_caption(report: Report, _: Gettext) -> str:
    return _("Таблица отчёта за {period}: сводка, обращения, рейтинг организаций, просроченные").format(
        period=period_text(report.period))
