"""The citizen's intake dialogue: its handlers and routers.

The first message becomes a numbered draft item at once (`received`: nothing is lost if the
citizen walks away); the steps (bot/intake_steps.py) fill it in, what the citizen sends at each
step is taken by bot/intake_input.py, and the citizen's confirmation registers the item.
«Отменить» withdraws the draft. A dialogue left for a while is offered back («Продолжить» /
«Начать заново») the next time the citizen writes or presses /start.

Every press is checked against the dialogue it belongs to (its draft and its step): a button left
from an earlier step or dialogue, or a forged one, changes nothing.
"""
from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart, StateFilter
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot import keyboards as kb
from bot import texts
from bot.callbacks import DialogCb, KindCb, SettlementCb, SettlementPageCb, TopicCb
from bot.intake_input import dialogue_input, keep_quietly
from bot.intake_steps import (
    DRAFT,
    EDIT,
    EDIT_BASE,
    PENDING_KEY,
    RESUME_TO,
    SETTLEMENTS_PER_PAGE,
    STEPS,
    TRAIL,
    Intake,
    advance,
    ask,
    continue_draft,
    draft_in_dialogue,
    drop_dialogue,
    file_count,
    go_back,
    hold_until_consent,
    new_draft,
    offer_resume,
    start_from_pending,
    topic_name,
    touch,
)
from bot.turn import Turn, incoming_from, make_turn
from core.cards import kind_label
from core.citizens import set_phone
from core.intake import (
    DraftError,
    confirm_draft,
    latest_draft,
    set_applicant,
    set_kind,
)
from core.lifecycle import lifecycle_context
from core.settlements import active_settlements
from db.models import Citizen, Item, ItemKind, Settlement, Topic

log = logging.getLogger(__name__)

ACCEPTED = F.text | F.photo | F.document | F.voice | F.audio | F.video | F.location
UNSUPPORTED = F.sticker | F.video_note | F.animation | F.dice | F.poll | F.game | F.venue


# --- messages -----------------------------------------------------------------------------------------


async def on_message(message: Message, throttled: bool, throttle_notice: bool, **data: Any) -> None:
    turn = make_turn(message, data)
    incoming = incoming_from(message)
    if not turn.citizen.has_consent:
        await hold_until_consent(turn, incoming)
        await turn.flush()
        return
    await _lock_citizen(turn)
    # Read again inside the update's transaction: a message right after another one must see the
    # dialogue the first one opened (aiogram read the state before the transaction began).
    current = await turn.state.get_state()
    item = await draft_in_dialogue(turn) if current in STEPS or current == Intake.resume.state else None
    if item is None:
        if current is not None and current.startswith("Intake:"):
            await turn.state.clear()  # the draft was registered, withdrawn or rejected meanwhile
        if throttled:
            await keep_quietly(turn, incoming, throttle_notice)
        else:
            await new_draft(turn, incoming)
        await turn.flush()
        return
    await dialogue_input(turn, item, current, incoming, throttled, throttle_notice)
    await turn.flush()


async def _lock_citizen(turn: Turn) -> None:
    # PostgreSQL: one citizen's messages are handled one after another, so two quick messages
    # cannot both open a draft. SQLite serialises writers anyway.
    if turn.session.bind.dialect.name == "postgresql":
        await turn.session.execute(select(Citizen.id).where(Citizen.id == turn.citizen.id).with_for_update())


async def on_contact_at_phone_step(message: Message, **data: Any) -> None:
    turn = make_turn(message, data)
    item = await draft_in_dialogue(turn)
    contact = message.contact
    own = contact is not None and contact.user_id in (None, message.from_user.id if message.from_user else None)
    if item is None:
        raise SkipHandler  # the ordinary contact handler saves it
    if not own:
        turn.notes.append(texts.phone_foreign())
        await ask(turn, item, Intake.phone.state, again=True)
    else:
        assert contact is not None
        set_phone(turn.citizen, contact.phone_number)
        await advance(turn, item, Intake.phone.state, texts.phone_saved())
    await turn.flush()


async def on_unsupported_in_dialogue(message: Message, **data: Any) -> None:
    turn = make_turn(message, data)
    current = await turn.state.get_state()
    item = await draft_in_dialogue(turn)
    turn.notes.append(texts.unsupported_content())
    if item is not None and current in STEPS:
        await ask(turn, item, current, again=True)
    await turn.flush()


async def on_unsupported(message: Message) -> None:
    await message.answer(texts.unsupported_content())


async def on_start_with_draft(message: Message, **data: Any) -> None:
    """/start while a draft is open: offer it back instead of the greeting."""
    turn = make_turn(message, data)
    if not turn.citizen.has_consent:
        raise SkipHandler
    current = await turn.state.get_state()
    item = await draft_in_dialogue(turn)
    if item is not None:
        resume_to = (await turn.state.get_data()).get(RESUME_TO) if current == Intake.resume.state else current
        pending = (await turn.state.get_data()).get(PENDING_KEY, []) if current == Intake.resume.state else []
        await offer_resume(turn, item, resume_to, pending)
    elif current is None and (item := await latest_draft(turn.session, turn.citizen.id, turn.now)) is not None:
        # A draft whose dialogue was lost (another dialogue replaced it): start it from the top.
        await turn.state.set_data({DRAFT: item.id, TRAIL: []})
        await offer_resume(turn, item, None, [])
    else:
        raise SkipHandler  # no draft: the usual greeting
    await turn.flush()


# --- buttons ------------------------------------------------------------------------------------------


async def _pressed(query: CallbackQuery, draft: int, allowed: frozenset[str] | set[str],
                   data: dict[str, Any]) -> tuple[Turn, Item, str] | None:
    """The press belongs to the open dialogue of this draft and to the step now asked; else it is
    an old or forged button and changes nothing."""
    if not isinstance(query.message, Message):
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return None
    turn = make_turn(query, data)
    current = await turn.state.get_state()
    state_data = await turn.state.get_data()
    item = await draft_in_dialogue(turn) if state_data.get(DRAFT) == draft else None
    if item is None or current not in allowed:
        if item is None and state_data.get(DRAFT) != draft:
            log.info("stale or foreign dialogue button: citizen id=%s", turn.citizen.id)
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return None
    await touch(turn)
    return turn, item, current


async def on_kind(query: CallbackQuery, callback_data: KindCb, **data: Any) -> None:
    pressed = await _pressed(query, callback_data.draft, {Intake.kind.state}, data)
    if pressed is None:
        return
    turn, item, current = pressed
    if callback_data.kind not in (ItemKind.message.value, ItemKind.appeal.value):
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    set_kind(item, ItemKind(callback_data.kind))
    await advance(turn, item, current, _("Вид: {kind}.").format(kind=kind_label(item.kind, _)))
    await turn.flush()


async def on_topic(query: CallbackQuery, callback_data: TopicCb, **data: Any) -> None:
    pressed = await _pressed(query, callback_data.draft, {Intake.topic.state, Intake.topic_pick.state}, data)
    if pressed is None:
        return
    turn, item, current = pressed
    topic = await turn.session.scalar(select(Topic).where(Topic.code == callback_data.code))
    if topic is None:
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    item.topic_id = topic.id
    name = await topic_name(turn.session, topic_id=topic.id)
    await advance(turn, item, current, _("Тема: {topic}.").format(topic=escape(name or "")))
    await turn.flush()


async def on_settlement(query: CallbackQuery, callback_data: SettlementCb, **data: Any) -> None:
    pressed = await _pressed(query, callback_data.draft, {Intake.settlement.state}, data)
    if pressed is None:
        return
    turn, item, current = pressed
    settlement = await turn.session.get(Settlement, callback_data.settlement_id)
    if settlement is None or not settlement.is_active:
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    item.settlement_id = settlement.id
    await advance(turn, item, current, _("Населённый пункт: {name}.").format(name=escape(settlement.name)))
    await turn.flush()


async def on_settlement_page(query: CallbackQuery, callback_data: SettlementPageCb, **data: Any) -> None:
    pressed = await _pressed(query, callback_data.draft, {Intake.settlement.state}, data)
    if pressed is None:
        return
    turn, item, _current = pressed
    await turn.state.update_data({"page": callback_data.page})
    settlements = await active_settlements(turn.session)
    pages = max(1, -(-len(settlements) // SETTLEMENTS_PER_PAGE))
    page = min(max(callback_data.page, 0), pages - 1)
    shown = settlements[page * SETTLEMENTS_PER_PAGE:(page + 1) * SETTLEMENTS_PER_PAGE]
    can_skip = item.kind != ItemKind.appeal
    await query.answer()
    # The same question, another page of its list: edited in place.
    try:
        await turn.chat.edit_text(texts.settlement_prompt(page, pages, can_skip), reply_markup=kb.settlement_keyboard(
            item.id, [(s.id, s.name) for s in shown], page=page, pages=pages, can_skip=can_skip))
    except TelegramBadRequest:
        pass  # this page is already shown


async def on_dialog_action(query: CallbackQuery, callback_data: DialogCb, **data: Any) -> None:
    action = callback_data.action
    allowed = ACTION_STEPS.get(action)
    if allowed is None:
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    pressed = await _pressed(query, callback_data.draft, allowed, data)
    if pressed is None:
        return
    turn, item, current = pressed
    await ACTIONS[action](turn, item, current)
    await turn.flush()


async def _back(turn: Turn, item: Item, current: str) -> None:
    await go_back(turn, item, current)


async def _cancel(turn: Turn, item: Item, current: str) -> None:
    await drop_dialogue(turn, "отменено заявителем в диалоге")
    turn.say(texts.dialogue_cancelled(item.number), ReplyKeyboardRemove())


async def _other_topic(turn: Turn, item: Item, current: str) -> None:
    data = await turn.state.get_data()
    await turn.state.set_state(Intake.topic_pick)
    await turn.state.update_data({TRAIL: [*data.get(TRAIL, []), current]})
    await ask(turn, item, Intake.topic_pick.state)


async def _skip(turn: Turn, item: Item, current: str) -> None:
    if current == Intake.settlement.state and item.kind == ItemKind.appeal:
        # The button is not offered for a 59-ФЗ appeal; a forged one asks again.
        await ask(turn, item, current)
        return
    await advance(turn, item, current, texts.skipped())


async def _done(turn: Turn, item: Item, current: str) -> None:
    await advance(turn, item, current, _("Вложений: {count}.").format(count=await file_count(turn.session, item)))


async def _confirm(turn: Turn, item: Item, current: str) -> None:
    ctx = await lifecycle_context(turn.session, turn.settings, turn.now, turn.deadline_cache)
    try:
        await confirm_draft(ctx, item, turn.citizen)
    except DraftError:
        # A 59-ФЗ appeal without a name or an address (the steps were skipped somehow): ask them.
        await turn.state.set_state(Intake.full_name)
        await ask(turn, item, Intake.full_name.state)
        return
    await turn.state.clear()
    due = None if item.due_answer_at is None else item.due_answer_at.astimezone(turn.settings.tz).strftime("%d.%m.%Y")
    turn.say(texts.registered(item.number, item.kind == ItemKind.appeal, due, item.reply_address))


async def _edit(turn: Turn, item: Item, group: str, target: str) -> None:
    data = await turn.state.get_data()
    trail = list(data.get(TRAIL, []))
    await turn.state.set_state(target)
    await turn.state.update_data({EDIT: group, EDIT_BASE: len(trail), TRAIL: [*trail, Intake.summary.state],
                                  "page": 0})
    await ask(turn, item, target)


async def _edit_topic(turn: Turn, item: Item, current: str) -> None:
    await _edit(turn, item, "topic", Intake.topic_pick.state)


async def _edit_place(turn: Turn, item: Item, current: str) -> None:
    await _edit(turn, item, "place", Intake.settlement.state)


async def _edit_files(turn: Turn, item: Item, current: str) -> None:
    await _edit(turn, item, "files", Intake.files.state)


async def _use_name(turn: Turn, item: Item, current: str) -> None:
    if not turn.citizen.full_name:
        await ask(turn, item, current)
        return
    set_applicant(item, turn.citizen, turn.citizen.full_name)
    await advance(turn, item, current)


async def _use_address(turn: Turn, item: Item, current: str) -> None:
    saved = turn.citizen.email or turn.citizen.postal_address
    if not saved:
        await ask(turn, item, current)
        return
    item.reply_address = saved
    await advance(turn, item, current)


async def _continue(turn: Turn, item: Item, current: str) -> None:
    await continue_draft(turn, item)


async def _restart(turn: Turn, item: Item, current: str) -> None:
    pending = list((await turn.state.get_data()).get(PENDING_KEY, []))
    await drop_dialogue(turn, "заявитель начал оформление заново")
    note = texts.started_over(item.number)
    if pending and await start_from_pending(turn, pending, note) is not None:
        return
    turn.say(note + "\n\n" + texts.describe_problem())


ACTIONS = {
    "back": _back, "cancel": _cancel, "topics": _other_topic, "skip": _skip, "done": _done, "confirm": _confirm,
    "edit_topic": _edit_topic, "edit_place": _edit_place, "edit_files": _edit_files, "use_name": _use_name,
    "use_address": _use_address, "continue": _continue, "restart": _restart,
}
S = Intake
ACTION_STEPS: dict[str, frozenset[str]] = {
    "back": STEPS - {S.kind.state},
    "cancel": STEPS | {S.resume.state},
    "topics": frozenset({S.topic.state}),
    "skip": frozenset({S.settlement.state, S.address.state, S.phone.state}),
    "done": frozenset({S.files.state}),
    "confirm": frozenset({S.summary.state}),
    "edit_topic": frozenset({S.summary.state}),
    "edit_place": frozenset({S.summary.state}),
    "edit_files": frozenset({S.summary.state}),
    "use_name": frozenset({S.full_name.state}),
    "use_address": frozenset({S.reply_address.state}),
    "continue": frozenset({S.resume.state}),
    "restart": frozenset({S.resume.state}),
}


# --- routers ------------------------------------------------------------------------------------------

IN_DIALOGUE = StateFilter(*Intake.__all_states__)


def _not_a_command(message: Message) -> bool:
    return not (message.text or message.caption or "").startswith("/")


def make_priority_router() -> Router:
    """Before the greeting and the ordinary contact handler: /start and a contact mid-dialogue.

    Also the citizen's own words, the commonest update by far: taken here, they skip a dozen
    routers of commands and of staff dialogues, none of which takes a message that is not a
    command outside its own states. A media message with a command in its caption still goes
    the long way (`/my` in a caption is the command), and reaches `make_router` if nobody takes it.
    """
    router = Router(name="dialogue-priority")
    router.message.register(on_start_with_draft, CommandStart())
    router.message.register(on_contact_at_phone_step, F.contact, StateFilter(Intake.phone))
    router.message.register(on_message, ACCEPTED, _not_a_command, StateFilter(None, *Intake.__all_states__))
    return router


def make_router() -> Router:
    router = Router(name="dialogue")
    router.message.register(on_message, ACCEPTED, ~F.text.startswith("/"), StateFilter(None, *Intake.__all_states__))
    router.message.register(on_unsupported_in_dialogue, UNSUPPORTED, IN_DIALOGUE)
    router.message.register(on_unsupported, UNSUPPORTED)
    router.callback_query.register(on_kind, KindCb.filter())
    router.callback_query.register(on_topic, TopicCb.filter())
    router.callback_query.register(on_settlement, SettlementCb.filter())
    router.callback_query.register(on_settlement_page, SettlementPageCb.filter())
    router.callback_query.register(on_dialog_action, DialogCb.filter())
    return router
