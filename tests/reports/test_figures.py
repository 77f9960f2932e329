"""Every figure of the November report on the hand-made district (tests/reports/hand.py), against
numbers worked out by hand in the comments."""
from __future__ import annotations

from datetime import date

import pytest

from core.report_model import Durations, Period, Scope
from core.reports import build_report, narrow_scope, scope_for
from db.models import Staff
from tests.reports.hand import MSK, NOVEMBER, NOW, Hand, build, msk


@pytest.fixture
async def hand(sessionmaker) -> Hand:
    return await build(sessionmaker)


async def report(sessionmaker, scope: Scope | None = None, period: Period = NOVEMBER, **kwargs):
    async with sessionmaker() as session:
        return await build_report(session, period, scope or Scope(), now=NOW, **kwargs)


def counts(rows) -> dict[str, tuple[int, int]]:
    return {c.label: (c.count, c.previous) for c in rows}


async def test_key_figures_of_the_period(sessionmaker, hand: Hand) -> None:
    r = await report(sessionmaker)
    f = r.current
    # Received 1–30 November (Moscow): c10 (00:30 on the 1st = 31.10 21:30 UTC), c1 … c9 (23:30 on the
    # 30th), c11 (withdrawn, but registered), x2 = 12. Not: the drafts d1 and d2 (withdrawn before
    # confirming), x1 (00:30 on 1 December), p*.
    assert f.received == 12
    # housing: c10 c1 c2 c7 c8 x2 = 6 (October: p6 p1 p5 = 3); roads: c3 c4 c11 c9 = 4 (p7 p2 p3 = 3);
    # education: c5 c6 = 2 (p4 = 1).
    assert counts(f.by_topic) == {"ЖКХ": (6, 3), "Дороги": (4, 3), "Образование": (2, 1)}
    assert [c.key for c in f.by_topic] == ["housing", "roads", "education"]
    # bot c1 c5 c7 c8 x2 (p1 p7 p4); im c3 c4 c11 (p3); pos c2 c6 (p2 p5); e-mail c10; phone c9; visit — (p6).
    assert counts(f.by_channel) == {"бот": (5, 3), "«Инцидент менеджмент»": (3, 1), "ПОС": (2, 2),
                                    "e-mail": (1, 0), "телефон": (1, 0), "личный приём": (0, 1)}
    assert counts(f.by_settlement) == {"Новодугино": (9, 5), "Высокое": (3, 2)}
    # Answered in November: c10 c1 c2 c3 c4 c5 c7, and p7 p4 p5 received in October = 10;
    # late: c2 (16.11 > 14.11) and p7 (03.11 > 15.10) → 8 on time.
    assert (f.answered, f.answered_on_time, f.on_time_share) == (10, 8, 0.8)
    # Overdue on 10.12 10:00: p6 (due 31.10) and c6 (due 25.11); x2's clock was paused before its deadline.
    assert f.overdue_now == 2
    # First reaction of November's items, hours: c3 1, c4 1, c7 1, x2 1, c1 2, c2 4, c5 24, c6 24, c10 33
    # (c8, c9 none yet) → median the 5th = 2; p90 at rank 0.9 × 8 = 7.2: 24 + 0.2 × (33 − 24) = 25.8.
    assert f.first_reaction == Durations(9, pytest.approx(2.0), pytest.approx(25.8))
    # Answer hours: c4 6, c3 20, c10 36, c1 48, c7 120, c5 192, c2 288, p4 528, p5 672, p7 696 →
    # median (120 + 192) / 2 = 156; p90 at rank 8.1: 672 + 0.1 × 24 = 674.4.
    assert f.answer_time == Durations(10, pytest.approx(156.0), pytest.approx(674.4))
    # Surveys answered in November: c1 yes 5, p4 no 1, c2 no 2, c5 partly 3, c7 yes 4 (x1's unanswered).
    assert (f.surveys_answered, f.satisfied_share, f.average_score) == (5, 0.4, 3.0)
    # Repeat c4; redirected c3 (c1's first routing is not a redirect); reclassified c7 — each 1 of 12.
    assert f.repeat_share == f.redirected_share == f.reclassified_share == pytest.approx(1 / 12)


async def test_the_previous_period(sessionmaker, hand: Hand) -> None:
    p = (await report(sessionmaker)).previous
    # 2–31 October: p6 (00:30 on the 2nd), p1 p7 p2 p3 p4 p5 = 7; p0 (23:30 on 1 October) is outside.
    assert p.received == 7
    # Answered in October: p0 34.5 h (received before the period), p1 72, p2 360 (late), p3 10.
    assert (p.answered, p.answered_on_time, p.on_time_share) == (4, 3, 0.75)
    # median (34.5 + 72) / 2 = 53.25; p90 at rank 2.7: 72 + 0.7 × (360 − 72) = 273.6.
    assert p.answer_time == Durations(4, pytest.approx(53.25), pytest.approx(273.6))
    # First reactions of October's items: p1 1, p3 1, p5 2, p2 4, p4 24, p7 24 → median 3, p90 24.
    assert p.first_reaction == Durations(6, pytest.approx(3.0), pytest.approx(24.0))
    assert (p.surveys_answered, p.satisfied_share, p.average_score) == (1, 1.0, 5.0)
    assert (p.repeat_share, p.redirected_share, p.reclassified_share) == (0.0, 0.0, 0.0)
    # Overdue at the end of October: p6 (still waiting, due 31.10 23:00) and p7 (answered 03.11, due 15.10).
    assert p.overdue_now == 2


async def test_overdue_list_worst_first_in_working_days(sessionmaker, hand: Hand) -> None:
    overdue = (await report(sessionmaker)).overdue
    assert [o.item_id for o in overdue] == [hand.ids["p6"], hand.ids["c6"]]
    p6, c6 = overdue
    # p6 due Saturday 31.10: November has 20 working days (4.11 a holiday), 1–10 December 8 → 28.
    assert (p6.organisation, p6.topic, p6.status, p6.overdue_days) == ("не назначено", "ЖКХ", "registered", 28)
    # c6 due Wednesday 25.11: 26, 27, 30 November and 1–4, 7–10 December → 11.
    assert (c6.organisation, c6.topic, c6.overdue_days, c6.due_at) == ("Отдел образования", "Образование", 11,
                                                                        msk(11, 25, 12))


async def test_daily_counts_and_time_zone_edges(sessionmaker, hand: Hand) -> None:
    r = await report(sessionmaker)
    assert [d.day for d in r.daily] == [date(2026, 11, n) for n in range(1, 31)]
    by_day = {d.day.day: d.counts for d in r.daily if d.counts}
    assert by_day == {
        1: {"housing": 1},  # c10 at 00:30 Moscow (31.10 21:30 UTC)
        3: {"housing": 1}, 4: {"housing": 1}, 5: {"roads": 1}, 10: {"roads": 1}, 12: {"education": 1},
        15: {"education": 1}, 18: {"roads": 1}, 20: {"housing": 1}, 27: {"housing": 1},
        28: {"housing": 1},  # c8 at 23:30 Moscow (20:30 UTC) stays on the 28th
        30: {"roads": 1},  # c9 at 23:30 on the last day
    }
    assert sum(sum(d.counts.values()) for d in r.daily) == r.current.received
    assert list(r.topic_labels)[:3] == ["health", "education", "social"]  # the decree's order


async def test_satisfaction_by_day(sessionmaker, hand: Hand) -> None:
    points = {p.start.day: (p.answered, p.satisfied_share, p.average_score)
              for p in (await report(sessionmaker)).satisfaction}
    assert len(points) == 30
    assert {d: v for d, v in points.items() if v[0]} == {
        6: (1, 1.0, 5.0), 12: (1, 0.0, 1.0), 17: (1, 0.0, 2.0), 21: (1, 0.0, 3.0), 26: (1, 1.0, 4.0)}
    assert points[7] == (0, None, None)


async def test_satisfaction_by_week_beyond_31_days(sessionmaker, hand: Hand) -> None:
    autumn = Period(date(2026, 10, 2), date(2026, 11, 30), MSK)  # 60 days → weeks from 2 October
    points = (await report(sessionmaker, period=autumn)).satisfaction
    assert [p.start for p in points][:3] == [date(2026, 10, 2), date(2026, 10, 9), date(2026, 10, 16)]
    assert len(points) == 9  # 60 days: 8 full weeks and 4 days
    # 6.10 (p1) in the first week; 26.11 (c7) in the week from 20.11.
    assert (points[0].answered, points[0].satisfied_share) == (1, 1.0)
    assert sum(p.answered for p in points) == 6


async def test_item_rows_for_the_spreadsheet(sessionmaker, hand: Hand) -> None:
    r = await report(sessionmaker, with_items=True)
    assert [row.number for row in r.items] == [
        f"2026-{hand.ids[n]:06d}" for n in ("c10", "c1", "c2", "c3", "c4", "c5", "c6", "c11", "c7", "x2", "c8",
                                            "c9")]
    c2 = next(row for row in r.items if row.number == f"2026-{hand.ids['c2']:06d}")
    assert (c2.channel, c2.status, c2.topic, c2.settlement, c2.organisation, c2.on_time, c2.resolved, c2.score) == (
        "pos", "closed", "ЖКХ", "Новодугино", "Отдел ЖКХ", False, "no", 2)
    assert (await report(sessionmaker)).items == []


async def test_a_recipient_sees_only_its_organisation(sessionmaker, hand: Hand) -> None:
    async with sessionmaker() as session:
        recipient = await session.get(Staff, await _staff_id(session, 9002))
        allowed = scope_for(recipient)
    assert allowed == Scope(organisation_id=hand.org_b)
    # A forged request for organisation A is narrowed to B.
    scope = narrow_scope(allowed, Scope(organisation_id=hand.org_a))
    r = await report(sessionmaker, scope)
    assert r.scope.organisation_id == hand.org_b and r.scope.label == "Отдел образования"
    # B's items received in November: c5 c6 c11; answered: c5, p4, p7; overdue: c6; October: p7 p3 p4.
    assert (r.current.received, r.current.answered, r.previous.received) == (3, 3, 3)
    assert [o.item_id for o in r.overdue] == [hand.ids["c6"]]
    assert [x.organisation_id for x in r.ratings["all"]] == [hand.org_b]
    # Surveys count for the organisation that answered: p4 no 1, c5 partly 3.
    assert (r.current.surveys_answered, r.current.average_score) == (2, 2.0)
    r = await report(sessionmaker, scope, with_items=True)
    assert {row.organisation for row in r.items} == {"Отдел образования"}


async def _staff_id(session, telegram_id: int) -> int:
    from sqlalchemy import select

    return await session.scalar(select(Staff.id).where(Staff.telegram_id == telegram_id))


async def test_scope_filters_apply_to_every_figure(sessionmaker, hand: Hand) -> None:
    roads = await report(sessionmaker, Scope(topic_id=hand.topics["roads"]))
    # c3 c4 c11 c9; answered c3 c4 p7; surveys: none on roads items.
    assert (roads.current.received, roads.current.answered, roads.current.surveys_answered) == (4, 3, 0)
    assert roads.scope.label == "Дороги" and roads.overdue == []
    pos = await report(sessionmaker, Scope(channel="pos"))
    # c2 c6; answered c2, p5; overdue c6; survey c2 no 2.
    assert (pos.current.received, pos.current.answered, pos.current.overdue_now) == (2, 2, 1)
    assert (pos.current.surveys_answered, pos.current.satisfied_share) == (1, 0.0)
    vysokoe = await report(sessionmaker, Scope(settlement_id=hand.vysokoe))
    assert (vysokoe.current.received, vysokoe.previous.received) == (3, 2)
    both = await report(sessionmaker, Scope(channels=("pos", "im")))
    assert both.current.received == 5


async def test_an_empty_period(sessionmaker, hand: Hand) -> None:
    august = Period(date(2026, 8, 1), date(2026, 8, 31), MSK)
    r = await report(sessionmaker, period=august)
    f = r.current
    assert (f.received, f.answered, f.surveys_answered) == (0, 0, 0)
    assert f.by_topic == f.by_channel == f.by_settlement == []
    assert (f.on_time_share, f.satisfied_share, f.average_score, f.repeat_share, f.redirected_share) == (
        None, None, None, None, None)
    assert f.first_reaction == f.answer_time == Durations(0, None, None)
    assert len(r.daily) == 31 and all(not d.counts for d in r.daily)
    assert all(p.answered == 0 for p in r.satisfaction)
    assert r.problems == [] and r.ratings == {"all": [], "pos": [], "im": []}
    # Overdue is as of now, whatever the period.
    assert f.overdue_now == 2 and len(r.overdue) == 2


async def test_a_period_with_one_item(sessionmaker, hand: Hand) -> None:
    r = await report(sessionmaker, period=Period(date(2026, 11, 3), date(2026, 11, 3), MSK))
    f = r.current
    # c1 alone: received, reacted in 2 h (its answer came on the 5th); the previous day (2.11) had none.
    # The one answer of the day is p7's, late.
    assert (f.received, f.answered, f.on_time_share, r.previous.received) == (1, 1, 0.0, 0)
    assert f.first_reaction == Durations(1, pytest.approx(2.0), pytest.approx(2.0))
    assert counts(f.by_topic) == {"ЖКХ": (1, 0)}
    assert [d.counts for d in r.daily] == [{"housing": 1}]


async def test_english_labels(sessionmaker, hand: Hand) -> None:
    from core.i18n import gettext_for

    r = await report(sessionmaker, _=gettext_for("en"))
    assert r.current.by_topic[0].label == "Housing and utilities"
