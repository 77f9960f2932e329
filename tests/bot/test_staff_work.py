"""Staff work in Telegram over the sandbox: triage, the recipient's card, review, /queue, /item, and
bad input — a citizen or a foreign official pressing a button, two officials answering at once, an
answer to a closed item, a too-big document, a citizen who blocked the bot."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import lifecycle as lc
from core.actors import SYSTEM
from core.lifecycle import lifecycle_context
from db.models import (
    Attachment,
    Citizen,
    ItemEvent,
    ItemMessage,
    Organisation,
    Resolution,
    Staff,
    Status,
)
from tests.bot.dialogue_steps import act, button, buttons, expect, say
from tests.bot.staff_helpers import (
    COLLEAGUE,
    CURATOR,
    RECIPIENT,
    TEACHER,
    alert_after,
    consented_citizen,
    courier,
    edited,
    load,
    outbox_settled,
    registered_item,
    set_up_office,
    tap,
)

CITIZEN = 5101


@pytest.fixture
async def office(harness, settings, sessionmaker, sandbox_server):
    """The office set up, a citizen, and the outbox sender delivering in the background."""
    o = await set_up_office(harness)
    await consented_citizen(harness, CITIZEN)
    async with courier(settings, sessionmaker, sandbox_server.url):
        yield o


async def assigned(h, settings, text: str = "Течёт крыша в доме 5 по ул. Ленина", *,
                   appeal: bool = False) -> tuple[int, dict]:
    """An item routed by the curator from the triage card; returns it and the recipient's card."""
    after, after_triage = await h.last_id(RECIPIENT), await h.last_id(CURATOR)
    item_id = await registered_item(h, settings, CITIZEN, text, appeal=appeal)
    triage = await expect(h, CURATOR, after_triage, "Новое на распределение")
    await tap(h, CURATOR, triage, "Направить: Отдел ЖКХ", "направлено: Отдел ЖКХ")
    return item_id, await expect(h, RECIPIENT, after, "Вам направлено")


async def in_work(h, settings, *, appeal: bool = False) -> tuple[int, dict]:
    item_id, card = await assigned(h, settings, appeal=appeal)
    work = await tap(h, RECIPIENT, card, "Принять в работу", "принято в работу")
    return item_id, work


async def test_triage_route_accept_and_the_buttons_that_follow(harness, settings, office):
    h = harness
    item_id, card = await assigned(h, settings)
    assert buttons(card) == ["Принять в работу", "Не наше"]
    assert (await load(h, item_id)).status == Status.assigned
    told = await expect(h, CITIZEN, 0, "передано исполнителю: Отдел ЖКХ")
    assert "Срок ответа" in told["text"]
    work = await tap(h, RECIPIENT, card, "Принять в работу", "принято в работу")
    assert {"Ответить", "Вопрос заявителю", "Промежуточный ответ", "Не наше"} <= set(buttons(work))
    assert "Продлить срок" not in buttons(work)  # a сообщение has no extension in its deadline policy
    item = await load(h, item_id)
    assert item.status == Status.in_work and item.assignee_id == office.staff[RECIPIENT]
    await expect(h, CITIZEN, 0, "принято в работу")
    # The colleague's copy of the card is stale now: one wins, the other is told why.
    colleague_card = await expect(h, COLLEAGUE, 0, "Вам направлено")
    answer = await alert_after(h, COLLEAGUE, lambda: h.sb.press(
        COLLEAGUE, colleague_card["message_id"], button(colleague_card, "Принять в работу")))
    assert "уже в работе" in answer
    # The pressed triage card lost its buttons; a forged second route changes nothing.
    triage = await expect(h, CURATOR, 0, "Новое на распределение")
    refused = await alert_after(h, CURATOR, lambda: h.sb.press(
        CURATOR, triage["message_id"], f"it:route:{item_id}", forge=True))
    assert "уже распределено" in refused


async def test_pick_pages_through_organisations_and_assigns(harness, settings, office):
    h = harness
    async with h.sessionmaker() as session, session.begin():
        session.add_all([Organisation(name=f"Учреждение {n:02d}") for n in range(12)])
        session.add(Organisation(name="Отключённая", is_active=False))
    item_id = await registered_item(h, settings, CITIZEN)
    triage = await expect(h, CURATOR, 0, "Новое на распределение")
    picker = await tap(h, CURATOR, triage, "Выбрать организацию", "Кому направить")
    first = buttons(picker)
    # Fourteen active organisations, eight a page; the suggestion marked; the disabled one left out.
    assert first[:2] == ["★ Отдел ЖКХ", "Отдел образования"] and first[-1] == "Дальше ›" and len(first) == 9
    second = await _next_page(h, picker)
    assert buttons(second) == [f"Учреждение {n:02d}" for n in range(6, 12)] + ["‹ Назад"]
    await tap(h, CURATOR, second, "Учреждение 10", "направлено: Учреждение 10")
    item = await load(h, item_id)
    async with h.sessionmaker() as session:
        chosen = await session.scalar(select(Organisation.id).where(Organisation.name == "Учреждение 10"))
    assert item.status == Status.assigned and item.organisation_id == chosen
    # Nobody of that organisation has Telegram or e-mail: the curator is told to pass it on by hand.
    await expect(h, CURATOR, 0, "нужно передать ей вручную")


async def _next_page(h, picker: dict) -> dict:
    await h.sb.press(CURATOR, picker["message_id"], button(picker, "Дальше ›"))
    for _ in range(200):  # the same message, its buttons replaced
        page = next(m for m in await h.sb.messages(CURATOR) if m["message_id"] == picker["message_id"])
        if "‹ Назад" in buttons(page):
            return page
        await asyncio.sleep(0.05)
    raise TimeoutError("the page did not turn")


async def test_citizen_pressing_a_recipients_button_is_refused(harness, settings, office):
    h = harness
    item_id, _card = await assigned(h, settings)
    told = await expect(h, CITIZEN, 0, "передано исполнителю")
    for action in ("accept", "answer", "approve", "route", "card"):
        answer = await alert_after(h, CITIZEN, lambda a=action: h.sb.press(
            CITIZEN, told["message_id"], f"it:{a}:{item_id}", forge=True))
        assert "для сотрудников МЦУ" in answer
    item = await load(h, item_id)
    assert item.status == Status.assigned and item.assignee_id is None
    commands = [await say(h, CITIZEN, text, "только сотрудникам") for text in ("/queue", f"/item {item_id}")]
    assert len(commands) == 2


async def test_official_of_another_organisation_is_refused(harness, settings, office):
    h = harness
    item_id, _card = await assigned(h, settings)
    number = (await load(h, item_id)).number
    hello = await say(h, TEACHER, "/queue", "Очередь пуста")
    for action in ("accept", "answer", "notours", "card"):
        answer = await alert_after(h, TEACHER, lambda a=action: h.sb.press(
            TEACHER, hello["message_id"], f"it:{a}:{item_id}", forge=True))
        assert "не в вашем ведении" in answer
    refused = await say(h, TEACHER, f"/item {number}", "не в вашем ведении")
    assert "Сидорова" not in refused["text"]
    item = await load(h, item_id)
    assert item.status == Status.assigned and item.assignee_id is None


async def _answer_ready(h, user: int, item_id: int, text: str) -> dict:
    """Open the card with /item, press «Ответить», type, «Готово»: the last look with «Отправить»."""
    number = (await load(h, item_id)).number
    card = await say(h, user, f"/item {number}", f"№ {number}")
    await tap(h, user, card, "Ответить", "Напишите ответ заявителю")
    files = await say(h, user, text, "Приложите фото или документы")
    return await tap(h, user, files, "Готово", "Проверьте ответ")


async def test_two_officials_answering_at_once_one_wins(harness, settings, office):
    h = harness
    item_id, _work = await in_work(h, settings)
    mine = await _answer_ready(h, RECIPIENT, item_id, "Крышу отремонтируем до 20 марта.")
    theirs = await _answer_ready(h, COLLEAGUE, item_id, "Ремонт кровли включён в план.")
    after = {RECIPIENT: await h.last_id(RECIPIENT), COLLEAGUE: await h.last_id(COLLEAGUE)}
    await asyncio.gather(
        h.sb.press(RECIPIENT, mine["message_id"], button(mine, "Отправить")),
        h.sb.press(COLLEAGUE, theirs["message_id"], button(theirs, "Отправить")))
    results = {user: await h.sb.wait_bot_message(user, after=after[user], timeout=10)
               for user in (RECIPIENT, COLLEAGUE)}
    won = [u for u, m in results.items() if "отправлен на проверку в МЦУ" in m["text"]]
    lost = [u for u, m in results.items() if m["text"].startswith("Не отправлено.")]
    assert len(won) == 1 and len(lost) == 1
    assert "ответ на проверке в МЦУ" in results[lost[0]]["text"]
    async with h.sessionmaker() as session:
        answers = (await session.scalars(select(ItemMessage).where(ItemMessage.kind == "answer"))).all()
        assert len(answers) == 1 and answers[0].author_staff_id == office.staff[won[0]]
    assert (await load(h, item_id)).status == Status.under_review
    review = await expect(h, CURATOR, 0, "Ответ на проверку")
    assert {"Утвердить и отправить", "На доработку"} == set(buttons(review))


async def test_answer_to_a_closed_item_is_refused(harness, settings, office):
    h = harness
    item_id, _work = await in_work(h, settings)
    ready = await _answer_ready(h, RECIPIENT, item_id, "Ответ, который опоздал.")
    # Meanwhile the colleague answered, the centre approved, the citizen was satisfied.
    async with h.sessionmaker() as session, session.begin():
        now = datetime.now(UTC)
        ctx = await lifecycle_context(session, settings, now)
        item = await lc.load_item(session, item_id)
        colleague = await session.get(Staff, office.staff[COLLEAGUE])
        curator = await session.get(Staff, office.staff[CURATOR])
        await lc.answer(ctx, item, colleague, "Крыша отремонтирована.")
        await lc.approve(ctx, item, curator)
        await lc.close(ctx, item, SYSTEM, Resolution.satisfied)
    refused = await tap(h, RECIPIENT, ready, "Отправить", "Не отправлено")
    assert "«закрыто»" in refused["text"]
    card = await say(h, RECIPIENT, f"/item {(await load(h, item_id)).number}", "Статус: закрыто")
    assert "Ответить" not in buttons(card)
    work = await expect(h, RECIPIENT, 0, "принято в работу")
    stale = await alert_after(h, RECIPIENT, lambda: h.sb.press(
        RECIPIENT, work["message_id"], button(work, "Ответить")))
    assert "невозможно" in stale and "закрыто" in stale
    async with h.sessionmaker() as session:
        texts = (await session.scalars(select(ItemMessage.text).where(ItemMessage.kind == "answer"))).all()
        assert texts == ["Крыша отремонтирована."]


async def test_a_document_over_the_limit_is_refused_and_a_small_one_taken(harness, settings, office):
    h = harness
    _item_id, work = await in_work(h, settings)
    await tap(h, RECIPIENT, work, "Ответить", "Напишите ответ заявителю")
    files = await say(h, RECIPIENT, "Акт обследования во вложении.", "Приложите фото или документы")
    assert buttons(files) == ["Готово", "Отменить"]
    after = await h.last_id(RECIPIENT)
    h.throttle_clock.value += 5
    await h.sb.raw_update({"message": {
        "message_id": 80_001, "date": 1_780_000_000,
        "chat": {"id": RECIPIENT, "type": "private", "first_name": "Иван"},
        "from": {"id": RECIPIENT, "is_bot": False, "first_name": "Иван"},
        "document": {"file_id": "BIG-ACT", "file_unique_id": "big-act", "file_name": "акт.pdf",
                     "mime_type": "application/pdf", "file_size": 25 * 1024 * 1024},
    }})
    refused = await expect(h, RECIPIENT, after, "больше 20 МБ")
    assert "акт.pdf" in refused["text"] and "Готово" in buttons(refused)
    taken = await act(h, RECIPIENT, lambda: h.sb.send_document(RECIPIENT, b"%PDF-1.4 small", "акт-сжатый.pdf",
                                                               "application/pdf"), "Файлов приложено: 1")
    last = await tap(h, RECIPIENT, taken, "Готово", "Проверьте ответ")
    assert "Файлов: 1" in last["text"] and "Акт обследования" in last["text"]
    await tap(h, RECIPIENT, last, "Отправить", "отправлен на проверку")
    async with h.sessionmaker() as session:
        answers = (await session.scalars(select(ItemMessage.id).where(ItemMessage.kind == "answer"))).all()
        assert len(answers) == 1
        kept = (await session.scalars(select(Attachment.file_name).where(Attachment.message_id == answers[0]))).all()
        assert kept == ["акт-сжатый.pdf"]


async def test_cancel_leaves_every_draft_without_a_change(harness, settings, office):
    h = harness
    item_id, work = await in_work(h, settings)
    for action, prompt in (("Не наше", "Почему"), ("Вопрос заявителю", "Напишите вопрос"),
                           ("Промежуточный ответ", "Напишите промежуточный")):
        asked = await tap(h, RECIPIENT, work, action, prompt)
        cancelled = await edited(h, RECIPIENT, asked, "Отменить", "Отменено")
        assert "ничего не отправлено" in cancelled["text"] and not buttons(cancelled)
    await tap(h, RECIPIENT, work, "Ответить", "Напишите ответ")
    files = await say(h, RECIPIENT, "Черновик ответа", "Приложите")
    await edited(h, RECIPIENT, files, "Отменить", "Отменено")
    # A stale «Готово» of the cancelled draft sends nothing.
    stale = await alert_after(h, RECIPIENT, lambda: h.sb.press(
        RECIPIENT, files["message_id"], button(files, "Готово"), forge=True))
    assert "черновик уже закрыт" in stale
    item = await load(h, item_id)
    assert item.status == Status.in_work and item.extension_requested_at is None
    async with h.sessionmaker() as session:
        assert await session.scalar(select(func.count(ItemMessage.id))) == 0


async def test_not_ours_goes_back_to_triage_and_shows_in_the_queue(harness, settings, office):
    h = harness
    item_id, work = await in_work(h, settings)
    asked = await tap(h, RECIPIENT, work, "Не наше", "Почему")
    assert buttons(asked) == ["Отменить"]
    done = await say(h, RECIPIENT, "Это вопрос Водоканала", "возвращено в МЦУ")
    assert done
    item = await load(h, item_id)
    assert item.status == Status.registered and item.organisation_id is None
    back = await expect(h, CURATOR, 0, "Вернули как «не наше»")
    assert "Это вопрос Водоканала" in back["text"] and "Выбрать организацию" in buttons(back)
    queue = await say(h, CURATOR, "/queue", "На распределение")
    assert item.number in queue["text"] and "вернули как «не наше»" in queue["text"]
    opened = await tap(h, CURATOR, queue, f"№ {item.number}", "Статус: зарегистрировано")
    assert "Выбрать организацию" in buttons(opened)


async def test_extension_is_requested_and_granted_once(harness, settings, office):
    h = harness
    message_id, message_work = await in_work(h, settings)
    assert "Продлить срок" not in buttons(message_work)
    refused = await alert_after(h, RECIPIENT, lambda: h.sb.press(  # a forged press
        RECIPIENT, message_work["message_id"], f"it:extend:{message_id}", forge=True))
    assert "не предусмотрено" in refused  # a сообщение has no extension; a 59-ФЗ appeal has one
    item_id, work = await in_work(h, settings, appeal=True)
    before = (await load(h, item_id)).due_answer_at
    await tap(h, RECIPIENT, work, "Продлить срок", "Почему по")
    await say(h, RECIPIENT, "Нужна экспертиза кровли подрядчиком", "Просьба продлить срок")
    request = await expect(h, CURATOR, 0, "Просьба продлить срок")
    again = await alert_after(h, RECIPIENT, lambda: h.sb.press(
        RECIPIENT, work["message_id"], button(work, "Продлить срок")))
    assert "уже отправлен" in again
    granted = await tap(h, CURATOR, request, "Продлить на 30 дней", "продлён до")
    assert granted
    item = await load(h, item_id)
    assert item.extended and item.due_answer_at > before and item.extension_requested_at is None
    await expect(h, CITIZEN, 0, "продлён до")
    await expect(h, RECIPIENT, 0, "одобрено")
    once = await alert_after(h, RECIPIENT, lambda: h.sb.press(
        RECIPIENT, work["message_id"], button(work, "Продлить срок")))
    assert "один раз" in once


async def test_queue_and_item_for_each_role(harness, settings, office):
    h = harness
    first, _card = await assigned(h, settings, "Не убирают снег во дворе")
    second = await registered_item(h, settings, CITIZEN, "Нет отопления в квартире")
    number = (await load(h, second)).number
    curator_queue = await say(h, CURATOR, "/queue", "На распределение")
    assert number in curator_queue["text"] and f"№ {number}" in buttons(curator_queue)
    recipient_queue = await say(h, RECIPIENT, "/queue", "Обращения вашей организации")
    first_number = (await load(h, first)).number
    assert first_number in recipient_queue["text"] and number not in recipient_queue["text"]
    assert "срок:" in recipient_queue["text"]
    short = await say(h, RECIPIENT, f"/item {int(first_number.split('-')[1])}", f"№ {first_number}")
    assert "Принять в работу" in buttons(short) and "Тема: ЖКХ" in short["text"]
    await say(h, RECIPIENT, "/item 2026-999999", "не найдено")
    await say(h, RECIPIENT, "/item", "Напишите номер")
    await say(h, RECIPIENT, "/item <b>", "не найдено")
    help_text = await say(h, RECIPIENT, "/help", "Для сотрудников")
    assert "/queue" in help_text["text"] and "/report" in help_text["text"]  # its organisation's figures


async def test_blocked_citizen_is_noted_on_the_item_and_the_centre_told(harness, settings, office):
    h = harness
    item_id, card = await assigned(h, settings)
    await expect(h, CITIZEN, 0, "передано исполнителю")
    await h.sb.block(CITIZEN)
    await tap(h, RECIPIENT, card, "Принять в работу", "принято в работу")  # the citizen's notice fails: 403
    notice = await expect(h, CURATOR, 0, "заблокировал бота")
    number = (await load(h, item_id)).number
    assert number in notice["text"] and "Открыть карточку" in buttons(notice)
    async with h.sessionmaker() as session:
        events = (await session.scalars(select(ItemEvent.action).where(ItemEvent.item_id == item_id))).all()
        assert events.count("citizen_unreachable") == 1
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == CITIZEN))
        assert citizen.unreachable_since is not None
    # A second failed message does not repeat the note.
    async with h.sessionmaker() as session, session.begin():
        ctx = await lifecycle_context(session, settings, datetime.now(UTC))
        item = await lc.load_item(session, item_id)
        await lc.interim_answer(ctx, item, await session.get(Staff, office.staff[RECIPIENT]), "Работаем.")
    after = await h.last_id(CURATOR)
    await outbox_settled(h)
    async with h.sessionmaker() as session:
        events = (await session.scalars(select(ItemEvent.action).where(ItemEvent.item_id == item_id))).all()
        assert events.count("citizen_unreachable") == 1
    assert not [m for m in await h.sb.bot_messages(CURATOR, after) if "заблокировал" in (m["text"] or "")]
