"""The one door for every change of an item (design.md rule 2).

Each change sets the status, writes the event (actor, time, old → new) and, when it must tell
someone, queues the outbox rows, all inside the caller's transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import Actor
from db.models import Item, ItemEvent, Status

S = Status

# The statuses of domain.md and where each may go next.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.received: frozenset({S.registered, S.rejected, S.withdrawn}),
    S.registered: frozenset({S.assigned, S.redirected, S.rejected, S.withdrawn}),
    S.assigned: frozenset({S.in_work, S.redirected, S.registered, S.withdrawn}),
    S.in_work: frozenset({S.interim_answer, S.answered, S.redirected, S.registered, S.withdrawn}),
    S.interim_answer: frozenset({S.answered, S.redirected, S.withdrawn}),
    S.answered: frozenset({S.under_review, S.delivered}),
    S.under_review: frozenset({S.delivered, S.returned}),
    S.returned: frozenset({S.in_work, S.answered}),
    S.delivered: frozenset({S.closed, S.reopened}),
    S.redirected: frozenset({S.assigned, S.registered}),
    S.reopened: frozenset({S.assigned, S.in_work, S.redirected}),
    S.closed: frozenset({S.reopened}),
    S.withdrawn: frozenset(),
    S.rejected: frozenset(),
}


class TransitionError(Exception):
    """An illegal change, with the reason in words."""


def record_event(
    session: AsyncSession,
    item: Item,
    action: str,
    actor: Actor,
    at: datetime,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    comment: str | None = None,
) -> ItemEvent:
    event = ItemEvent(
        item_id=item.id,
        at=at,
        action=action,
        actor_kind=actor.kind,
        actor_citizen_id=actor.citizen_id,
        actor_staff_id=actor.staff_id,
        field=field,
        old_value=None if old is None else str(old)[:512],
        new_value=None if new is None else str(new)[:512],
        comment=comment,
    )
    session.add(event)
    return event


def transition(
    session: AsyncSession,
    item: Item,
    target: Status,
    actor: Actor,
    at: datetime,
    *,
    comment: str | None = None,
) -> None:
    current = Status(item.status)
    if target not in TRANSITIONS[current]:
        raise TransitionError(f"item {item.number}: {current.value} → {target.value} is not allowed")
    item.status = target
    if target is S.registered and item.registered_at is None:
        item.registered_at = at
    record_event(session, item, "status", actor, at, field="status", old=current.value, new=target.value,
                 comment=comment)
