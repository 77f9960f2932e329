"""Ratings of recipient organisations for a period: per channel (all, ПОС, ИМ), with one combined
score and a minimum number of items to be ranked (docs/reports.md, «Рейтинг исполнителей»).

The score (0..100) is a weighted mean of five parts, each 0..1 and higher is better:

* timeliness — answers on time / (answers + its items due in the period and still unanswered);
* speed — 1 − the median share of the allotted time an answer took (answer time ÷ (deadline −
  receipt), capped at 1): an answer on the day of receipt of a 30-day item is near 1, one at the
  deadline 0; comparable across channels whose deadlines differ (8 working hours against 30 days);
* satisfaction — the mean of the share answering «да» and the average score scaled to 0..1;
* rework — 1 − answers returned for rework per answer (capped);
* reopening — 1 − items reopened per answer (capped).

A part with nothing to measure (no answers, no surveys) is left out and the weights of the others
are scaled up. An organisation with fewer than `min_rated` items in the period gets its figures
but no score and no rank, so one quick answer does not top the list.
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.report_model import Period, Rating, Scope
from core.report_sql import fetch, lit, scope_filters
from db.models import Item, ItemEvent

if TYPE_CHECKING:
    from core.reports import SurveyGroup

MIN_RATED = 5
WEIGHTS = {"timeliness": 0.35, "speed": 0.15, "satisfaction": 0.25, "rework": 0.15, "reopening": 0.10}
# Rating lists and the channel each covers (None: every channel).
CHANNELS: dict[str, str | None] = {"all": None, "pos": "pos", "im": "im"}

Key = tuple[int, str]  # organisation id, channel


@dataclass(frozen=True, slots=True)
class PeriodEvents:
    returns: Counter[Key]  # answers returned for rework in the period
    reopened: Counter[Key]  # items reopened in the period (each counted once)


async def period_events(session: AsyncSession, period: Period, scope: Scope) -> PeriodEvents:
    """Returns for rework and reopenings that happened in the period, by the item's organisation.
    Both read a small partial index on `item_events.at` (migration 0004)."""

    async def count(action: str, value: str, what: object) -> Counter[Key]:
        statement = (
            select(Item.organisation_id, Item.channel, what)
            .select_from(ItemEvent).join(Item, Item.id == ItemEvent.item_id)
            .where(ItemEvent.action == lit(action), ItemEvent.new_value == lit(value),
                   ItemEvent.at >= period.start_utc, ItemEvent.at < period.end_utc,
                   Item.organisation_id.is_not(None), *scope_filters(scope))
            .group_by(Item.organisation_id, Item.channel))
        return Counter({(org, channel): n for org, channel, n in await fetch(session, statement)})

    return PeriodEvents(
        returns=await count("review", "returned", func.count()),
        reopened=await count("status", "reopened", func.count(distinct(ItemEvent.item_id))),
    )


@dataclass(slots=True)
class AnswerStats:
    """The answers one organisation gave on one channel in the period."""

    answered: int = 0
    earlier: int = 0  # to items received before the period
    on_time: int = 0
    hours: list[float] = field(default_factory=list)
    used: list[float] = field(default_factory=list)  # share of the allotted time each answer took

    def add(self, hours: float, allotted: float | None, on_time: bool, earlier: bool) -> None:
        self.answered += 1
        self.earlier += earlier
        self.on_time += on_time
        self.hours.append(hours)
        if allotted:
            self.used.append(hours / allotted if hours < allotted else 1.0)


@dataclass
class RatingInputs:
    received: Mapping[Key, int]  # items received in the period, by their current organisation
    answers: Mapping[Key, AnswerStats]  # answers given in the period
    surveys: Iterable[SurveyGroup]  # surveys answered in the period (the organisation that answered)
    returns: Mapping[Key, int]
    reopened: Mapping[Key, int]
    missed: Mapping[Key, int]  # due in the period, still unanswered


@dataclass
class _Stats:
    received: int = 0
    answered: int = 0
    answered_earlier_items: int = 0  # answers to items received before the period
    on_time: int = 0
    hours: list[float] = field(default_factory=list)
    used: list[float] = field(default_factory=list)  # share of the allotted time each answer took
    surveys: int = 0
    satisfied: int = 0
    score_sum: int = 0
    scored: int = 0
    returns: int = 0
    reopened: int = 0
    missed: int = 0

    def add(self, other: _Stats) -> None:
        for name in ("received", "answered", "answered_earlier_items", "on_time", "surveys", "satisfied",
                     "score_sum", "scored", "returns", "reopened", "missed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.hours += other.hours
        self.used += other.used

    @property
    def items(self) -> int:
        """Items it had to deal with in the period: received then, or answered then."""
        return self.received + self.answered_earlier_items


def _collect(inputs: RatingInputs) -> dict[Key, _Stats]:
    stats: dict[Key, _Stats] = {}

    def of(key: Key) -> _Stats:
        return stats.setdefault(key, _Stats())

    for key, n in inputs.received.items():
        of(key).received += n
    for key, a in inputs.answers.items():
        s = of(key)
        s.answered += a.answered
        s.answered_earlier_items += a.earlier
        s.on_time += a.on_time
        s.hours += a.hours
        s.used += a.used
    for group in inputs.surveys:
        if group.organisation_id is None:
            continue
        s = of((group.organisation_id, group.channel))
        s.surveys += group.count
        s.satisfied += group.count if group.resolved == "yes" else 0
        s.score_sum += group.score_sum
        s.scored += group.scored
    for key, n in inputs.returns.items():
        of(key).returns += n
    for key, n in inputs.reopened.items():
        of(key).reopened += n
    for key, n in inputs.missed.items():
        of(key).missed += n
    return stats


def parts(s: _Stats) -> dict[str, float | None]:
    """The five parts of the score, each 0..1 (None: nothing to measure)."""
    satisfaction: list[float] = []
    if s.surveys:
        satisfaction.append(s.satisfied / s.surveys)
    if s.scored:
        satisfaction.append((s.score_sum / s.scored - 1) / 4)
    due = s.answered + s.missed
    return {
        "timeliness": s.on_time / due if due else None,
        "speed": 1 - statistics.median(s.used) if s.used else None,
        "satisfaction": sum(satisfaction) / len(satisfaction) if satisfaction else None,
        "rework": 1 - min(1.0, s.returns / s.answered) if s.answered else None,
        "reopening": 1 - min(1.0, s.reopened / s.answered) if s.answered else None,
    }


def combined_score(values: Mapping[str, float | None]) -> float | None:
    present = {name: value for name, value in values.items() if value is not None}
    if not present:
        return None
    weight = sum(WEIGHTS[name] for name in present)
    return round(100 * sum(WEIGHTS[name] * value for name, value in present.items()) / weight, 1)


def _rating(organisation_id: int, name: str, s: _Stats, min_rated: int) -> Rating:
    score = combined_score(parts(s)) if s.items >= min_rated else None
    return Rating(
        organisation_id=organisation_id, name=name, items=s.items, answered=s.answered,
        on_time_share=s.on_time / s.answered if s.answered else None,
        median_answer_hours=statistics.median(s.hours) if s.hours else None,
        satisfied_share=s.satisfied / s.surveys if s.surveys else None,
        average_score=s.score_sum / s.scored if s.scored else None,
        returns=s.returns,
        reopened_share=min(1.0, s.reopened / s.answered) if s.answered else None,
        score=score, rank=None, overdue=s.missed,
    )


def rank(ratings: list[Rating]) -> list[Rating]:
    """Ranked first (best score first; equal scores share a rank), then the unranked by items."""
    scored = sorted((r for r in ratings if r.score is not None), key=lambda r: (-(r.score or 0), -r.items, r.name))
    ranked: list[Rating] = []
    for position, r in enumerate(scored, start=1):
        same = ranked and ranked[-1].score == r.score
        ranked.append(replace(r, rank=ranked[-1].rank if same else position))
    rest = sorted((r for r in ratings if r.score is None), key=lambda r: (-r.items, r.name))
    return ranked + rest


def rate(inputs: RatingInputs, names: Mapping[int, str], *, min_rated: int = MIN_RATED) -> dict[str, list[Rating]]:
    """'all', 'pos', 'im' → the organisations' ratings, ranked first."""
    stats = _collect(inputs)
    result: dict[str, list[Rating]] = {}
    for list_name, channel in CHANNELS.items():
        merged: dict[int, _Stats] = {}
        for (organisation_id, item_channel), s in stats.items():
            if channel is None or item_channel == channel:
                merged.setdefault(organisation_id, _Stats()).add(s)
        result[list_name] = rank([_rating(org, names.get(org, "?"), s, min_rated) for org, s in merged.items()])
    return result
