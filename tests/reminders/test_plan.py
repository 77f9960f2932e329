"""The reminder plan of one answer term, on the real production calendar (pure functions)."""
from __future__ import annotations

from datetime import datetime

from core.calendar import WorkingCalendar
from core.reminders import (
    Step,
    compute_plan,
    first_overdue,
    next_morning,
    office_time_between,
)
from tests.reminders.world import MSK, msk

CAL = WorkingCalendar(MSK)
MOVING = WorkingCalendar(MSK, move_to_working_day=True)


def local(plan: list[Step]) -> list[tuple[str, datetime]]:
    return [(s.kind, s.due_at.astimezone(MSK).replace(tzinfo=None)) for s in plan]


def test_59fz_appeal_across_the_may_holidays() -> None:
    # Registered on Thursday 30.04 at 15:00; 30 calendar days end on Saturday 30.05 at 15:00.
    start = msk(2026, 4, 30, 15, 0)
    due = CAL.add(start, "30d")
    assert due == msk(2026, 5, 30, 15, 0)
    # 19 working days and 3 hours of office time (1–3 and 9–11 May are days off).
    assert office_time_between(CAL, start, due).total_seconds() == (19 * 9 + 3) * 3600
    assert local(compute_plan(start=start, due=due, now=start, calendar=CAL)) == [
        ("half", datetime(2026, 5, 18, 12, 0)),  # 87 office hours in
        ("day_before", datetime(2026, 5, 29, 9, 0)),  # Friday: the Saturday is not a working day
        # no due_morning: the deadline's day is a Saturday
        ("overdue_daily", datetime(2026, 6, 1, 9, 0)),  # nobody reads alerts on a Saturday afternoon
    ]


def test_59fz_appeal_moved_to_a_working_day() -> None:
    start = msk(2026, 4, 30, 15, 0)
    due = MOVING.add(start, "30d")
    assert due == msk(2026, 6, 1, 15, 0)
    assert local(compute_plan(start=start, due=due, now=start, calendar=MOVING)) == [
        ("half", datetime(2026, 5, 18, 15, 0)),
        ("day_before", datetime(2026, 5, 29, 9, 0)),
        ("due_morning", datetime(2026, 6, 1, 9, 0)),
        ("overdue_daily", datetime(2026, 6, 1, 15, 0)),  # inside office hours: at the deadline itself
    ]


def test_eight_working_hour_incident_across_a_weekend_and_the_victory_day_holidays() -> None:
    # Friday 08.05 at 16:00: two office hours that day, then 9–11 May off, six hours on Tuesday 12.05.
    start = msk(2026, 5, 8, 16, 0)
    due = CAL.add(start, "8wh")
    assert due == msk(2026, 5, 12, 15, 0)
    assert local(compute_plan(start=start, due=due, now=start, calendar=CAL)) == [
        # day_before would be Friday 09:00 — already past
        ("due_morning", datetime(2026, 5, 12, 9, 0)),
        ("half", datetime(2026, 5, 12, 11, 0)),  # four office hours in
        ("overdue_daily", datetime(2026, 5, 12, 15, 0)),
    ]


def test_steps_in_the_past_are_left_out_and_a_late_plan_starts_overdue_next_morning() -> None:
    start = msk(2026, 4, 30, 15, 0)
    due = MOVING.add(start, "30d")
    later = msk(2026, 5, 29, 12, 0)  # e.g. returned for rework: half and day_before have passed
    assert local(compute_plan(start=start, due=due, now=later, calendar=MOVING)) == [
        ("due_morning", datetime(2026, 6, 1, 9, 0)),
        ("overdue_daily", datetime(2026, 6, 1, 15, 0)),
    ]
    overdue_now = msk(2026, 6, 2, 17, 30)
    assert local(compute_plan(start=start, due=due, now=overdue_now, calendar=MOVING)) == [
        ("overdue_daily", datetime(2026, 6, 3, 9, 0)),
    ]


def test_steps_closer_than_an_hour_keep_the_later_one() -> None:
    # 2 working hours from Tuesday 12.05 08:30 (counted from 09:00): due 11:00; half at 10:00.
    start = msk(2026, 5, 12, 8, 30)
    due = CAL.add(start, "2wh")
    assert local(compute_plan(start=start, due=due, now=start, calendar=CAL)) == [
        ("due_morning", datetime(2026, 5, 12, 9, 0)),  # an hour before half: both stay
        ("half", datetime(2026, 5, 12, 10, 0)),
        ("overdue_daily", datetime(2026, 5, 12, 11, 0)),
    ]
    due = CAL.add(start, "1wh")  # 10:00; half at 09:30 is within the hour of due_morning 09:00
    assert local(compute_plan(start=start, due=due, now=start, calendar=CAL)) == [
        ("half", datetime(2026, 5, 12, 9, 30)),
        ("overdue_daily", datetime(2026, 5, 12, 10, 0)),
    ]


def test_the_plan_option_picks_the_steps() -> None:
    start = msk(2026, 4, 30, 15, 0)
    due = MOVING.add(start, "30d")
    plan = compute_plan(start=start, due=due, now=start, calendar=MOVING, steps=("day_before", "overdue_daily"))
    assert [s.kind for s in plan] == ["day_before", "overdue_daily"]
    assert compute_plan(start=start, due=due, now=start, calendar=MOVING, steps=()) == []


def test_office_opening_helpers() -> None:
    # Friday evening → the next opening is Tuesday 12.05 (9–11 May are days off).
    assert next_morning(CAL, msk(2026, 5, 8, 18, 30)) == msk(2026, 5, 12, 9, 0)
    assert next_morning(CAL, msk(2026, 5, 12, 8, 0)) == msk(2026, 5, 12, 9, 0)
    assert next_morning(CAL, msk(2026, 5, 12, 9, 0)) == msk(2026, 5, 13, 9, 0)
    # A deadline at closing time is inside office hours; one at 23:00 is told the next morning.
    assert first_overdue(CAL, msk(2026, 5, 12, 18, 0), msk(2026, 5, 1)) == msk(2026, 5, 12, 18, 0)
    assert first_overdue(CAL, msk(2026, 5, 12, 23, 0), msk(2026, 5, 1)) == msk(2026, 5, 13, 9, 0)
