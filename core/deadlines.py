"""Deadlines of an item: which policy applies, and setting, moving, extending and pausing them.

Policy lookup (`PolicyBook.for_item`). A `DeadlinePolicy` row matches an item when each of its
non-null keys (channel, kind, topic, theme, priority) equals the item's. Rows are ranked by
specificity: first the number of non-null keys, then a theme beats a topic (a theme is the finer
classification), then the lowest id (the older row). Every duration is taken field by field from
the best-ranked matching row that sets it, so a topic row that only sets ``answer`` still gets
``registration`` from the general row. The table has no "active" flag: every row is in force; a
row with an unreadable duration is logged and that field is ignored (intake must not fail on a
staff typo — the admin form should validate).

«Ускоренное решение» (decree §1): for a topic flagged `Topic.accelerated` the answer is due no
later than `ACCELERATED_ANSWER` after registration — the earlier of that and the policy's answer,
so an 8-working-hour incident stays at 8 hours. A matching topic- or theme-specific row that sets
``answer`` is the staff's explicit choice and replaces the cap.

Start of counting: the registration deadline runs from receipt (59-ФЗ ст. 8 ч. 2); the first
reaction and the answer run from registration (``registered_at``, else ``received_at``).

Pause (waiting for the citizen): `pause` notes the moment; `resume` shifts every deadline that was
still running at the pause (not yet fulfilled and not yet overdue) by the elapsed real time of the
pause, ``now - paused_since``; with the calendar's ``move_to_working_day`` a shifted date that lands
on a day off moves to the next working day, as a fresh deadline would. Elapsed real time is used,
not working time, because the stored due date no longer says in which unit it was counted.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import SYSTEM, Actor
from core.calendar import Duration, WorkingCalendar, load_calendar, parse_duration
from core.lifecycle import record_event
from core.options import load_options
from core.routing import N_, RoutingError, _audit, _diff, _require, _snapshot, _text
from db.models import Channel, DeadlinePolicy, Item, ItemKind, Theme, Topic

log = logging.getLogger(__name__)

DURATION_FIELDS = ("registration", "first_reaction", "answer", "review", "extension")
# The accelerated mechanism: "well inside 30 days"; 10 calendar days is the regional practice.
ACCELERATED_ANSWER = parse_duration("10d")


class DeadlineError(ValueError):
    """A deadline change that the rules do not allow, with the reason in words."""


@dataclass(frozen=True, slots=True)
class Durations:
    """What applies to one item; ``sources`` names the policy row each field came from."""

    registration: Duration | None = None
    first_reaction: Duration | None = None
    answer: Duration | None = None
    review: Duration | None = None
    extension: Duration | None = None
    answer_cap: Duration | None = None  # set for accelerated topics
    sources: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Rule:
    id: int
    channel: str | None
    kind: str | None
    topic_id: int | None
    theme_id: int | None
    priority: int | None
    durations: Mapping[str, Duration]

    @property
    def rank(self) -> tuple[int, bool, bool, int]:
        keys = (self.channel, self.kind, self.topic_id, self.theme_id, self.priority)
        # Sorted ascending, so negate: more keys first, theme before topic, then lowest id.
        return (-sum(k is not None for k in keys), self.theme_id is None, self.topic_id is None, self.id)

    def matches(self, channel: str, kind: str, topic_id: int | None, theme_id: int | None, priority: int) -> bool:
        pairs = ((self.channel, channel), (self.kind, kind), (self.topic_id, topic_id),
                 (self.theme_id, theme_id), (self.priority, priority))
        return all(mine is None or mine == theirs for mine, theirs in pairs)


class PolicyBook:
    """All policies, loaded once; `for_item` is pure, so one book serves many items."""

    def __init__(self, rules: Iterable[_Rule], accelerated_topics: Iterable[int] = ()) -> None:
        self.rules: Sequence[_Rule] = tuple(sorted(rules, key=lambda r: r.rank))
        self.accelerated_topics = frozenset(accelerated_topics)

    @classmethod
    def from_rows(cls, rows: Iterable[DeadlinePolicy], accelerated_topics: Iterable[int] = ()) -> PolicyBook:
        return cls((_rule(row) for row in rows), accelerated_topics)

    def for_item(self, *, channel: str, kind: str, topic_id: int | None = None,
                 theme_id: int | None = None, priority: int = 0) -> Durations:
        found: dict[str, Duration] = {}
        sources: dict[str, int] = {}
        specific_answer = False
        for rule in self.rules:  # best first
            if not rule.matches(channel, kind, topic_id, theme_id, priority):
                continue
            for name, value in rule.durations.items():
                if name not in found:
                    found[name], sources[name] = value, rule.id
                    if name == "answer":
                        specific_answer = rule.topic_id is not None or rule.theme_id is not None
        cap = ACCELERATED_ANSWER if topic_id in self.accelerated_topics and not specific_answer else None
        return Durations(**found, answer_cap=cap, sources=MappingProxyType(sources))

    def durations_of(self, item: Item) -> Durations:
        return self.for_item(channel=item.channel, kind=item.kind, topic_id=item.topic_id,
                             theme_id=item.theme_id, priority=item.priority)


def _rule(row: DeadlinePolicy) -> _Rule:
    durations: dict[str, Duration] = {}
    for name in DURATION_FIELDS:
        text = getattr(row, name)
        if text is None or not str(text).strip():
            continue
        try:
            durations[name] = parse_duration(text)
        except ValueError as exc:
            log.warning("deadline policy #%s: %s ignored: %s", row.id, name, exc)
    return _Rule(row.id, row.channel, row.kind, row.topic_id, row.theme_id, row.priority,
                 MappingProxyType(durations))


async def load_policies(session: AsyncSession) -> PolicyBook:
    rows = (await session.scalars(select(DeadlinePolicy))).all()
    accelerated = (await session.scalars(select(Topic.id).where(Topic.accelerated.is_(True)))).all()
    return PolicyBook.from_rows(rows, accelerated)


@dataclass(frozen=True, slots=True)
class DeadlineContext:
    """The calendar and the policies, loaded once by a caller that registers many items."""

    calendar: WorkingCalendar
    book: PolicyBook


async def load_deadline_context(session: AsyncSession, tz: ZoneInfo | str,
                                *, move_to_working_day: bool = False) -> DeadlineContext:
    calendar = await load_calendar(session, tz, move_to_working_day=move_to_working_day)
    return DeadlineContext(calendar, await load_policies(session))


class DeadlineContextCache:
    """The context for a long-running process (the bot): reloaded at most every `ttl` seconds.

    Policies and calendar overrides change a few times a year; a change made in the admin
    reaches new items within `ttl`, and no message pays for three extra queries.
    """

    def __init__(self, tz: ZoneInfo | str, ttl: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.tz = tz
        self.ttl = ttl
        self.monotonic = monotonic
        self._context: DeadlineContext | None = None
        self._loaded_at = 0.0

    async def get(self, session: AsyncSession) -> DeadlineContext:
        now = self.monotonic()
        if self._context is None or now - self._loaded_at >= self.ttl:
            # The run-time option decides whether a deadline on a day off moves to a working day.
            options = await load_options(session)
            self._context = await load_deadline_context(session, self.tz,
                                                        move_to_working_day=options.move_to_working_day)
            self._loaded_at = now
        return self._context

    def invalidate(self) -> None:
        self._context = None


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


def _set(session: AsyncSession, item: Item, name: str, value: datetime, actor: Actor, now: datetime,
         comment: str) -> None:
    """Change one due date and write the event (old → new), unless it is unchanged."""
    old = getattr(item, name)
    if old == value:
        return
    setattr(item, name, value)
    record_event(session, item, "deadline", actor, now, field=name, old=_iso(old), new=_iso(value),
                 comment=comment)


def _answer_due(calendar: WorkingCalendar, start: datetime, d: Durations) -> tuple[datetime, str] | None:
    """The answer deadline and a note of its origin; the accelerated cap wins when earlier."""
    due = note = None
    if d.answer is not None:
        due, note = calendar.add(start, d.answer), f"{d.answer} (policy #{d.sources['answer']})"
    if d.answer_cap is not None:
        capped = calendar.add(start, d.answer_cap)
        if due is None or capped < due:
            due, note = capped, f"{d.answer_cap} (accelerated topic)"
    return None if due is None else (due, str(note))


async def _book(session: AsyncSession, book: PolicyBook | None) -> PolicyBook:
    return book if book is not None else await load_policies(session)


async def set_deadlines(session: AsyncSession, item: Item, now: datetime, calendar: WorkingCalendar,
                        book: PolicyBook | None = None) -> Durations:
    """Set the registration, first-reaction and answer deadlines from the item's policy."""
    d = (await _book(session, book)).durations_of(item)
    registered = item.registered_at or item.received_at
    if d.registration is not None:
        _set(session, item, "due_registration_at", calendar.add(item.received_at, d.registration), SYSTEM, now,
             f"{d.registration} (policy #{d.sources['registration']})")
    if d.first_reaction is not None:
        _set(session, item, "due_first_reaction_at", calendar.add(registered, d.first_reaction), SYSTEM, now,
             f"{d.first_reaction} (policy #{d.sources['first_reaction']})")
    answer = _answer_due(calendar, registered, d)
    if answer is not None:
        _set(session, item, "due_answer_at", answer[0], SYSTEM, now, answer[1])
    return d


async def recompute_on_redirect(session: AsyncSession, item: Item, now: datetime, calendar: WorkingCalendar,
                                book: PolicyBook | None = None, actor: Actor = SYSTEM) -> None:
    """A redirect gives the new recipient a full answer term counted from the redirect (59-ФЗ ст. 8 ч. 3).

    The policy is looked up again: the redirect may have changed the topic or theme.
    """
    answer = _answer_due(calendar, now, (await _book(session, book)).durations_of(item))
    if answer is not None:
        _set(session, item, "due_answer_at", answer[0], actor, now, f"redirect: {answer[1]}")


async def extend(session: AsyncSession, item: Item, now: datetime, calendar: WorkingCalendar,
                 book: PolicyBook | None = None, actor: Actor = SYSTEM, comment: str | None = None) -> None:
    """Extend the answer term once by the policy's ``extension`` (59-ФЗ ст. 12 ч. 2)."""
    if item.extended:
        raise DeadlineError(f"item {item.number}: the answer term was already extended; the law allows it once")
    if item.due_answer_at is None:
        raise DeadlineError(f"item {item.number}: there is no answer deadline to extend")
    d = (await _book(session, book)).durations_of(item)
    if d.extension is None:
        raise DeadlineError(f"item {item.number}: no deadline policy allows an extension for this item")
    item.extended = True
    note = f"extension {d.extension} (policy #{d.sources['extension']})" + (f": {comment}" if comment else "")
    _set(session, item, "due_answer_at", calendar.add(item.due_answer_at, d.extension), actor, now, note)


# A due date is still running while the moment it waits for has not happened.
_DUE_AND_DONE = (("due_registration_at", "registered_at"), ("due_first_reaction_at", "first_reaction_at"),
                 ("due_answer_at", "answered_at"))


def pause(session: AsyncSession, item: Item, now: datetime, actor: Actor = SYSTEM) -> bool:
    """Stop the clock while the item waits for the citizen; False when it was already paused."""
    if item.paused_since is not None:
        return False
    item.paused_since = now
    record_event(session, item, "deadline_paused", actor, now, field="paused_since", new=_iso(now))
    return True


def resume(session: AsyncSession, item: Item, now: datetime, calendar: WorkingCalendar,
           actor: Actor = SYSTEM) -> timedelta:
    """Restart the clock: shift the running deadlines by the pause (module docstring); returns it."""
    since = item.paused_since
    if since is None:
        return timedelta(0)
    elapsed = max(now - since, timedelta(0))
    item.paused_since = None
    record_event(session, item, "deadline_resumed", actor, now, field="paused_since", old=_iso(since))
    for due_name, done_name in _DUE_AND_DONE:
        due = getattr(item, due_name)
        if due is None or getattr(item, done_name) is not None or due <= since:
            continue  # fulfilled, or already overdue when paused: the pause does not excuse it
        shifted = due + elapsed
        if calendar.move_to_working_day and not calendar.is_working_day(shifted):
            local = shifted.astimezone(calendar.tz)
            day = calendar.next_working_day(local.date())
            shifted = datetime.combine(day, local.time(), calendar.tz).astimezone(UTC)
        _set(session, item, due_name, shifted, actor, now, f"pause of {elapsed}")
    return elapsed


# --- the policy table as staff edit it (the admin's «Сроки») -------------------------------------------------
# Refusals are `RoutingError`s, like every other directory change: a message in words, a catalog msgid.

POLICY_KEYS = ("channel", "kind", "topic_id", "theme_id", "priority")
POLICY_FIELDS = (*POLICY_KEYS, *DURATION_FIELDS, "note")
DURATION_LABELS = {"registration": N_("регистрация"), "first_reaction": N_("первая реакция"),
                   "answer": N_("ответ"), "review": N_("проверка ответа"), "extension": N_("продление")}
PRIORITY_RANGE = (0, 9)  # an item's importance; «Инцидент менеджмент» marks the high one 1


def _duration_text(value: Any, name: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return str(parse_duration(str(value)))  # stored the way it reads back: "10wd"
    except ValueError:
        raise RoutingError(N_("Срок «{what}»: «{value}» не читается. Пишите число и единицу: 30d — календарные "
                              "дни, 10wd — рабочие дни, 8wh — рабочие часы."),
                           what=DURATION_LABELS[name], value=str(value).strip()) from None


def _choice(value: Any, known: Iterable[str], what: str) -> str | None:
    text = (str(value).strip() if value is not None else "") or None
    _require(text is None or text in known, N_("Неизвестное значение «{value}» ({what})."), value=text, what=what)
    return text


def _policy_priority(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    low, high = PRIORITY_RANGE
    try:
        priority = int(value)
    except (TypeError, ValueError):
        priority = None
    _require(priority is not None and low <= priority <= high,
             N_("Важность — целое число от {low} до {high} (1 — высокая) или пусто."), low=low, high=high)
    return priority


async def _clean_policy(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name in DURATION_FIELDS:
            clean[name] = _duration_text(value, name)
        elif name == "channel":
            clean[name] = _choice(value, [c.value for c in Channel], N_("канал"))
        elif name == "kind":
            clean[name] = _choice(value, [k.value for k in ItemKind], N_("вид"))
        elif name == "priority":
            clean[name] = _policy_priority(value)
        elif name == "note":
            clean[name] = _text(value, 2000, N_("пояснение"))
        elif name in ("topic_id", "theme_id"):
            clean[name] = None if value in (None, "") else int(value)
    if clean.get("topic_id") is not None:
        _require(await session.get(Topic, clean["topic_id"]) is not None, N_("Нет направления № {id}."),
                 id=clean["topic_id"])
    if clean.get("theme_id") is not None:
        theme = await session.get(Theme, clean["theme_id"])
        _require(theme is not None, N_("Нет темы № {id}."), id=clean["theme_id"])
    return clean


async def _check_policy(session: AsyncSession, values: dict[str, Any], policy_id: int | None) -> None:
    _require(any(values.get(name) for name in DURATION_FIELDS),
             N_("Укажите хотя бы один срок: регистрация, первая реакция, ответ, проверка или продление."))
    if values.get("topic_id") is not None and values.get("theme_id") is not None:
        theme = await session.get(Theme, values["theme_id"])
        _require(theme is not None and theme.topic_id == values["topic_id"],
                 N_("Тема не относится к выбранному направлению: такая политика ни к чему не подойдёт."))
    keys = tuple(values.get(k) for k in POLICY_KEYS)
    for other in await session.scalars(select(DeadlinePolicy).where(DeadlinePolicy.id != (policy_id or 0))):
        _require(tuple(getattr(other, k) for k in POLICY_KEYS) != keys,
                 N_("Политика с теми же условиями уже есть: № {id}. Измените её."), id=other.id)


async def get_policy(session: AsyncSession, policy_id: int) -> DeadlinePolicy:
    policy = await session.get(DeadlinePolicy, policy_id)
    _require(policy is not None, N_("Нет политики сроков № {id}."), id=policy_id)
    assert policy is not None
    return policy


async def list_policies(session: AsyncSession) -> list[DeadlinePolicy]:
    """Every row in the order the lookup ranks them: the most specific first."""
    rows = list(await session.scalars(select(DeadlinePolicy)))
    return sorted(rows, key=lambda row: _rule(row).rank)


async def add_policy(session: AsyncSession, *, staff_id: int | None, now: datetime, **values: Any) -> DeadlinePolicy:
    """A new row; keys left empty match any item. Durations are checked by `parse_duration`."""
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    _require(not unknown, N_("Нет таких полей: {fields}."), fields=", ".join(unknown))
    clean = await _clean_policy(session, {name: values.get(name) for name in POLICY_FIELDS})
    await _check_policy(session, clean, None)
    policy = DeadlinePolicy(**clean, created_at=now)
    session.add(policy)
    await session.flush()
    _audit(session, "deadline_policy.create", "deadline_policy", policy.id, staff_id=staff_id, now=now, old=None,
           new=_snapshot(policy, POLICY_FIELDS))
    return policy


async def update_policy(session: AsyncSession, policy_id: int, *, staff_id: int | None, now: datetime,
                        **changes: Any) -> DeadlinePolicy:
    """Change keys, durations or the note; only what is given (an empty duration clears it)."""
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    _require(not unknown, N_("Нет таких полей: {fields}."), fields=", ".join(unknown))
    policy = await get_policy(session, policy_id)
    old, new = _diff(_snapshot(policy, POLICY_FIELDS), await _clean_policy(session, changes))
    if not new:
        return policy
    await _check_policy(session, {**_snapshot(policy, POLICY_FIELDS), **new}, policy.id)
    for name, value in new.items():
        setattr(policy, name, value)
    await session.flush()
    _audit(session, "deadline_policy.update", "deadline_policy", policy.id, staff_id=staff_id, now=now, old=old,
           new=new)
    return policy


async def delete_policy(session: AsyncSession, policy_id: int, *, staff_id: int | None, now: datetime) -> None:
    """Remove a row. The last row with no keys is kept: without it some items would get no deadline."""
    policy = await get_policy(session, policy_id)
    if all(getattr(policy, k) is None for k in POLICY_KEYS):
        others = [p for p in await session.scalars(select(DeadlinePolicy).where(DeadlinePolicy.id != policy.id))
                  if all(getattr(p, k) is None for k in POLICY_KEYS)]
        _require(bool(others), N_("Общую политику (без условий) удалить нельзя: без неё у части обращений не будет "
                                  "сроков. Измените её сроки."))
    old = _snapshot(policy, POLICY_FIELDS)
    await session.delete(policy)
    await session.flush()
    _audit(session, "deadline_policy.delete", "deadline_policy", policy_id, staff_id=staff_id, now=now, old=old,
           new=None)
