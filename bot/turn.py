"""One update of a conversation with a citizen: who, where, what they sent, and the replies.

Handlers make all their database and state changes first and send afterwards (`Turn.flush`): the
first call to Telegram commits the update's transaction (bot/middlewares/database.py), so a reply
never announces something that could still be rolled back.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from core.deadlines import DeadlineContextCache
from core.intake import FileIn, Incoming
from core.settings import Settings
from db.models import Citizen


@dataclass
class Turn:
    """What a handler needs, and the replies it collects until its changes are done."""

    session: AsyncSession
    citizen: Citizen
    state: FSMContext
    settings: Settings
    now: datetime
    deadline_cache: DeadlineContextCache
    chat: Message  # the user's message, or the message whose button was pressed
    query: CallbackQuery | None = None
    notes: list[str] = field(default_factory=list)
    out: list[tuple[str, Any]] = field(default_factory=list)

    def say(self, text: str, markup: Any = None) -> None:
        if self.notes:
            text = "\n\n".join([*self.notes, text])
            self.notes.clear()
        self.out.append((text, markup))

    async def flush(self, *, keep_buttons: bool = False) -> None:
        if self.notes:
            self.say("")  # notes alone
        if self.query is not None:
            await self.query.answer()
            if not keep_buttons:
                # The step is answered: its buttons go, so an old one cannot be pressed again.
                try:
                    await self.chat.edit_reply_markup(reply_markup=None)
                except TelegramBadRequest:
                    pass  # already without buttons (a quick second press)
        for text, markup in self.out:
            await self.chat.answer(text.strip(), reply_markup=markup)
        self.out.clear()


def make_turn(event: Message | CallbackQuery, data: dict[str, Any]) -> Turn:
    query = event if isinstance(event, CallbackQuery) else None
    chat = event.message if isinstance(event, CallbackQuery) else event
    assert isinstance(chat, Message)
    return Turn(data["session"], data["citizen"], data["state"], data["settings"], data["now"],
                data["deadline_cache"], chat, query)


# --- what the citizen sent ------------------------------------------------------------------------------


def incoming_from(message: Message) -> Incoming:
    files: list[FileIn] = []
    if message.photo:
        best = message.photo[-1]
        files.append(FileIn("photo", best.file_id, best.file_unique_id, None, "image/jpeg", best.file_size))
    for kind in ("document", "voice", "audio", "video"):
        media = getattr(message, kind)
        if media is not None:
            files.append(
                FileIn(kind, media.file_id, media.file_unique_id, getattr(media, "file_name", None),
                       getattr(media, "mime_type", None), media.file_size)
            )
    location = message.location
    return Incoming(
        text=message.text or message.caption or "",
        files=tuple(files),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        tg_chat_id=message.chat.id,
        tg_message_id=message.message_id,
        media_group_id=message.media_group_id,
    )


def incoming_to_dict(incoming: Incoming) -> dict[str, Any]:
    raw = asdict(incoming)
    raw["files"] = [dict(f) for f in raw["files"]]
    return raw


def incoming_from_dict(raw: dict[str, Any]) -> Incoming:
    raw = dict(raw)
    files = tuple(FileIn(**f) for f in raw.pop("files", []))
    return Incoming(files=files, **raw)


def without_big_files(turn: Turn, incoming: Incoming) -> Incoming:
    """Files a bot cannot download are refused with a note; the rest of the message is kept."""
    big = [f for f in incoming.files if f.too_big]
    if not big:
        return incoming
    turn.notes.append(texts.file_too_big([f.file_name or _("без имени") for f in big]))
    return Incoming(incoming.text, tuple(f for f in incoming.files if not f.too_big), incoming.latitude,
                    incoming.longitude, incoming.tg_chat_id, incoming.tg_message_id, incoming.media_group_id)


class _SeenAlbums:
    """Album parts arrive as separate messages: only the first part of one is answered."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._size = size

    def first(self, chat_id: int, media_group_id: str) -> bool:
        key = (chat_id, media_group_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


SEEN_ALBUMS = _SeenAlbums()

