"""Items that staff register: from ПОС and «Инцидент менеджмент» exports, phone calls, letters,
personal visits and requests of the regional ЦУР.

`register_staff_item` makes a numbered, registered item with its deadlines in the caller's
transaction; the caller then hands it to `core.lifecycle.after_registration` (routing or the triage
card) and commits. The input checks below are shared by the bot's `/new` dialogue and the import.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import SYSTEM, Actor
from core.deadlines import DeadlineContext, set_deadlines
from core.lifecycle import N_, record_event, transition
from core.mail import is_email_address
from core.numbering import next_item_number
from db.models import Channel, Citizen, Item, ItemKind, Role, Status, Theme

# Who may register items by hand or import them: the centre's own people, not the recipients.
REGISTRAR_ROLES = frozenset({
    Role.curator, Role.head, Role.analyst, Role.pos_officer, Role.im_officer, Role.gospublic_officer, Role.admin,
})
# The bot registers its own items; everything else reaches the centre through staff.
STAFF_CHANNELS = (Channel.pos, Channel.im, Channel.phone, Channel.email, Channel.visit, Channel.cur)
# Channels whose items carry the source system's number (unique per channel).
NUMBERED_CHANNELS = frozenset({Channel.pos, Channel.im})

NAME_MAX = 256
ADDRESS_MAX = 1024
EXTERNAL_ID_MAX = 128


def channel_label(channel: str, _: Callable[[str], str]) -> str:
    labels = {
        Channel.pos: _("ПОС"), Channel.im: _("«Инцидент менеджмент»"), Channel.phone: _("телефон"),
        Channel.email: _("e-mail"), Channel.visit: _("личный приём"), Channel.cur: _("ЦУР"),
        Channel.bot: _("бот"),
    }
    return labels.get(Channel(channel), channel)


class InputError(ValueError):
    """Input staff typed that cannot be taken; `message` is a Russian msgid to translate and show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_NAME_PART = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]*)*\.?$")


def is_email(text: str) -> bool:
    return is_email_address(text, public=True)


def check_full_name(text: str) -> str:
    """ФИО for a 59-ФЗ answer: at least a surname and a name (initials count), letters only."""
    name = " ".join(text.split())
    parts = re.split(r"\s+|(?<=\.)(?=[^\W\d_])", name)
    if len(name) > NAME_MAX:
        raise InputError(N_("Слишком длинно для ФИО."))
    if len(parts) < 2 or not all(_NAME_PART.match(p) for p in parts):
        raise InputError(N_("Нужны фамилия и имя (можно с отчеством), только буквы. Например: Иванова Анна Петровна."))
    return name


def check_reply_address(text: str) -> str:
    """Where the written answer goes (59-ФЗ ст. 7): an e-mail, or a postal address with a house number."""
    address = " ".join(text.split())
    if "@" in address:
        if not is_email(address):
            raise InputError(N_("Адрес электронной почты выглядит неверно. Пример: ivanova@mail.ru"))
        return address
    if len(address) > ADDRESS_MAX:
        raise InputError(N_("Слишком длинный адрес."))
    words = re.findall(r"[^\W\d_]{2,}", address)
    if len(words) < 2 or not re.search(r"\d", address):
        raise InputError(N_("Нужен почтовый адрес с населённым пунктом, улицей и номером дома "
                            "(например: с. Новодугино, ул. Советская, д. 5, кв. 2) или адрес электронной почты."))
    return address


def normalize_phone(text: str) -> str:
    """A Russian number as +7XXXXXXXXXX; other countries kept as +digits."""
    raw = text.strip()
    if re.search(r"[^\d\s()+\-.]", raw):
        raise InputError(N_("В номере телефона могут быть только цифры, пробелы, скобки, дефисы и «+»."))
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and (digits[0] == "7" or digits[0] == "8" and not raw.startswith("+")):
        return "+7" + digits[1:]
    if len(digits) == 10 and not raw.startswith("+"):
        return "+7" + digits
    if raw.startswith("+") and 10 <= len(digits) <= 15:
        return "+" + digits
    raise InputError(N_("Номер телефона выглядит неверно. Пример: +7 912 345-67-89 или 8 (48136) 2-15-40."))


def check_external_id(text: str) -> str:
    value = " ".join(str(text).split())
    if not value:
        raise InputError(N_("Номер пустой."))
    if len(value) > EXTERNAL_ID_MAX:
        raise InputError(N_("Слишком длинный номер (не больше 128 знаков)."))
    return value


async def find_external(session: AsyncSession, channel: str, external_id: str) -> Item | None:
    return await session.scalar(select(Item).where(Item.channel == channel, Item.external_id == external_id))


async def register_staff_item(
    session: AsyncSession,
    *,
    channel: Channel | str,
    kind: ItemKind | str,
    text: str,
    received_at: datetime,
    staff_id: int | None,
    now: datetime,
    tz: ZoneInfo,
    deadlines: DeadlineContext,
    topic_id: int | None = None,
    theme_id: int | None = None,
    settlement_id: int | None = None,
    address: str | None = None,
    applicant_name: str | None = None,
    reply_address: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    registered_at: datetime | None = None,
    comment: str | None = None,
) -> Item:
    """Number, create, register and set the deadlines of an item in the caller's transaction.

    `registered_at`: when the source system registered it (an imported ПОС or ИМ item was registered
    there at its creation, and its clocks run from then); by default now. `comment` goes into the
    `created` event (the import names its file there). `staff_id` None means the system (the CLI).
    """
    channel, kind = Channel(channel), ItemKind(kind)
    if channel is Channel.bot:
        raise ValueError("bot items are registered by core.intake")
    text = (text or "").strip()
    if not text:
        raise InputError(N_("Нужен текст обращения."))
    if topic_id is None and theme_id is not None:
        topic_id = await session.scalar(select(Theme.topic_id).where(Theme.id == theme_id))
    citizen = _citizen(applicant_name, phone, reply_address)
    if citizen is not None:
        session.add(citizen)
        await session.flush()
    item = Item(
        number=await next_item_number(session, now, tz),
        kind=kind, channel=channel, external_id=external_id, status=Status.received,
        citizen_id=citizen.id if citizen is not None else None,
        topic_id=topic_id, theme_id=theme_id, settlement_id=settlement_id,
        address=address, text=text, applicant_name=applicant_name, reply_address=reply_address,
        received_at=received_at, registered_at=registered_at,
    )
    session.add(item)
    await session.flush()
    actor = Actor.staff(staff_id) if staff_id is not None else SYSTEM
    record_event(session, item, "created", actor, now, new=item.number, comment=comment)
    transition(session, item, Status.registered, actor, now)  # keeps a given registered_at
    await set_deadlines(session, item, now, deadlines.calendar, deadlines.book)
    return item


def _citizen(name: str | None, phone: str | None, reply_address: str | None) -> Citizen | None:
    """A person without Telegram, kept only when staff know who it is (a name or a phone)."""
    if not name and not phone:
        return None
    citizen = Citizen(telegram_id=None, full_name=name, phone=phone)
    if reply_address:
        if is_email(reply_address):
            citizen.email = reply_address
        else:
            citizen.postal_address = reply_address
    return citizen
