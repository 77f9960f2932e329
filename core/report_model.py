"""What a report is made of: plain data, computed by `core.reports`, shown by the bot, the CLI,
the admin and the digests (`core.report_text`, `core.report_charts`, `core.report_xlsx`).

Dates are local dates in the district's time zone; a period is inclusive of both ends.
Shares are fractions 0..1 (None when there is nothing to divide by); durations are hours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive
    tz: ZoneInfo

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=self.tz)

    @property
    def end_utc(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=self.tz)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.tz)


@dataclass(frozen=True, slots=True)
class Scope:
    """What the report covers; None everywhere is the whole centre."""

    topic_id: int | None = None
    settlement_id: int | None = None
    organisation_id: int | None = None
    channel: str | None = None
    label: str = ""  # e.g. «Дороги», «Новодугино», «ПОС»; empty for the whole centre
    # Several channels at once: an officer of both ПОС and ИМ (core.reports.scope_for). `channel`,
    # when set, is the narrower choice within them.
    channels: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        return self.topic_id is None and self.settlement_id is None and self.organisation_id is None \
            and self.channel is None and not self.channels


@dataclass(frozen=True, slots=True)
class Count:
    key: str  # topic code, channel code, settlement or organisation id as text
    label: str
    count: int
    previous: int = 0


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class OverdueItem:
    item_id: int
    number: str
    organisation: str  # «не назначено» when nobody is assigned
    topic: str
    due_at: datetime
    overdue_days: int  # working days past the deadline
    status: str


@dataclass(frozen=True, slots=True)
class Figures:
    """The key figures of one period (the current one or the previous one)."""

    received: int
    by_topic: list[Count]
    by_channel: list[Count]
    by_settlement: list[Count]
    answered: int  # answered within the period
    answered_on_time: int
    on_time_share: float | None
    overdue_now: int  # open items past their answer deadline at the report's moment
    first_reaction: Durations
    answer_time: Durations
    surveys_answered: int
    satisfied_share: float | None  # «да» among surveys answered in the period
    average_score: float | None  # 1..5
    repeat_share: float | None
    redirected_share: float | None
    reclassified_share: float | None


@dataclass(frozen=True, slots=True)
class Rating:
    """One recipient organisation's standing for the period (docs/reports.md has the formula)."""

    organisation_id: int
    name: str
    items: int
    answered: int
    on_time_share: float | None
    median_answer_hours: float | None
    satisfied_share: float | None
    average_score: float | None
    returns: int  # answers returned for rework
    reopened_share: float | None
    score: float | None  # 0..100; None below the minimum number of items
    rank: int | None  # 1 is best; None when not ranked
    overdue: int = 0  # its items due within the period and still unanswered at the report's moment


@dataclass(frozen=True, slots=True)
class Problem:
    """Many reports of one trouble: the same theme in the same settlement (and street)."""

    theme: str
    settlement: str
    street: str | None
    count: int
    previous: int
    numbers: list[str]  # a few item numbers, newest first

    @property
    def trend(self) -> str:
        """'new', 'up', 'down' or 'same' against the previous period."""
        if self.previous == 0:
            return "new"
        if self.count > self.previous:
            return "up"
        return "down" if self.count < self.previous else "same"


@dataclass(frozen=True, slots=True)
class DailyTopics:
    day: date
    counts: dict[str, int]  # topic code → items received that day


@dataclass(frozen=True, slots=True)
class SatisfactionPoint:
    start: date  # the first day of the bucket (a day, or a week for long periods)
    answered: int
    satisfied_share: float | None
    average_score: float | None


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One line of the spreadsheet's items sheet."""

    number: str
    received_at: datetime
    kind: str
    channel: str
    status: str
    topic: str
    theme: str
    settlement: str
    address: str
    organisation: str
    due_at: datetime | None
    answered_at: datetime | None
    on_time: bool | None
    resolved: str | None  # yes, partly, no
    score: int | None


@dataclass(slots=True)
class Report:
    period: Period
    scope: Scope
    generated_at: datetime
    current: Figures
    previous: Figures
    daily: list[DailyTopics]
    topic_labels: dict[str, str]  # topic code → name, in the chart's order
    satisfaction: list[SatisfactionPoint]
    ratings: dict[str, list[Rating]]  # 'all', 'pos', 'im' → ranked first, then the unranked
    problems: list[Problem]
    overdue: list[OverdueItem]  # every overdue item in scope, worst first
    items: list[ItemRow] = field(default_factory=list)  # filled only when a spreadsheet is asked for
    min_rated: int = 5  # items an organisation needs in the period to be ranked
