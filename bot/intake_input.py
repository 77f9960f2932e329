"""What the citizen sends during the intake dialogue, step by step. Nothing is lost: what does
not answer the step joins the draft, and the question is asked again."""
from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot import texts
from bot.intake_steps import (
    DRAFT,
    PENDING_KEY,
    RESUME_TO,
    SETTLEMENTS_PER_PAGE,
    SUGGESTED,
    TOUCHED,
    TRAIL,
    Intake,
    abandoned,
    advance,
    ask,
    file_count,
    offer_resume,
    touch,
)
from bot.turn import SEEN_ALBUMS, Turn, incoming_to_dict, without_big_files
from core.citizens import set_phone
from core.classify import suggest_topic
from core.intake import (
    BadInput,
    Incoming,
    add_to_draft,
    add_to_item,
    check_full_name,
    check_reply_address,
    latest_open_item,
    receive_bot_message,
    set_applicant,
    set_reply_address,
)
from core.settlements import active_settlements, match_settlements, nearest_settlement
from db.models import Item, ItemKind, Status


async def dialogue_input(turn: Turn, item: Item, current: str, incoming: Incoming, throttled: bool,
                          throttle_notice: bool) -> None:
    if incoming.media_group_id and (incoming.media_group_id == item.tg_media_group_id
                                    or not SEEN_ALBUMS.first(incoming.tg_chat_id or 0, incoming.media_group_id)):
        # A later part of an album: its first part was answered.
        add_to_draft(turn.session, item, without_big_files(turn, incoming))
        turn.notes.clear()
        return
    if throttled:
        add_to_draft(turn.session, item, without_big_files(turn, incoming))
        turn.notes.clear()
        if throttle_notice:
            turn.say(_flood_notice(item.number))
        return
    data = await turn.state.get_data()
    if current == Intake.resume.state:
        pending = list(data.get(PENDING_KEY, [])) + [incoming_to_dict(incoming)]
        await offer_resume(turn, item, data.get(RESUME_TO), pending)
        return
    if abandoned(data, turn.now):
        await offer_resume(turn, item, current, [incoming_to_dict(incoming)])
        return
    await touch(turn)
    incoming = without_big_files(turn, incoming)
    if incoming.is_empty:
        await ask(turn, item, current, again=True)  # only a refused file: the note says why
        return
    await STEP_INPUT[current](turn, item, current, incoming)


def _flood_notice(number: str) -> str:
    return _("Вы присылаете сообщения очень часто. Ничего не потеряется: всё, что вы пишете, "
             "добавляется к сообщению <b>№ {number}</b>. Подождите немного перед следующим.").format(number=number)


async def keep_quietly(turn: Turn, incoming: Incoming, notice: bool) -> None:
    """A flood outside a dialogue: everything joins the latest open item, with one notice."""
    incoming = without_big_files(turn, incoming)
    turn.notes.clear()
    if incoming.is_empty:
        return
    item = await latest_open_item(turn.session, turn.citizen.id)
    if item is None:
        item = (await receive_bot_message(turn.session, turn.citizen, incoming, turn.now, turn.settings.tz)).item
        # The dialogue starts quietly; the next message the citizen sends gets its question.
        await turn.state.set_state(Intake.kind)
        await turn.state.set_data({DRAFT: item.id, TRAIL: [], TOUCHED: turn.now.isoformat()})
    elif item.status == Status.received and item.citizen_id == turn.citizen.id:
        add_to_draft(turn.session, item, incoming)
    else:
        await add_to_item(turn.session, item, turn.citizen, incoming, turn.now)
    if notice:
        turn.say(_flood_notice(item.number))


def _only_text(incoming: Incoming) -> bool:
    return bool(incoming.text.strip()) and not incoming.files and incoming.latitude is None


async def _added_and_ask(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    """Not the answer the step waits for: kept with the draft, and the question asked again."""
    add_to_draft(turn.session, item, incoming)
    turn.notes.append(texts.added_and_repeat())
    await ask(turn, item, current, again=True)


async def _input_full_name(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    if not _only_text(incoming):
        await _added_and_ask(turn, item, current, incoming)
        return
    try:
        name = check_full_name(incoming.text)
    except BadInput as bad:
        _keep_long_text(turn, item, incoming)
        turn.notes.append(texts.full_name_error(bad.reason))
        await ask(turn, item, current, again=True)
        return
    set_applicant(item, turn.citizen, name)
    await advance(turn, item, current)


async def _input_reply_address(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    if not _only_text(incoming):
        await _added_and_ask(turn, item, current, incoming)
        return
    try:
        address = check_reply_address(incoming.text)
    except BadInput as bad:
        _keep_long_text(turn, item, incoming)
        turn.notes.append(texts.reply_address_error(bad.reason))
        await ask(turn, item, current, again=True)
        return
    set_reply_address(item, turn.citizen, address)
    await advance(turn, item, current)


def _keep_long_text(turn: Turn, item: Item, incoming: Incoming) -> None:
    # A long text where a name or an address was asked is most likely more of the story.
    if len(incoming.text.split()) > 25:
        add_to_draft(turn.session, item, incoming)
        turn.notes.append(texts.text_added())


async def _input_topic(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    # More words may make the topic clear: suggest again from the whole text.
    add_to_draft(turn.session, item, incoming)
    turn.notes.append(texts.text_added() if _only_text(incoming) else texts.added_and_repeat())
    if current == Intake.topic.state:
        await turn.state.update_data({SUGGESTED: suggest_topic(item.text)})
    await ask(turn, item, current, again=True)


async def _input_settlement(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    settlements = await active_settlements(turn.session)
    if incoming.latitude is not None and incoming.longitude is not None:
        item.latitude, item.longitude = incoming.latitude, incoming.longitude
        add_to_draft(turn.session, item, Incoming(text=incoming.text, files=incoming.files))
        near = nearest_settlement(settlements, incoming.latitude, incoming.longitude)
        if near is not None:
            item.settlement_id = near.id
        note = _("Геопозиция получена.")
        if near is not None:
            note += " " + _("Населённый пункт: {name}.").format(name=escape(near.name))
        await advance(turn, item, current, note)
        return
    if not _only_text(incoming):
        await _added_and_ask(turn, item, current, incoming)
        return
    query = incoming.text.strip()
    if not settlements:
        item.address = query[:1024]
        await advance(turn, item, current, _("Адрес: {address}.").format(address=escape(query[:200])))
        return
    found = match_settlements(settlements, query)
    if len(found) == 1:
        item.settlement_id = found[0].id
        await advance(turn, item, current, _("Населённый пункт: {name}.").format(name=escape(found[0].name)))
        return
    if found:
        turn.say(texts.settlement_choices(), kb.settlement_keyboard(
            item.id, [(s.id, s.name) for s in found[:SETTLEMENTS_PER_PAGE]], page=0, pages=1,
            can_skip=item.kind != ItemKind.appeal))
        return
    turn.notes.append(texts.settlement_not_found(query))
    await ask(turn, item, current, again=True)


async def _input_address(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    if incoming.latitude is not None and incoming.longitude is not None:
        item.latitude, item.longitude = incoming.latitude, incoming.longitude
        add_to_draft(turn.session, item, Incoming(text="", files=incoming.files))
        if incoming.text.strip():
            item.address = incoming.text.strip()[:1024]
        await advance(turn, item, current, _("Геопозиция получена."))
        return
    if not _only_text(incoming):
        await _added_and_ask(turn, item, current, incoming)
        return
    text = " ".join(incoming.text.split())
    if len(text) > 300:
        add_to_draft(turn.session, item, incoming)
        turn.notes.append(texts.address_too_long())
        await ask(turn, item, current, again=True)
        return
    item.address = text
    await advance(turn, item, current)


async def _input_files(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    add_to_draft(turn.session, item, incoming)
    if incoming.files:
        turn.say(texts.files_added(await file_count(turn.session, item)), kb.files_keyboard(item.id))
    elif incoming.latitude is not None:
        turn.say(_("Геопозицию добавили.") + " " + texts.files_prompt(), kb.files_keyboard(item.id))
    else:
        turn.say(texts.text_added() + " " + texts.files_prompt(), kb.files_keyboard(item.id))


def _typed_phone(text: str) -> str | None:
    digits = "".join(ch for ch in text if ch.isdigit())
    allowed = set("0123456789+-() ")
    if 10 <= len(digits) <= 15 and set(text.strip()) <= allowed:
        return text.strip()
    return None


async def _input_phone(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    phone = _typed_phone(incoming.text) if _only_text(incoming) else None
    if phone is None:
        await _added_and_ask(turn, item, current, incoming)
        return
    set_phone(turn.citizen, phone)
    await advance(turn, item, current, texts.phone_saved())


async def _input_anywhere_else(turn: Turn, item: Item, current: str, incoming: Incoming) -> None:
    await _added_and_ask(turn, item, current, incoming)


STEP_INPUT = {
    Intake.kind.state: _input_anywhere_else,
    Intake.full_name.state: _input_full_name,
    Intake.reply_address.state: _input_reply_address,
    Intake.topic.state: _input_topic,
    Intake.topic_pick.state: _input_topic,
    Intake.settlement.state: _input_settlement,
    Intake.address.state: _input_address,
    Intake.files.state: _input_files,
    Intake.phone.state: _input_phone,
    Intake.summary.state: _input_anywhere_else,
}


