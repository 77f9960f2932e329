"""What a citizen sends, turned into a numbered item: at once a draft (`received`), so nothing is
lost; the bot's dialogue then fills it in, and the citizen's confirmation registers it."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import Actor
from core.deadlines import DeadlineContext, load_deadline_context, set_deadlines
from core.lifecycle import attach_files, record_event, transition
from core.mail import is_email_address
from core.numbering import next_item_number
from db.models import (
    OPEN_STATUSES,
    Channel,
    Citizen,
    Item,
    ItemKind,
    ItemMessage,
    Status,
)

if TYPE_CHECKING:
    from core.lifecycle import LifecycleContext

# Bots cannot download files over 20 MB (Bot API getFile): such a file could be forwarded but
# never opened by the admin or archived, so it is refused and the citizen told at once.
MAX_FILE_SIZE = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileIn:
    kind: str  # photo, document, voice, video, audio
    telegram_file_id: str
    telegram_file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None

    @property
    def too_big(self) -> bool:
        return self.size is not None and self.size > MAX_FILE_SIZE


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


class DraftError(ValueError):
    """The draft cannot take this change (it was registered, withdrawn or is not the citizen's)."""


# --- receiving -------------------------------------------------------------------------------------


async def receive_bot_message(
    session: AsyncSession, citizen: Citizen, incoming: Incoming, now: datetime, tz: ZoneInfo,
) -> IntakeResult:
    """A new draft item (`received`, numbered, no deadlines yet), or the album or the very message
    it already belongs to."""
    duplicate = await _find_by_message(session, incoming)
    if duplicate is not None:
        return IntakeResult(duplicate, created=False)
    if incoming.media_group_id:
        album = await _find_album(session, citizen.id, incoming.media_group_id)
        if album is not None:
            await _join_album(session, album, citizen, incoming, now)
            return IntakeResult(album, created=False)
    if not incoming.media_group_id:
        # A redelivered message is caught above and by the update dedup, both inside this
        # serialised transaction; the unique (chat, message) constraint is the last guard.
        return IntakeResult(await _new_item(session, citizen, incoming, now, tz), created=True)
    try:
        async with session.begin_nested():
            item = await _new_item(session, citizen, incoming, now, tz)
    except IntegrityError:
        # The same message or another part of the album won the race: join it.
        existing = await _find_by_message(session, incoming)
        if existing is not None:
            return IntakeResult(existing, created=False)
        album = await _find_album(session, citizen.id, incoming.media_group_id)
        if album is None:
            raise
        await _join_album(session, album, citizen, incoming, now)
        return IntakeResult(album, created=False)
    return IntakeResult(item, created=True)


async def register_bot_message(
    session: AsyncSession, citizen: Citizen, incoming: Incoming, now: datetime, tz: ZoneInfo,
    deadlines: DeadlineContext | None = None,
) -> IntakeResult:
    """Receive and register at once, without the dialogue (imports, tests, scripted intake).

    `deadlines` (calendar + policies) lets a busy caller load them once; without it they are
    loaded here, and only when a new item is made.
    """
    result = await receive_bot_message(session, citizen, incoming, now, tz)
    if result.created:
        await register_item(session, result.item, Actor.citizen(citizen.id), now, tz, deadlines)
    return result


async def register_item(session: AsyncSession, item: Item, actor: Actor, now: datetime, tz: ZoneInfo,
                        deadlines: DeadlineContext | None = None) -> None:
    """received → registered, and the deadlines of its policy (which depends on kind and topic)."""
    transition(session, item, Status.registered, actor, now)
    if deadlines is None:
        deadlines = await load_deadline_context(session, tz)
    await set_deadlines(session, item, now, deadlines.calendar, deadlines.book)


async def _new_item(session: AsyncSession, citizen: Citizen, incoming: Incoming, now: datetime,
                    tz: ZoneInfo) -> Item:
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
    record_event(session, item, "created", Actor.citizen(citizen.id), now, new=item.number)
    attach_files(session, item, None, incoming.files)
    return item


async def _join_album(session: AsyncSession, item: Item, citizen: Citizen, incoming: Incoming,
                      now: datetime) -> None:
    if item.status == Status.received and item.citizen_id == citizen.id:
        add_to_draft(session, item, incoming)
    else:
        await add_to_item(session, item, citizen, incoming, now)


# --- the draft, filled in by the dialogue ------------------------------------------------------------


def require_draft(item: Item | None, citizen: Citizen) -> Item:
    """The item if it is still this citizen's unconfirmed draft; DraftError otherwise."""
    if item is None or item.citizen_id != citizen.id or item.status != Status.received:
        raise DraftError("not an open draft of this citizen")
    return item


def add_to_draft(session: AsyncSession, item: Item, incoming: Incoming) -> None:
    """More of the same story before it is registered: text joins the item's text, files and the
    place join the item itself, so staff see one whole item."""
    text = incoming.text.strip()
    if text:
        item.text = f"{item.text}\n\n{text}" if item.text else text
    attach_files(session, item, None, incoming.files)
    if incoming.latitude is not None and item.latitude is None:
        item.latitude, item.longitude = incoming.latitude, incoming.longitude


def set_kind(item: Item, kind: ItemKind) -> None:
    item.kind = kind
    if kind is ItemKind.message:
        # A сообщение is answered in the bot; the 59-ФЗ reply details stay with the citizen record.
        item.applicant_name = item.reply_address = None


def set_applicant(item: Item, citizen: Citizen, full_name: str) -> None:
    item.applicant_name = full_name
    citizen.full_name = full_name  # offered back in the next 59-ФЗ dialogue


def set_reply_address(item: Item, citizen: Citizen, address: ReplyAddress) -> None:
    item.reply_address = address.value
    if address.kind == "email":
        citizen.email = address.value
    else:
        citizen.postal_address = address.value


async def withdraw_draft(session: AsyncSession, item: Item, citizen: Citizen, now: datetime,
                         comment: str) -> None:
    """The citizen cancelled the dialogue: the draft is kept, as withdrawn."""
    require_draft(item, citizen)
    transition(session, item, Status.withdrawn, Actor.citizen(citizen.id), now, comment=comment)
    item.closed_at = now


async def confirm_draft(ctx: LifecycleContext, item: Item, citizen: Citizen) -> None:
    """The citizen confirmed the summary: register, set deadlines, then route (lifecycle)."""
    from core.lifecycle import after_registration

    require_draft(item, citizen)
    if item.kind == ItemKind.appeal and not (item.applicant_name and item.reply_address):
        raise DraftError("a 59-ФЗ appeal needs the applicant's name and an address for the answer")
    await register_item(ctx.session, item, Actor.citizen(citizen.id), ctx.now, ctx.tz, ctx.deadlines)
    await after_registration(ctx, item)


async def latest_draft(session: AsyncSession, citizen_id: int, now: datetime,
                       within: timedelta = timedelta(days=30)) -> Item | None:
    """The citizen's newest unconfirmed bot draft, if recent: offered back by /start and /my."""
    return await session.scalar(
        select(Item)
        .where(Item.citizen_id == citizen_id, Item.status == Status.received, Item.channel == Channel.bot,
               Item.received_at >= now - within)
        .order_by(Item.received_at.desc(), Item.id.desc())
        .limit(1)
    )


# --- what the dialogue checks ------------------------------------------------------------------------

_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]*)*\.?$")


@dataclass(frozen=True, slots=True)
class ReplyAddress:
    kind: str  # email, postal
    value: str


class BadInput(ValueError):
    """What the citizen typed does not fit; `reason` says why (the bot words it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_full_name(text: str) -> str:
    """Фамилия, имя (отчество): at least two words of letters. Reasons: empty, short, symbols, long."""
    words = (text or "").split()
    if not any(ch.isalpha() for ch in text or ""):
        raise BadInput("empty")
    if len(words) < 2:
        raise BadInput("short")
    if not all(_NAME_WORD.match(w) for w in words):
        raise BadInput("symbols")
    name = " ".join(words)
    if len(name) > 200:
        raise BadInput("long")
    return name


def check_reply_address(text: str) -> ReplyAddress:
    """An e-mail that looks like one, or a postal address of a few words (a street and a house at
    least). Reasons: empty, email, postal, long."""
    value = " ".join((text or "").split())
    if not value:
        raise BadInput("empty")
    if len(value) > 500:
        raise BadInput("long")
    if "@" in value:
        if not is_email_address(value, public=True):
            raise BadInput("email")
        return ReplyAddress("email", value)
    words = re.findall(r"[^\s,]+", value)
    if len(words) > 30:
        raise BadInput("long")
    if len(words) < 3 or not any(ch.isdigit() for ch in value) or len(value) < 10:
        raise BadInput("postal")
    return ReplyAddress("postal", value)


# --- additions to items already registered --------------------------------------------------------


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
    attach_files(session, item, message.id, incoming.files)
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


_BY_MESSAGE = select(Item).where(Item.tg_chat_id == bindparam("chat"), Item.tg_message_id == bindparam("message"))


async def _find_by_message(session: AsyncSession, incoming: Incoming) -> Item | None:
    if incoming.tg_chat_id is None or incoming.tg_message_id is None:
        return None
    return await session.scalar(_BY_MESSAGE, {"chat": incoming.tg_chat_id, "message": incoming.tg_message_id})


async def _find_album(session: AsyncSession, citizen_id: int, media_group_id: str) -> Item | None:
    return await session.scalar(
        select(Item).where(Item.citizen_id == citizen_id, Item.tg_media_group_id == media_group_id)
    )
