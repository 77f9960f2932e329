"""A citizen who blocked the bot: the item notes it and the centre is told.

The outbox sender learns it from Telegram's 403. Without this the official would wait for a reply
to a question the citizen never saw, and the answer would silently go nowhere.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.actors import SYSTEM
from core.i18n import gettext_for
from core.lifecycle import record_event
from core.routing import triage_officers
from db.models import Citizen, Item, ItemEvent, OutboxPriority

log = logging.getLogger(__name__)
EVENT = "citizen_unreachable"


async def note_blocked_citizen(session: AsyncSession, chat_id: int, item_id: int | None, now: datetime) -> bool:
    """Telegram refused a message about `item_id` to `chat_id` (403). If that chat is the item's
    citizen, record it in the item's history once per blocking and tell the item's triage officer.
    Call it before the citizen is marked unreachable. Returns whether anything was recorded."""
    if item_id is None:
        return False
    citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == chat_id))
    item = await session.get(Item, item_id)
    if citizen is None or item is None or item.citizen_id != citizen.id:
        return False  # a staff chat, or a message not about this citizen's item
    # Once per blocking: a card and its photos fail together, and a blocked citizen stays blocked
    # until they write again (core.citizens clears `unreachable_since` then).
    since = citizen.unreachable_since or now
    already = await session.scalar(
        select(ItemEvent.id).where(ItemEvent.item_id == item.id, ItemEvent.action == EVENT, ItemEvent.at >= since)
        .limit(1))
    if already is not None:
        return False
    record_event(session, item, EVENT, SYSTEM, now)
    await session.flush()
    for person in await triage_officers(session, item.channel):
        _ = gettext_for(person.language)
        text = _("Заявитель по № {number} заблокировал бота: сообщения по обращению до него не доходят. "
                 "Свяжитесь с ним по телефону или почте, если они есть в карточке.").format(number=item.number)
        if person.telegram_id is not None:
            outbox.enqueue_message(
                session, person.telegram_id, text, priority=OutboxPriority.alert, item_id=item.id,
                reply_markup={"inline_keyboard": [[{"text": _("Открыть карточку"),
                                                    "callback_data": f"it:card:{item.id}"}]]})
        elif person.email:
            outbox.enqueue_email(session, person.email, _("МЦУ: № {number}").format(number=item.number), text,
                                 priority=OutboxPriority.alert, item_id=item.id)
    log.info("item id=%s: citizen id=%s blocked the bot", item.id, citizen.id)
    return True
