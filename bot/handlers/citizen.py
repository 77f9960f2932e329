"""The citizen outside the intake dialogue: consent, /stop, a shared phone, /my with «Дополнить»
(the next message joins the item) and «Отозвать» (after a confirmation)."""
from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot import texts
from bot.callbacks import ConsentCb, MyItemCb
from bot.handlers.common import consent_text
from bot.handlers.dialogue import ACCEPTED, UNSUPPORTED
from bot.intake_steps import (
    DRAFT,
    PENDING_KEY,
    STEPS,
    ask,
    continue_draft,
    draft_in_dialogue,
    drop_dialogue,
    new_draft,
    start_from_pending,
)
from bot.keyboards import consent_keyboard
from bot.turn import Turn, incoming_from, make_turn, without_big_files
from core.citizens import give_consent, set_phone, withdraw_consent
from core.intake import add_to_item, citizen_items
from core.lifecycle import TransitionError, lifecycle_context, load_item, withdraw
from db.models import OPEN_STATUSES, Item, Status

log = logging.getLogger(__name__)
MY_BUTTONS_LIMIT = 10  # open items with buttons under /my; older ones are listed only


class Addition(StatesGroup):
    waiting = State()  # «Дополнить»: the next message joins the item


ADD_TO, ADD_RETURN = "add_to", "add_return"


async def my_items(message: Message, **data: Any) -> None:
    turn = make_turn(message, data)
    items, total = await citizen_items(turn.session, turn.citizen.id)
    if not items:
        await message.answer(_("У вас пока нет сообщений. Опишите проблему — и она получит номер."))
        return
    tz = turn.settings.tz
    lines = [texts.item_line(i, i.received_at.astimezone(tz).strftime("%d.%m.%Y")) for i in items]
    header = _("<b>Ваши сообщения</b> (последние {shown} из {total}):").format(shown=len(items), total=total)
    open_items = [(i.id, i.number, i.status == Status.received) for i in items
                  if i.status in OPEN_STATUSES][:MY_BUTTONS_LIMIT]
    text = header + "\n\n" + "\n\n".join(lines)
    if open_items:
        text += "\n\n" + _("Кнопками ниже можно дополнить или отозвать открытые сообщения.")
    await message.answer(text, reply_markup=kb.my_items_keyboard(open_items))


async def consent_answer(query: CallbackQuery, callback_data: ConsentCb, **data: Any) -> None:
    turn = make_turn(query, data)
    pending = (await turn.state.get_data()).get(PENDING_KEY, [])
    if not callback_data.agree:
        withdraw_consent(turn.citizen, turn.now)
        await turn.state.update_data({PENDING_KEY: []})
        await query.answer()
        await turn.chat.edit_text(
            _("Без согласия мы не можем принять сообщение: в нём ваши персональные данные. "
              "Если передумаете, нажмите /start. Позвонить в администрацию можно и без бота.")
        )
        return
    give_consent(turn.citizen, turn.now)
    await turn.state.update_data({PENDING_KEY: []})
    thanks = _("Спасибо, согласие получено.")
    if not pending or await start_from_pending(turn, pending, thanks) is None:
        turn.notes.clear()
        turn.say(thanks + "\n\n" + _("Опишите, что случилось, — одним сообщением."))
    await query.answer(_("Спасибо!"))
    # Keep the greeting readable; only its buttons go.
    await turn.chat.edit_reply_markup(reply_markup=None)
    turn.query = None
    await turn.flush()


async def stop(message: Message, **data: Any) -> None:
    """Withdraw consent (152-ФЗ): nothing new is taken until the citizen agrees again; a draft that
    was being filled in is withdrawn with it."""
    turn = make_turn(message, data)
    withdraw_consent(turn.citizen, turn.now)
    if (await turn.state.get_state() or "").startswith("Intake:"):
        await drop_dialogue(turn, "согласие на обработку данных отозвано")
    await turn.state.update_data({PENDING_KEY: []})
    await message.answer(
        _("Согласие отозвано. Новые сообщения мы не примем, пока вы снова не дадите согласие (/start). "
          "Уже поданные сообщения будут рассмотрены до конца."),
        reply_markup=kb.no_reply_keyboard(),
    )


async def contact(message: Message, **data: Any) -> None:
    turn = make_turn(message, data)
    if not turn.citizen.has_consent:
        await message.answer(consent_text(), reply_markup=consent_keyboard())
        return
    if message.contact and message.contact.user_id not in (None, message.from_user.id if message.from_user else None):
        await message.answer(texts.phone_foreign())
        return
    set_phone(turn.citizen, message.contact.phone_number if message.contact else "")
    await message.answer(_("Телефон сохранён: по нему с вами смогут связаться по вашему сообщению."))


# --- /my buttons ----------------------------------------------------------------------------------------


async def _own_item(query: CallbackQuery, turn: Turn, item_id: int, action: str) -> Item | None:
    """The item, if it is the presser's; a forged or forwarded button changes nothing."""
    item = await load_item(turn.session, item_id)
    if item is None or item.citizen_id != turn.citizen.id:
        # Ids only: enough to look into it, no personal data in the log.
        log.warning("refused /my press %s on item id=%s by citizen id=%s", action, item_id, turn.citizen.id)
        await query.answer(texts.not_yours(), show_alert=True)
        return None
    return item


async def on_my_item(query: CallbackQuery, callback_data: MyItemCb, **data: Any) -> None:
    if not isinstance(query.message, Message):
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    turn = make_turn(query, data)
    action = callback_data.action
    handler = MY_ACTIONS.get(action)
    if handler is None:
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    item = await _own_item(query, turn, callback_data.item_id, action)
    if item is None:
        return
    keep = await handler(turn, item)
    await turn.flush(keep_buttons=keep)


async def _resume(turn: Turn, item: Item) -> bool:
    if item.status != Status.received:
        turn.say(texts.draft_gone())
        return True
    await continue_draft(turn, item)
    return True


async def _add(turn: Turn, item: Item) -> bool:
    if item.status not in OPEN_STATUSES or item.status == Status.received:
        turn.say(texts.draft_gone())
        return True
    current = await turn.state.get_state()
    await turn.state.set_state(Addition.waiting)
    await turn.state.update_data({ADD_TO: item.id, ADD_RETURN: current if current in STEPS else None})
    turn.say(texts.addition_prompt(item.number), kb.addition_keyboard(item.id))
    return True


async def _ask_withdraw(turn: Turn, item: Item) -> bool:
    if item.status not in OPEN_STATUSES:
        turn.say(texts.draft_gone())
        return True
    turn.say(texts.withdraw_question(item.number), kb.withdraw_confirm_keyboard(item.id))
    return True


async def _withdraw_yes(turn: Turn, item: Item) -> bool:
    ctx = await lifecycle_context(turn.session, turn.settings, turn.now, turn.deadline_cache)
    try:
        async with turn.session.begin_nested():
            await withdraw(ctx, item, turn.citizen)
    except TransitionError as err:
        turn.say(err.localized(_))
        return False
    if (await turn.state.get_data()).get(DRAFT) == item.id:
        await turn.state.clear()  # it was the draft of the open dialogue
    turn.say(texts.withdrawn(item.number), kb.no_reply_keyboard())
    return False


async def _withdraw_no(turn: Turn, item: Item) -> bool:
    turn.say(_("Хорошо, № {number} остаётся в работе.").format(number=item.number))
    return False


async def _add_cancel(turn: Turn, item: Item) -> bool:
    turn.notes.append(_("Хорошо, ничего не добавляем."))
    if await turn.state.get_state() == Addition.waiting.state:
        await _leave_addition(turn)
    return False


MY_ACTIONS = {"resume": _resume, "add": _add, "withdraw": _ask_withdraw, "wyes": _withdraw_yes,
              "wno": _withdraw_no, "addcancel": _add_cancel}


async def _leave_addition(turn: Turn) -> None:
    """Back to the intake dialogue «Дополнить» interrupted, if there was one."""
    data = await turn.state.get_data()
    back = data.get(ADD_RETURN)
    await turn.state.update_data({ADD_TO: None, ADD_RETURN: None})
    item = await draft_in_dialogue(turn) if back in STEPS else None
    if item is None:
        await turn.state.set_state(None)
        return
    await turn.state.set_state(back)
    turn.notes.append(texts.resume_continued(item.number))
    await ask(turn, item, back)


async def on_addition(message: Message, **data: Any) -> None:
    turn = make_turn(message, data)
    incoming = without_big_files(turn, incoming_from(message))
    if incoming.is_empty:
        await turn.flush()
        return
    item_id = (await turn.state.get_data()).get(ADD_TO)
    item = None if item_id is None else await load_item(turn.session, int(item_id))
    if item is None or item.citizen_id != turn.citizen.id:
        await _leave_addition(turn)
        await new_draft(turn, incoming)
    elif item.status not in OPEN_STATUSES:
        # Closed meanwhile: the message is a new story, not lost.
        await _leave_addition(turn)
        turn.notes.append(texts.item_closed_new_draft(item.number))
        await new_draft(turn, incoming)
    else:
        await add_to_item(turn.session, item, turn.citizen, incoming, turn.now)
        turn.notes.append(texts.addition_saved(item.number))
        await _leave_addition(turn)
    await turn.flush()


async def on_addition_unsupported(message: Message) -> None:
    await message.answer(texts.unsupported_content())


def make_router() -> Router:
    router = Router(name="citizen")
    router.message.register(my_items, Command("my"))
    router.message.register(stop, Command("stop"))
    router.callback_query.register(consent_answer, ConsentCb.filter())
    router.callback_query.register(on_my_item, MyItemCb.filter())
    router.message.register(contact, F.contact)
    router.message.register(on_addition, StateFilter(Addition.waiting), ACCEPTED, ~F.text.startswith("/"))
    router.message.register(on_addition_unsupported, StateFilter(Addition.waiting), UNSUPPORTED)
    return router
