"""Reports made by hand, for the renderers' tests: a busy month, an empty one, a huge one."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.report_model import (
    Count,
    DailyTopics,
    Durations,
    Figures,
    ItemRow,
    OverdueItem,
    Period,
    Problem,
    Rating,
    Report,
    SatisfactionPoint,
    Scope,
)

MSK = ZoneInfo("Europe/Moscow")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), MSK)
GENERATED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
TOPICS = {"housing": "ЖКХ", "roads": "Дороги", "education": "Образование", "other": "Прочее"}
# An organisation whose name would break Telegram HTML if it were not escaped.
TRICKY = "МУП <b>«Водоканал»</b> & Co"


def figures(received: int, *, answered: int, on_time: int, overdue: int, surveys: int,
            satisfied: float | None, score: float | None, scale: float = 1.0) -> Figures:
    return Figures(
        received=received,
        by_topic=[Count("housing", "ЖКХ", round(received * 0.5), round(received * 0.4)),
                  Count("roads", "Дороги", round(received * 0.3), round(received * 0.35)),
                  Count("education", "Образование", received - round(received * 0.5) - round(received * 0.3), 3)],
        by_channel=[Count("bot", "бот", round(received * 0.6), 50), Count("pos", "ПОС", round(received * 0.3), 30),
                    Count("im", "«Инцидент менеджмент»", received - round(received * 0.6) - round(received * 0.3), 8)],
        by_settlement=[Count("1", "Новодугино", round(received * 0.7), 60),
                       Count("2", "Высокое", received - round(received * 0.7), 20)],
        answered=answered, answered_on_time=on_time, on_time_share=on_time / answered if answered else None,
        overdue_now=overdue,
        first_reaction=Durations(answered, 3.5 * scale, 20.0 * scale),
        answer_time=Durations(answered, 150.0 * scale, 600.0 * scale),
        surveys_answered=surveys, satisfied_share=satisfied, average_score=score,
        repeat_share=0.05, redirected_share=0.08, reclassified_share=0.04)


def empty_figures(overdue: int = 0) -> Figures:
    none = Durations(0, None, None)
    return Figures(0, [], [], [], 0, 0, None, overdue, none, none, 0, None, None, None, None, None)


def ratings() -> list[Rating]:
    return [
        Rating(1, "Отдел образования", 12, 12, 1.0, 100.0, 0.9, 4.6, 0, 0.0, 92.5, 1),
        Rating(2, "Отдел ЖКХ и благоустройства", 60, 50, 0.8, 180.0, 0.7, 4.0, 3, 0.05, 71.0, 2),
        Rating(3, TRICKY, 20, 15, 0.6, 400.0, 0.5, 3.2, 2, 0.1, 48.0, 3),
        Rating(4, "Общий отдел администрации", 2, 1, None, None, None, None, 0, None, None, None),
    ]


def overdue_items(count: int = 7) -> list[OverdueItem]:
    orgs = [TRICKY, "Отдел ЖКХ и благоустройства", "не назначено"]
    return [OverdueItem(100 + n, f"2026-{100 + n:06d}", orgs[n % 3], "ЖКХ",
                        datetime(2026, 11, 20 - n, 15, 0, tzinfo=UTC), 10 - n, "in_work") for n in range(count)]


def item_rows(count: int, period: Period = NOVEMBER) -> list[ItemRow]:
    rows = []
    for n in range(count):
        received = datetime.combine(period.start, datetime.min.time(), tzinfo=period.tz) + timedelta(
            hours=7 * n % (24 * period.days))
        answered = received + timedelta(days=3) if n % 3 else None
        rows.append(ItemRow(
            number=f"2026-{n + 1:06d}", received_at=received.astimezone(UTC),
            kind="appeal" if n % 2 else "message", channel=("bot", "pos", "im")[n % 3], status="delivered",
            topic=list(TOPICS.values())[n % 4], theme="Ямы на дороге", settlement="Новодугино",
            address=f"ул. Ленина, {n % 40 + 1}", organisation=TRICKY if n % 5 == 0 else "Отдел ЖКХ и благоустройства",
            due_at=(received + timedelta(days=30)).astimezone(UTC),
            answered_at=answered.astimezone(UTC) if answered else None,
            on_time=True if answered else None, resolved="yes" if answered else None,
            score=(n % 5) + 1 if answered else None))
    return rows


def sample_report(*, items: int = 40, period: Period = NOVEMBER, scope: Scope | None = None) -> Report:
    daily = []
    for n in range(period.days):
        day = period.start + timedelta(days=n)
        daily.append(DailyTopics(day, {"housing": (n * 7) % 5, "roads": (n * 3) % 4, "education": n % 2,
                                       "other": 1 if n % 6 == 0 else 0}))
    satisfaction = [SatisfactionPoint(period.start + timedelta(days=7 * w), 5 + w, 0.6 + 0.05 * w, 3.8 + 0.1 * w)
                    for w in range(max(1, period.days // 7))]
    return Report(
        period=period, scope=scope or Scope(), generated_at=GENERATED,
        current=figures(120, answered=95, on_time=76, overdue=7, surveys=40, satisfied=0.72, score=4.1),
        previous=figures(104, answered=90, on_time=63, overdue=9, surveys=35, satisfied=0.75, score=3.9, scale=1.2),
        daily=daily, topic_labels=dict(TOPICS), satisfaction=satisfaction,
        ratings={"all": ratings(), "pos": ratings()[:2], "im": []},
        problems=[Problem("Ямы на дороге", "Новодугино", "ул. Ленина", 6, 2, ["2026-000120", "2026-000101"]),
                  Problem("Нет холодной воды", "Высокое", None, 4, 0, ["2026-000099"])],
        overdue=overdue_items(), items=item_rows(items, period))


def empty_report(*, overdue: int = 0, previous_received: int = 0) -> Report:
    report = sample_report(items=0)
    previous = replace(empty_figures(), received=previous_received)
    return replace(report, current=empty_figures(overdue), previous=previous,
                   daily=[DailyTopics(d.day, {}) for d in report.daily], satisfaction=[],
                   ratings={"all": [], "pos": [], "im": []}, problems=[], overdue=overdue_items(overdue))
