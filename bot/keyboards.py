"""Keyboards: inline buttons, and the reply keyboards that ask for a location or a phone."""
from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    ConsentCb,
    DialogCb,
    KindCb,
    LangCb,
    MyItemCb,
    SettlementCb,
    SettlementPageCb,
    TopicCb,
)


def consent_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Согласен(на)"), callback_data=ConsentCb(agree=True))
    kb.button(text=_("Не согласен(на)"), callback_data=ConsentCb(agree=False))
    kb.adjust(2)
    return kb.as_markup()


def language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="Русский", callback_data=LangCb(code="ru"))
    kb.button(text="English", callback_data=LangCb(code="en"))
    kb.adjust(2)
    return kb.as_markup()


# --- the intake dialogue ---------------------------------------------------------------------------


def _nav(kb: InlineKeyboardBuilder, draft: int, *, back: bool = True) -> None:
    """Every step ends with «Назад» (except the first) and «Отменить»."""
    row = []
    if back:
        row.append(InlineKeyboardButton(text=_("« Назад"), callback_data=DialogCb(action="back", draft=draft).pack()))
    row.append(InlineKeyboardButton(text=_("✖ Отменить"), callback_data=DialogCb(action="cancel", draft=draft).pack()))
    kb.row(*row)


def _action(text: str, action: str, draft: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=DialogCb(action=action, draft=draft).pack())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def kind_keyboard(draft: int) -> InlineKeyboardMarkup:
    # Built directly, not through InlineKeyboardBuilder: it is the reply to every first message,
    # and the builder deep-copies every button (a measurable share of the intake's time).
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Сообщение"), callback_data=KindCb(kind="message", draft=draft).pack()),
         InlineKeyboardButton(text=_("Обращение по 59-ФЗ"), callback_data=KindCb(kind="appeal", draft=draft).pack())],
        [InlineKeyboardButton(text=_("✖ Отменить"), callback_data=DialogCb(action="cancel", draft=draft).pack())],
    ])


def saved_value_keyboard(draft: int, action: str, saved: str | None) -> InlineKeyboardMarkup:
    """«Использовать: …» offers what the citizen gave last time (name or address)."""
    kb = InlineKeyboardBuilder()
    if saved:
        kb.row(_action(_("Использовать: {value}").format(value=_short(saved)), action, draft))
    _nav(kb, draft)
    return kb.as_markup()


def topic_suggestion_keyboard(draft: int, code: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(
        InlineKeyboardButton(text=_("Да"), callback_data=TopicCb(code=code, draft=draft).pack()),
        _action(_("Выбрать другую"), "topics", draft),
    )
    _nav(kb, draft)
    return kb.as_markup()


def topic_list_keyboard(draft: int, topics: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """`topics`: (code, name) in the decree's order, «Прочее» last."""
    kb = InlineKeyboardBuilder()
    buttons = [InlineKeyboardButton(text=name, callback_data=TopicCb(code=code, draft=draft).pack())
               for code, name in topics]
    for i in range(0, len(buttons), 2):
        kb.row(*buttons[i:i + 2])
    _nav(kb, draft)
    return kb.as_markup()


def settlement_keyboard(draft: int, settlements: Sequence[tuple[int, str]], *, page: int, pages: int,
                        can_skip: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    buttons = [InlineKeyboardButton(text=_short(name, 30),
                                    callback_data=SettlementCb(settlement_id=sid, draft=draft).pack())
               for sid, name in settlements]
    for i in range(0, len(buttons), 2):
        kb.row(*buttons[i:i + 2])
    if pages > 1:
        turn = []
        if page > 0:
            turn.append(InlineKeyboardButton(text=_("◀ Назад по списку"),
                                             callback_data=SettlementPageCb(page=page - 1, draft=draft).pack()))
        if page < pages - 1:
            turn.append(InlineKeyboardButton(text=_("Дальше по списку ▶"),
                                             callback_data=SettlementPageCb(page=page + 1, draft=draft).pack()))
        kb.row(*turn)
    if can_skip:
        kb.row(_action(_("Пропустить"), "skip", draft))
    _nav(kb, draft)
    return kb.as_markup()


def skip_keyboard(draft: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_action(_("Пропустить"), "skip", draft))
    _nav(kb, draft)
    return kb.as_markup()


def files_keyboard(draft: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_action(_("✅ Готово"), "done", draft))
    _nav(kb, draft)
    return kb.as_markup()


def summary_keyboard(draft: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_action(_("✅ Подтвердить"), "confirm", draft))
    kb.row(_action(_("Изменить тему"), "edit_topic", draft), _action(_("Изменить место"), "edit_place", draft))
    kb.row(_action(_("Добавить файлы"), "edit_files", draft))
    _nav(kb, draft)
    return kb.as_markup()


def resume_keyboard(draft: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_action(_("Продолжить"), "continue", draft), _action(_("Начать заново"), "restart", draft))
    return kb.as_markup()


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Отправить геопозицию"), request_location=True)]],
        resize_keyboard=True, one_time_keyboard=True,
    )


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Отправить номер"), request_contact=True)]],
        resize_keyboard=True, one_time_keyboard=True,
    )


def no_reply_keyboard() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


# --- /my ----------------------------------------------------------------------------------------------


def my_items_keyboard(items: Sequence[tuple[int, str, bool]]) -> InlineKeyboardMarkup | None:
    """`items`: (id, number, is_draft) of open items. A draft is continued; a registered item is
    added to or withdrawn."""
    kb = InlineKeyboardBuilder()
    for item_id, number, is_draft in items:
        short = number.split("-")[-1].lstrip("0") or "0"
        first = (_("Продолжить № {n}") if is_draft else _("Дополнить № {n}")).format(n=short)
        kb.row(
            InlineKeyboardButton(text=first, callback_data=MyItemCb(
                action="resume" if is_draft else "add", item_id=item_id).pack()),
            InlineKeyboardButton(text=_("Отозвать № {n}").format(n=short),
                                 callback_data=MyItemCb(action="withdraw", item_id=item_id).pack()),
        )
    return kb.as_markup() if items else None


def withdraw_confirm_keyboard(item_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(
        InlineKeyboardButton(text=_("Да, отозвать"), callback_data=MyItemCb(action="wyes", item_id=item_id).pack()),
        InlineKeyboardButton(text=_("Нет"), callback_data=MyItemCb(action="wno", item_id=item_id).pack()),
    )
    return kb.as_markup()


def addition_keyboard(item_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(InlineKeyboardButton(text=_("✖ Отменить"),
                                callback_data=MyItemCb(action="addcancel", item_id=item_id).pack()))
    return kb.as_markup()


def nav_keyboard(draft: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    _nav(kb, draft)
    return kb.as_markup()
