"""The steps of the citizen's intake dialogue: its states, what each step asks, and the moves
between them (on, back, to the summary and back, resume).

    kind → [59-ФЗ: full name → reply address] → topic → settlement → address → files → [phone] → summary

«Назад» walks the trail of steps actually visited; «Изменить …» on the summary reopens a group of
steps and returns to the summary when the citizen leaves it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import ReplyKeyboardRemove
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import texts
from bot.handlers.common import consent_text
from bot.keyboards import consent_keyboard
from bot.turn import Turn, incoming_from_dict, incoming_to_dict, without_big_files
from core.cards import kind_label
from core.classify import suggest_topic
from core.intake import (
    DraftError,
    Incoming,
    add_to_draft,
    receive_bot_message,
    require_draft,
    withdraw_draft,
)
from core.lifecycle import load_item
from core.settlements import active_settlements
from db.models import Attachment, Item, ItemKind, Settlement, Topic

# A dialogue untouched this long is offered back rather than silently continued: the citizen may
# be writing about something else by now.
ABANDONED_AFTER = timedelta(minutes=30)
SETTLEMENTS_PER_PAGE = 10
# Messages kept while the citizen has not yet answered the consent question (or the resume one).
PENDING_KEY = "pending_before_consent"
PENDING_LIMIT = 20

# State data keys.
DRAFT, TRAIL, TOUCHED, EDIT, EDIT_BASE, RESUME_TO, SUGGESTED = (
    "draft", "trail", "touched", "edit", "edit_base", "resume_to", "suggested")


class Intake(StatesGroup):
    kind = State()
    full_name = State()
    reply_address = State()
    topic = State()  # the suggested topic: «Да» / «Выбрать другую»
    topic_pick = State()  # the list of topics
    settlement = State()
    address = State()
    files = State()
    phone = State()
    summary = State()
    resume = State()  # «Продолжить» / «Начать заново»


STEPS = frozenset(s.state for s in Intake.__all_states__) - {Intake.resume.state}
# Steps that show a reply keyboard (location, contact): leaving them must take it away.
KEYBOARD_STEPS = frozenset({Intake.settlement.state, Intake.phone.state})
# What «Изменить …» on the summary reopens; the dialogue returns to the summary when it leaves these.
EDIT_GROUPS = {
    "topic": frozenset({Intake.topic.state, Intake.topic_pick.state}),
    "place": frozenset({Intake.settlement.state, Intake.address.state}),
    "files": frozenset({Intake.files.state}),
}


# --- state ------------------------------------------------------------------------------------------


async def draft_in_dialogue(turn: Turn) -> Item | None:
    """The draft the dialogue works on, if it is still this citizen's unconfirmed draft."""
    draft_id = (await turn.state.get_data()).get(DRAFT)
    if draft_id is None:
        return None
    try:
        return require_draft(await load_item(turn.session, int(draft_id)), turn.citizen)
    except DraftError:
        return None


async def touch(turn: Turn, **values: Any) -> None:
    await turn.state.update_data({TOUCHED: turn.now.isoformat(), **values})


def abandoned(data: dict[str, Any], now: datetime) -> bool:
    touched = data.get(TOUCHED)
    return touched is not None and now - datetime.fromisoformat(touched) > ABANDONED_AFTER


def _locale() -> str:
    try:
        return get_i18n().current_locale
    except LookupError:
        return "ru"


async def topic_name(session: AsyncSession, topic_id: int | None = None, code: str | None = None) -> str | None:
    column = Topic.name_en if _locale() == "en" else Topic.name_ru
    query = select(column).where(Topic.id == topic_id) if topic_id is not None else select(column).where(
        Topic.code == code)
    return await session.scalar(query)


async def _topics(session: AsyncSession) -> list[tuple[str, str]]:
    column = Topic.name_en if _locale() == "en" else Topic.name_ru
    return [(code, name) for code, name in await session.execute(select(Topic.code, column).order_by(Topic.sort))]


async def file_count(session: AsyncSession, item: Item) -> int:
    await session.flush()
    return int(await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.item_id == item.id)) or 0)


# --- the steps: what each one asks -------------------------------------------------------------------


async def ask(turn: Turn, item: Item, step: str, *, again: bool = False) -> None:
    """Queue the question of `step` (one message, two when a reply keyboard goes with it).
    `again`: the same step asked once more, its reply keyboard is still shown."""
    data = await turn.state.get_data()
    citizen = turn.citizen
    if step == Intake.kind.state:
        turn.say(texts.kind_prompt(), kb.kind_keyboard(item.id))
    elif step == Intake.full_name.state:
        turn.say(texts.full_name_prompt(), kb.saved_value_keyboard(item.id, "use_name", citizen.full_name))
    elif step == Intake.reply_address.state:
        saved = citizen.email or citizen.postal_address
        turn.say(texts.reply_address_prompt(), kb.saved_value_keyboard(item.id, "use_address", saved))
    elif step == Intake.topic.state and data.get(SUGGESTED):
        name = await topic_name(turn.session, code=data[SUGGESTED]) or data[SUGGESTED]
        turn.say(texts.topic_suggestion(name), kb.topic_suggestion_keyboard(item.id, data[SUGGESTED]))
    elif step in (Intake.topic.state, Intake.topic_pick.state):
        turn.say(texts.topic_list_prompt(), kb.topic_list_keyboard(item.id, await _topics(turn.session)))
    elif step == Intake.settlement.state:
        await _ask_settlement(turn, item, int(data.get("page", 0)), again)
    elif step == Intake.address.state:
        turn.say(texts.address_prompt(), kb.skip_keyboard(item.id))
    elif step == Intake.files.state:
        turn.say(texts.files_prompt(), kb.files_keyboard(item.id))
    elif step == Intake.phone.state:
        turn.say(texts.phone_prompt(), kb.contact_keyboard())
        turn.say(texts.phone_skip_prompt(), kb.skip_keyboard(item.id))
    elif step == Intake.summary.state:
        turn.say(await _summary(turn, item), kb.summary_keyboard(item.id))


async def _ask_settlement(turn: Turn, item: Item, page: int, again: bool) -> None:
    settlements = await active_settlements(turn.session)
    can_skip = item.kind != ItemKind.appeal
    if not settlements:
        turn.say(texts.no_settlements_prompt(can_skip),
                 kb.skip_keyboard(item.id) if can_skip else kb.nav_keyboard(item.id))
    else:
        pages = max(1, -(-len(settlements) // SETTLEMENTS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = settlements[page * SETTLEMENTS_PER_PAGE:(page + 1) * SETTLEMENTS_PER_PAGE]
        turn.say(texts.settlement_prompt(page, pages, can_skip),
                 kb.settlement_keyboard(item.id, [(s.id, s.name) for s in shown], page=page, pages=pages,
                                        can_skip=can_skip))
    if not again:
        # The location button lives in a reply keyboard, which needs a message of its own.
        turn.say(texts.location_hint(), kb.location_keyboard())


async def _summary(turn: Turn, item: Item) -> str:
    settlement = None if item.settlement_id is None else await turn.session.scalar(
        select(Settlement.name).where(Settlement.id == item.settlement_id))
    appeal = item.kind == ItemKind.appeal
    return texts.summary(
        number=item.number, kind=kind_label(item.kind, _),
        topic=None if item.topic_id is None else await topic_name(turn.session, topic_id=item.topic_id),
        place=texts.place_line(settlement, item.address, item.latitude is not None),
        text=item.text, files=await file_count(turn.session, item),
        applicant=item.applicant_name if appeal else None, reply_address=item.reply_address if appeal else None,
        phone=turn.citizen.phone,
    )


# --- moving between steps -----------------------------------------------------------------------------


async def _next_step(turn: Turn, item: Item, current: str) -> str:
    if current == Intake.kind.state:
        return Intake.full_name.state if item.kind == ItemKind.appeal else await _topic_step(turn, item)
    if current == Intake.full_name.state:
        return Intake.reply_address.state
    if current == Intake.reply_address.state:
        return await _topic_step(turn, item)
    if current in (Intake.topic.state, Intake.topic_pick.state):
        return Intake.settlement.state
    if current == Intake.settlement.state:
        has_list = bool(await active_settlements(turn.session))
        # Without a list of settlements the citizen typed the address itself at the previous step.
        return Intake.address.state if has_list else Intake.files.state
    if current == Intake.address.state:
        return Intake.files.state
    if current == Intake.files.state:
        return Intake.summary.state if turn.citizen.phone else Intake.phone.state
    return Intake.summary.state


async def _topic_step(turn: Turn, item: Item) -> str:
    """The suggestion when the text points at a topic, else the list at once."""
    code = suggest_topic(item.text)
    await turn.state.update_data({SUGGESTED: code})
    return Intake.topic.state if code else Intake.topic_pick.state


async def advance(turn: Turn, item: Item, current: str, note: str | None = None) -> None:
    """The step is answered: on to the next one (or back to the summary after «Изменить …»)."""
    data = await turn.state.get_data()
    target = await _next_step(turn, item, current)
    trail = list(data.get(TRAIL, []))
    edit = data.get(EDIT)
    if edit and target not in EDIT_GROUPS.get(edit, ()):
        trail = trail[: int(data.get(EDIT_BASE) or 0)]
        target = Intake.summary.state
        edit = None
    else:
        trail.append(current)
    await turn.state.set_state(target)
    await touch(turn, **{TRAIL: trail, EDIT: edit, "page": 0})
    await _show(turn, item, current, target, note)


async def _show(turn: Turn, item: Item, left: str | None, target: str, note: str | None) -> None:
    if left in KEYBOARD_STEPS and target not in KEYBOARD_STEPS:
        # The location/contact keyboard goes away with a message of its own (a message carries
        # one keyboard, and the next question has inline buttons).
        turn.say(note or texts.skipped(), ReplyKeyboardRemove())
    elif note:
        turn.notes.append(note)
    await ask(turn, item, target)


async def go_back(turn: Turn, item: Item, current: str) -> None:
    data = await turn.state.get_data()
    trail = list(data.get(TRAIL, []))
    if not trail:
        await ask(turn, item, current)
        return
    target = trail.pop()
    edit = data.get(EDIT) if target != Intake.summary.state else None
    await turn.state.set_state(target)
    await touch(turn, **{TRAIL: trail, EDIT: edit, "page": 0})
    await _show(turn, item, current, target, None)


async def start_dialogue(turn: Turn, item: Item, intro: str) -> None:
    await turn.state.set_state(Intake.kind)
    await turn.state.set_data({DRAFT: item.id, TRAIL: [], TOUCHED: turn.now.isoformat()})
    turn.notes.append(intro)
    await ask(turn, item, Intake.kind.state)


async def new_draft(turn: Turn, incoming: Incoming, intro_prefix: str | None = None) -> Item | None:
    """The first message of a story: a numbered draft and the first question. An album's later
    parts and redeliveries join the draft silently."""
    incoming = without_big_files(turn, incoming)
    if incoming.is_empty:
        turn.say(texts.describe_problem())
        return None
    result = await receive_bot_message(turn.session, turn.citizen, incoming, turn.now, turn.settings.tz)
    if not result.created:
        return result.item
    intro = texts.draft_saved(result.item.number, result.item.text)
    if intro_prefix:
        intro = intro_prefix + "\n\n" + intro
    await start_dialogue(turn, result.item, intro)
    return result.item


async def start_from_pending(turn: Turn, pending: list[dict[str, Any]], intro_prefix: str) -> Item | None:
    """Messages kept before consent (or the resume answer) make one draft: the first opens it, the
    rest join it."""
    item: Item | None = None
    for raw in pending:
        incoming = incoming_from_dict(raw)
        if item is None:
            item = await new_draft(turn, incoming, intro_prefix)
        else:
            incoming = without_big_files(turn, incoming)
            if incoming.media_group_id and incoming.media_group_id == item.tg_media_group_id:
                await receive_bot_message(turn.session, turn.citizen, incoming, turn.now, turn.settings.tz)
            else:
                add_to_draft(turn.session, item, incoming)
    return item


async def offer_resume(turn: Turn, item: Item, resume_to: str | None, pending: list[dict[str, Any]]) -> None:
    if await turn.state.get_state() != Intake.resume.state:
        await turn.state.update_data({RESUME_TO: resume_to})
    await turn.state.set_state(Intake.resume)
    await touch(turn, **{DRAFT: item.id, PENDING_KEY: pending[:PENDING_LIMIT]})
    turn.say(texts.resume_prompt(item.number, item.text), kb.resume_keyboard(item.id))


async def continue_draft(turn: Turn, item: Item) -> None:
    """/my «Продолжить»: back to where the dialogue of this draft stopped, or to its start."""
    data = await turn.state.get_data()
    current = await turn.state.get_state()
    # Messages written while the resume question waited join the draft the citizen goes on with.
    for raw in data.get(PENDING_KEY, []) if current == Intake.resume.state else []:
        add_to_draft(turn.session, item, without_big_files(turn, incoming_from_dict(raw)))
    if data.get(DRAFT) == item.id and current in STEPS:
        step = current
    elif data.get(DRAFT) == item.id and current == Intake.resume.state and data.get(RESUME_TO) in STEPS:
        step = data[RESUME_TO]
    else:
        await turn.state.set_data({DRAFT: item.id, TRAIL: []})
        step = Intake.kind.state
    await turn.state.set_state(step)
    await touch(turn, **{PENDING_KEY: [], RESUME_TO: None})
    turn.notes.append(texts.resume_continued(item.number))
    await ask(turn, item, step)


async def drop_dialogue(turn: Turn, comment: str) -> Item | None:
    """Withdraw the draft of the open dialogue (if any) and end the dialogue."""
    item = await draft_in_dialogue(turn)
    if item is not None:
        await withdraw_draft(turn.session, item, turn.citizen, turn.now, comment)
    await turn.state.clear()
    return item


async def hold_until_consent(turn: Turn, incoming: Incoming) -> None:
    """Without consent nothing is stored in the database; the message waits in the dialogue state."""
    pending = list((await turn.state.get_data()).get(PENDING_KEY, []))
    if len(pending) < PENDING_LIMIT:
        pending.append(incoming_to_dict(incoming))
        await turn.state.update_data({PENDING_KEY: pending})
    if len(pending) == 1 or len(pending) >= PENDING_LIMIT:
        turn.say(_("Мы сохраним ваше сообщение, как только вы дадите согласие.") + "\n\n" + consent_text(),
                 consent_keyboard())


