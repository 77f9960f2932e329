"""The whole way of one обращение, told by four people over the sandbox Bot API.

The citizen files a 59-ФЗ appeal with a photo through the dialogue; the curator routes it from the
triage card; the official of «Отдел ЖКХ» accepts it and asks a question; the citizen answers; the
official answers with a document; the curator returns it once with a comment; the official answers
again; the curator approves; the citizen gets the answer with the file. Every notification is a
real outbox row delivered by the real sender; the item's history shows every step in order.
"""
from __future__ import annotations

from sqlalchemy import select

from db.models import Attachment, Item, ItemEvent, ItemKind, ItemMessage, Status
from tests.bot.conftest import NUMBER
from tests.bot.dialogue_steps import (
    act,
    begin,
    buttons,
    expect,
    own_settlements,
    press,
    say,
)
from tests.bot.staff_helpers import CURATOR, RECIPIENT, courier, set_up_office, tap

CITIZEN = 5201
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def in_order(events: list[tuple[str, str | None]], expected: list[tuple[str, str | None]]) -> bool:
    """Whether `expected` appears in `events` in this order (other events may come between)."""
    rest = iter(events)
    return all(any(step == event for event in rest) for step in expected)


async def file_the_appeal(h) -> str:
    """The citizen, through the intake dialogue: a 59-ФЗ appeal about housing, with a photo."""
    await own_settlements(h)
    await h.user(CITIZEN, first_name="Анна")
    await h.consent(CITIZEN)
    kind = await begin(h, CITIZEN, "Прорвало трубу отопления в подъезде, вода течёт по стенам")
    number = NUMBER.search(kind["text"]).group(1)
    name = await press(h, CITIZEN, kind, "Обращение по 59-ФЗ", "фамилию, имя и отчество")
    assert name
    await say(h, CITIZEN, "Смирнова Анна Сергеевна", "Куда направить ответ")
    topic = await say(h, CITIZEN, "anna.smirnova@example.ru", "тем")
    where = (await press(h, CITIZEN, topic, "Да", "Где это?") if "Похоже" in topic["text"]
             else await press(h, CITIZEN, topic, "ЖКХ", "Где это?"))
    address = await press(h, CITIZEN, where, "Ивановка", "Уточните адрес")
    await say(h, CITIZEN, "ул. Садовая, 3, подъезд 2", "Если есть фото")
    added = await act(h, CITIZEN, lambda: h.sb.send_photo(CITIZEN, PNG, "truba.png"), "Всего вложений: 1")
    assert address and added
    phone = await press(h, CITIZEN, added, "Готово", "Если не хотите оставлять телефон")
    summary = await press(h, CITIZEN, phone, "Пропустить", "Проверьте, пожалуйста")
    assert "ЖКХ" in summary["text"] and "Смирнова Анна Сергеевна" in summary["text"]
    await press(h, CITIZEN, summary, "Подтвердить", "зарегистрировано")
    return number


async def test_the_story_of_one_appeal(harness, settings, sessionmaker, sandbox_server):
    h = harness
    office = await set_up_office(h)
    async with courier(settings, sessionmaker, sandbox_server.url):
        number = await file_the_appeal(h)

        # The curator routes it from the triage card, which came with the citizen's photo.
        triage = await expect(h, CURATOR, 0, "Новое на распределение")
        assert number in triage["text"] and "Смирнова Анна Сергеевна" in triage["text"]
        photo = await h.sb.wait_bot_message(CURATOR, after=triage["message_id"], timeout=10,
                                            predicate=lambda m: (m.get("media") or {}).get("type") == "photo")
        assert number in photo["caption"]
        await tap(h, CURATOR, triage, "Направить: Отдел ЖКХ", "направлено: Отдел ЖКХ")
        await expect(h, CITIZEN, 0, "передано исполнителю: Отдел ЖКХ")

        # The official accepts it and asks a question.
        card = await expect(h, RECIPIENT, 0, "Вам направлено")
        work = await tap(h, RECIPIENT, card, "Принять в работу", "принято в работу")
        await tap(h, RECIPIENT, work, "Вопрос заявителю", "Напишите вопрос")
        await say(h, RECIPIENT, "На каком этаже протечка и есть ли доступ в подвал?", "отправлен заявителю")

        # The citizen answers through the «Ответить» button; the official's contacts are never shown.
        question = await expect(h, CITIZEN, 0, "Вопрос по вашему обращению")
        assert "На каком этаже" in question["text"] and "9102" not in question["text"]
        await tap(h, CITIZEN, question, "Ответить", "Напишите ответ на вопрос")
        await say(h, CITIZEN, "Третий этаж, подвал открыт днём", "передан исполнителю")

        # The official reads the reply, opens the card and answers with a document.
        replied = await expect(h, RECIPIENT, 0, "Ответ заявителя")
        assert "Третий этаж" in replied["text"] and str(CITIZEN) not in replied["text"]
        opened = await tap(h, RECIPIENT, replied, "Открыть карточку", f"№ {number}")
        await tap(h, RECIPIENT, opened, "Ответить", "Напишите ответ заявителю")
        await say(h, RECIPIENT, "Трубу заменим.", "Приложите фото или документы")
        attached = await act(h, RECIPIENT, lambda: h.sb.send_document(
            RECIPIENT, b"%PDF-1.4 act one", "акт.pdf", "application/pdf"), "Файлов приложено: 1")
        last_look = await tap(h, RECIPIENT, attached, "Готово", "Проверьте ответ")
        await tap(h, RECIPIENT, last_look, "Отправить", "отправлен на проверку в МЦУ")

        # The curator returns it once with a comment.
        review = await expect(h, CURATOR, 0, "Ответ на проверку")
        assert "Трубу заменим." in review["text"]
        await tap(h, CURATOR, review, "На доработку", "Что исправить")
        await say(h, CURATOR, "Укажите срок замены трубы", "возвращён исполнителю на доработку")

        # The official answers again, with the corrected act.
        returned = await expect(h, RECIPIENT, 0, "Ответ возвращён на доработку")
        assert "Укажите срок замены трубы" in returned["text"]
        await tap(h, RECIPIENT, returned, "Ответить", "Напишите ответ заявителю")
        await say(h, RECIPIENT, "Трубу заменим до 20 марта; акт обследования прилагаем.", "Приложите")
        attached = await act(h, RECIPIENT, lambda: h.sb.send_document(
            RECIPIENT, b"%PDF-1.4 act two", "акт-с-датой.pdf", "application/pdf"), "Файлов приложено: 1")
        last_look = await tap(h, RECIPIENT, attached, "Готово", "Проверьте ответ")
        await tap(h, RECIPIENT, last_look, "Отправить", "отправлен на проверку в МЦУ")

        # The curator approves; the citizen gets the answer with the file; the official is told.
        after = review["message_id"]
        second = await expect(h, CURATOR, after, "Ответ на проверку")
        assert "до 20 марта" in second["text"] and "Утвердить и отправить" in buttons(second)
        await tap(h, CURATOR, second, "Утвердить и отправить", "утверждён и отправлен заявителю")
        answer = await expect(h, CITIZEN, 0, "Ответ на ваше обращение")
        assert number in answer["text"] and "до 20 марта" in answer["text"]
        document = await h.sb.wait_bot_message(CITIZEN, after=answer["message_id"], timeout=10,
                                               predicate=lambda m: (m.get("media") or {}).get("type") == "document")
        assert document["media"]["file_name"] == "акт-с-датой.pdf" and number in document["caption"]
        await expect(h, RECIPIENT, 0, "утверждён и отправлен заявителю")

    async with sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.number == number))
        assert item.kind == ItemKind.appeal and item.status == Status.delivered
        assert item.organisation_id == office.zhkh and item.assignee_id == office.staff[RECIPIENT]
        messages = [(m.kind, m.text) for m in (await session.scalars(
            select(ItemMessage).where(ItemMessage.item_id == item.id).order_by(ItemMessage.id))).all()]
        assert [kind for kind, _text in messages] == ["question", "reply", "answer", "review_comment", "answer"]
        files = (await session.scalars(select(Attachment.file_name).where(Attachment.item_id == item.id)
                                       .order_by(Attachment.id))).all()
        assert files == [None, "акт.pdf", "акт-с-датой.pdf"]  # the citizen's photo, then both acts
        events = [(e.action, e.new_value) for e in (await session.scalars(
            select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.at, ItemEvent.id))).all()]
    zhkh = str(office.zhkh)
    assert in_order(events, [
        ("created", number),
        ("status", "registered"),
        ("route", zhkh),
        ("status", "assigned"),
        ("status", "in_work"),
        ("question", None),
        ("citizen_reply", None),
        ("status", "answered"),
        ("status", "under_review"),
        ("status", "returned"),
        ("review", "returned"),
        ("status", "in_work"),
        ("status", "answered"),
        ("status", "under_review"),
        ("review", "approved"),
        ("status", "delivered"),
    ]), events
