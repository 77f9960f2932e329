"""Turning what a citizen sends into a registered, numbered item."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import Actor
from core.deadlines import DeadlineContext, load_deadline_context, set_deadlines
from core.lifecycle import record_event, transition
from core.numbering import next_item_number
from db.models import (
    OPEN_STATUSES,
    Attachment,
    Channel,
    Citizen,
    Item,
    ItemKind,
    ItemMessage,
    Status,
)


@dataclass(frozen=True, slots=True)
class FileIn:
    kind: str  # photo, document, voice, video, audio
    telegram_file_id: str
    telegram_file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One Telegram message from a citizen, already stripped of Telegram types."""

    text: str = ""
    files: Sequence[FileIn] = field(default_factory=tuple)
    latitude: float | None = None
    longitude: float | None = None
    tg_chat_id: int | None = None
    tg_message_id: int | None = None
    media_group_id: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.text and not self.files and self.latitude is None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    item: Item
    created: bool  # False: the message joined an existing item (album part, addition, duplicate)


async def register_bot_message(
    session: AsyncSession, citizen: Citizen, incoming: Incoming, now: datetime, tz: ZoneInfo,
    deadlines: DeadlineContext | None = None,
) -> IntakeResult:
    """Register a citizen's message as a new item, or join the album it belongs to.

    `deadlines` (calendar + policies) lets a busy caller load them once; without it they are
    loaded here, and only when a new item is made.
    """
    duplicate = await _find_by_message(session, incoming)
    if duplicate is not None:
        return IntakeResult(duplicate, created=False)
    if incoming.media_group_id:
        album = await _find_album(session, citizen.id, incoming.media_group_id)
        if album is not None:
            await add_to_item(session, album, citizen, incoming, now)
            return IntakeResult(album, created=False)
    if not incoming.media_group_id:
        # A redelivered message is caught above and by the update dedup, both inside this
        # serialised transaction; the unique (chat, message) constraint is the last guard.
        return IntakeResult(await _new_item(session, citizen, incoming, now, tz, deadlines), created=True)
    try:
        async with session.begin_nested():
            item = await _new_item(session, citizen, incoming, now, tz, deadlines)
    except IntegrityError:
        # The same message or another part of the album won the race: join it.
        existing = await _find_by_message(session, incoming)
        if existing is not None:
            return IntakeResult(existing, created=False)
        album = await _find_album(session, citizen.id, incoming.media_group_id)
        if album is None:
            raise
        await add_to_item(session, album, citizen, incoming, now)
        return IntakeResult(album, created=False)
    return IntakeResult(item, created=True)


async def _new_item(
    session: AsyncSession, citizen: Citizen, incoming: Incoming, now: datetime, tz: ZoneInfo,
    deadlines: DeadlineContext | None,
) -> Item:
    item = Item(
        number=await next_item_number(session, now, tz),
        kind=ItemKind.message,
        channel=Channel.bot,
        status=Status.received,
        citizen_id=citizen.id,
        text=incoming.text,
        latitude=incoming.latitude,
        longitude=incoming.longitude,
        tg_chat_id=incoming.tg_chat_id,
        tg_message_id=incoming.tg_message_id,
        tg_media_group_id=incoming.media_group_id,
        received_at=now,
    )
    session.add(item)
    await session.flush()
    actor = Actor.citizen(citizen.id)
    record_event(session, item, "created", actor, now, new=item.number)
    transition(session, item, Status.registered, actor, now)
    if deadlines is None:
        deadlines = await load_deadline_context(session, tz)
    await set_deadlines(session, item, now, deadlines.calendar, deadlines.book)
    _add_files(session, item, None, incoming.files)
    return item


async def add_to_item(
    session: AsyncSession, item: Item, citizen: Citizen, incoming: Incoming, now: datetime
) -> ItemMessage:
    """Keep an addition (text, files, place) on an existing item; nothing a citizen sends is lost."""
    message = ItemMessage(
        item_id=item.id,
        kind="addition",
        author_citizen_id=citizen.id,
        text=incoming.text,
        tg_message_id=incoming.tg_message_id,
    )
    session.add(message)
    await session.flush()
    _add_files(session, item, message.id, incoming.files)
    if incoming.latitude is not None and item.latitude is None:
        item.latitude, item.longitude = incoming.latitude, incoming.longitude
    record_event(session, item, "addition", Actor.citizen(citizen.id), now, comment=None)
    return message


async def latest_open_item(session: AsyncSession, citizen_id: int) -> Item | None:
    return await session.scalar(
        select(Item)
        .where(Item.citizen_id == citizen_id, Item.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(Item.received_at.desc(), Item.id.desc())
        .limit(1)
    )


async def citizen_items(session: AsyncSession, citizen_id: int, limit: int = 20) -> tuple[list[Item], int]:
    """The citizen's most recent items and how many there are in all."""
    items = (
        await session.scalars(
            select(Item).where(Item.citizen_id == citizen_id).order_by(Item.id.desc()).limit(limit)
        )
    ).all()
    total = await session.scalar(select(func.count()).select_from(Item).where(Item.citizen_id == citizen_id))
    return list(items), int(total or 0)


def _add_files(session: AsyncSession, item: Item, message_id: int | None, files: Sequence[FileIn]) -> None:
    for f in files:
        session.add(
            Attachment(
                item_id=item.id,
                message_id=message_id,
                kind=f.kind,
                telegram_file_id=f.telegram_file_id,
                telegram_file_unique_id=f.telegram_file_unique_id,
                file_name=f.file_name,
                mime_type=f.mime_type,
                size=f.size,
            )
        )


async def _find_by_message(session: AsyncSession, incoming: Incoming) -> Item | None:
    if incoming.tg_chat_id is None or incoming.tg_message_id is None:
        return None
    return await session.scalar(
        select(Item).where(Item.tg_chat_id == incoming.tg_chat_id, Item.tg_message_id == incoming.tg_message_id)
    )


async def _find_album(session: AsyncSession, citizen_id: int, media_group_id: str) -> Item | None:
    return await session.scalar(
        select(Item).where(Item.citizen_id == citizen_id, Item.tg_media_group_id == media_group_id)
    )
