"""What waits for whom: the lists behind the bot's /queue.

An officer sees what waits for routing in the channels they sort; the centre sees answers waiting
for review and requests for more time; an official sees their organisation's open items. Each
list is ordered by the answer deadline, so the overdue come first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.lifecycle import CENTRE_ROLES, WORKING
from core.routing import triage_officers
from db.models import Channel, Item, ItemEvent, Role, Staff, Status

LIMIT = 20


@dataclass(frozen=True, slots=True)
class Queue:
    kind: str  # triage, review, extension, organisation
    items: list[Item]
    total: int  # the list may be longer than what is shown
    # Triage: items an organisation sent back as "not ours".
    returned: frozenset[int] = field(default_factory=frozenset)


async def triage_channels(session: AsyncSession, staff: Staff) -> list[str]:
    """The channels whose new items this person sorts (the same rule that sends the triage card)."""
    channels = []
    for channel in Channel:
        if any(person.id == staff.id for person in await triage_officers(session, channel.value)):
            channels.append(channel.value)
    return channels


async def _queue(session: AsyncSession, kind: str, conditions: list[Any], limit: int) -> Queue:
    total = int(await session.scalar(select(func.count(Item.id)).where(*conditions)) or 0)
    items = list((await session.scalars(
        select(Item).where(*conditions).order_by(Item.due_answer_at.asc().nulls_last(), Item.id).limit(limit)
    )).all())
    return Queue(kind, items, total)


async def _sent_back(session: AsyncSession, item_ids: list[int]) -> frozenset[int]:
    if not item_ids:
        return frozenset()
    rows = await session.scalars(
        select(ItemEvent.item_id).where(ItemEvent.item_id.in_(item_ids), ItemEvent.action == "route",
                                        ItemEvent.field == "organisation", ItemEvent.new_value.is_(None))
        .distinct())
    return frozenset(rows.all())


async def staff_queues(session: AsyncSession, staff: Staff, *, limit: int = LIMIT) -> list[Queue]:
    """The lists that concern this person, in the order they should be read; empty lists included
    (so the reader learns that nothing waits), lists of roles they do not hold left out."""
    roles = staff.role_set
    queues: list[Queue] = []
    channels = await triage_channels(session, staff)
    if channels:
        triage = await _queue(session, "triage", [Item.channel.in_(channels), Item.status == Status.registered],
                              limit)
        queues.append(Queue(triage.kind, triage.items, triage.total,
                            await _sent_back(session, [i.id for i in triage.items])))
    if roles & CENTRE_ROLES:
        queues.append(await _queue(session, "review", [Item.status == Status.under_review], limit))
        queues.append(await _queue(session, "extension", [Item.extension_requested_at.is_not(None),
                                                           Item.status.in_([s.value for s in WORKING])], limit))
    if Role.recipient in roles and staff.organisation_id is not None:
        queues.append(await _queue(session, "organisation", [Item.organisation_id == staff.organisation_id,
                                                              Item.status.in_([s.value for s in WORKING])], limit))
    return queues
