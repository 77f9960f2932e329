"""What staff and citizens read about an item: card texts and their buttons.

Everything here is plain data (HTML text and an inline keyboard as a dict) so core/ stays free of
aiogram; the button payloads are exactly what `bot.callbacks.ItemCb` packs: ``it:<action>:<id>``.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Attachment,
    Item,
    ItemKind,
    Organisation,
    Settlement,
    Status,
    Topic,
)

Gettext = Callable[[str], str]
EXCERPT = 1500


def item_button(text: str, action: str, item_id: int) -> dict[str, str]:
    return {"text": text, "callback_data": f"it:{action}:{item_id}"}


def keyboard(rows: Sequence[Sequence[dict[str, str]]]) -> dict[str, Any] | None:
    rows = [list(r) for r in rows if r]
    return {"inline_keyboard": rows} if rows else None


def status_label(status: str, _: Gettext) -> str:
    labels = {
        Status.received: _("принято, ждёт подтверждения"),
        Status.registered: _("зарегистрировано"),
        Status.assigned: _("направлено исполнителю"),
        Status.in_work: _("в работе"),
        Status.interim_answer: _("дан промежуточный ответ"),
        Status.answered: _("ответ подготовлен"),
        Status.under_review: _("ответ на проверке в МЦУ"),
        Status.returned: _("ответ возвращён на доработку"),
        Status.delivered: _("ответ направлен заявителю"),
        Status.closed: _("закрыто"),
        Status.redirected: _("перенаправлено"),
        Status.reopened: _("возобновлено"),
        Status.withdrawn: _("отозвано заявителем"),
        Status.rejected: _("отклонено"),
    }
    return labels.get(Status(status), status)


def kind_label(kind: str, _: Gettext) -> str:
    return _("Обращение по 59-ФЗ") if kind == ItemKind.appeal else _("Сообщение")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return html.escape(text)


def local(dt: datetime | None, tz: ZoneInfo) -> str:
    return "—" if dt is None else dt.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def due_phrase(due: datetime | None, now: datetime, tz: ZoneInfo, _: Gettext) -> str:
    if due is None:
        return _("не установлен")
    text = local(due, tz)
    if due < now:
        days = (now - due).days
        return text + " — " + (_("просрочено на {days} дн.").format(days=days) if days else _("просрочено"))
    left = due - now
    if left.days >= 1:
        return text + " — " + _("осталось {days} дн.").format(days=left.days)
    return text + " — " + _("осталось {hours} ч.").format(hours=max(1, left.seconds // 3600))


@dataclass(frozen=True, slots=True)
class CardData:
    """An item with the names a card shows, loaded once."""

    item: Item
    topic: str | None
    settlement: str | None
    organisation: str | None
    suggested: str | None
    files: int
    repeat_of: str | None
    topic_en: str | None = None

    def in_language(self, language: str | None) -> CardData:
        """The same card for a reader of `language`: only the topic's name differs."""
        return replace(self, topic=self.topic_en) if language == "en" else self


async def card_data(session: AsyncSession, item: Item, language: str | None) -> CardData:
    async def name(model: Any, key: int | None, column: Any) -> str | None:
        return None if key is None else await session.scalar(select(column).where(model.id == key))

    topic = None if item.topic_id is None else await session.get(Topic, item.topic_id)
    files = await session.scalar(select(func.count()).select_from(Attachment).where(Attachment.item_id == item.id))
    data = CardData(
        item=item,
        topic=topic.name_ru if topic else None,
        topic_en=topic.name_en if topic else None,
        settlement=await name(Settlement, item.settlement_id, Settlement.name),
        organisation=await name(Organisation, item.organisation_id, Organisation.name),
        suggested=await name(Organisation, item.suggested_organisation_id, Organisation.name),
        files=int(files or 0),
        repeat_of=await name(Item, item.repeat_of_id, Item.number),
    )
    return data.in_language(language)


def card_text(d: CardData, now: datetime, tz: ZoneInfo, _: Gettext, *, with_applicant: bool) -> str:
    item = d.item
    lines = [f"<b>№ {item.number}</b> · {kind_label(item.kind, _)}"]
    if d.repeat_of:
        lines.append(_("Повторное, ранее: № {number}").format(number=d.repeat_of))
    place = ", ".join(html.escape(p) for p in (d.settlement, item.address) if p)
    lines.append(_("Тема: {topic}").format(topic=html.escape(d.topic or _("не указана"))))
    if place:
        lines.append(_("Место: {place}").format(place=place))
    if item.latitude is not None and item.longitude is not None:
        lines.append(_("Координаты: {lat:.5f}, {lon:.5f}").format(lat=item.latitude, lon=item.longitude))
    if d.organisation:
        lines.append(_("Исполнитель: {org}").format(org=html.escape(d.organisation)))
    lines.append(_("Статус: {status}").format(status=status_label(item.status, _)))
    lines.append(_("Срок ответа: {due}").format(due=due_phrase(item.due_answer_at, now, tz, _)))
    if with_applicant and item.kind == ItemKind.appeal and item.applicant_name:
        lines.append(_("Заявитель: {name}").format(name=html.escape(item.applicant_name)))
    if item.text:
        lines.append("")
        lines.append("«" + excerpt(item.text) + "»")
    if d.files:
        lines.append(_("Вложений: {count}").format(count=d.files))
    return "\n".join(lines)


TRIAGE_STATUSES = frozenset({Status.registered, Status.reopened, Status.redirected})
RECIPIENT_WORK = frozenset({Status.in_work, Status.interim_answer, Status.returned, Status.reopened})


def triage_buttons(d: CardData, _: Gettext) -> list[list[dict[str, str]]]:
    rows = []
    if d.suggested and d.item.suggested_organisation_id != d.item.organisation_id:
        rows.append([item_button(_("Направить: {org}").format(org=d.suggested[:40]), "route", d.item.id)])
    rows.append([item_button(_("Выбрать организацию"), "pick", d.item.id)])
    return rows


def recipient_buttons(item: Item, _: Gettext, *, extendable: bool = True) -> list[list[dict[str, str]]]:
    """`extendable`: the item's deadline policy allows an extension at all (59-ФЗ appeals do;
    сообщения by default do not), so the button is not offered only to be refused."""
    status = Status(item.status)
    if status is Status.assigned:
        return [[item_button(_("Принять в работу"), "accept", item.id), item_button(_("Не наше"), "notours", item.id)]]
    if status not in RECIPIENT_WORK:
        return []
    rows = [
        [item_button(_("Ответить"), "answer", item.id), item_button(_("Вопрос заявителю"), "ask", item.id)],
        [item_button(_("Промежуточный ответ"), "interim", item.id), item_button(_("Не наше"), "notours", item.id)],
    ]
    if status is Status.reopened:
        rows.insert(0, [item_button(_("Принять в работу"), "accept", item.id)])
    if extendable and not item.extended and item.extension_requested_at is None:
        rows.append([item_button(_("Продлить срок"), "extend", item.id)])
    return rows


def review_buttons(item: Item, _: Gettext) -> list[list[dict[str, str]]]:
    if item.status != Status.under_review:
        return []
    return [[item_button(_("Утвердить и отправить"), "approve", item.id),
             item_button(_("На доработку"), "rework", item.id)]]


def extension_buttons(item: Item, _: Gettext) -> list[list[dict[str, str]]]:
    if item.extension_requested_at is None:
        return []
    return [[item_button(_("Продлить на 30 дней"), "extyes", item.id), item_button(_("Отказать"), "extno", item.id)]]


def staff_buttons(d: CardData, actions: frozenset[str], _: Gettext, *,
                  extendable: bool = True) -> dict[str, Any] | None:
    """The buttons of the actions the viewer may take now (`actions` from lifecycle.allowed_actions)."""
    rows: list[list[dict[str, str]]] = []
    item = d.item
    if "route" in actions and item.status in TRIAGE_STATUSES:
        rows += triage_buttons(d, _)
    if "accept" in actions:
        rows += recipient_buttons(item, _, extendable=extendable)
    if "approve" in actions:
        rows += review_buttons(item, _)
    if "extyes" in actions:
        rows += extension_buttons(item, _)
    return keyboard(rows)


async def staff_card(ctx: Any, item: Item, staff: Any) -> tuple[str, dict[str, Any] | None]:
    """The card of `/item N` and `/queue` for one staff member, with the buttons they may use."""
    from core.i18n import gettext_for
    from core.lifecycle import allowed_actions

    language = getattr(staff, "language", None)
    _ = gettext_for(language)
    d = await card_data(ctx.session, item, language)
    text = card_text(d, ctx.now, ctx.tz, _, with_applicant=True)
    extendable = ctx.deadlines.book.durations_of(item).extension is not None
    return text, staff_buttons(d, allowed_actions(staff, item), _, extendable=extendable)
