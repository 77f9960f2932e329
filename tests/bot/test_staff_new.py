"""Staff register items from other channels through the real bot: `/new` step by step, and `/import`
with a spreadsheet sent as a document over the sandbox Bot API."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from core.staff import add_staff
from db.models import (
    Citizen,
    Item,
    ItemEvent,
    ItemKind,
    Role,
    Settlement,
    Status,
    Topic,
)
from tests.bot.conftest import NUMBER
from tests.imports.helpers import POS_HEADER, csv_bytes, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def staff_user(h, user_id: int, *roles: Role) -> int:
    await h.user(user_id, first_name="Ольга")
    async with h.sessionmaker() as session, session.begin():
        await add_staff(session, telegram_id=user_id, roles=list(roles), name="Смирнова Ольга")
    return user_id


async def items(h) -> list[Item]:
    async with h.sessionmaker() as session:
        return list((await session.scalars(select(Item).order_by(Item.id))).all())


async def test_a_phoned_in_appeal_step_by_step(harness):
    h = harness
    user = await staff_user(h, 3001, Role.curator)
    ask = await h.say(user, "/new")
    assert "Откуда оно поступило?" in ask["text"]
    ask = await h.press(user, ask, "Телефон")
    assert "Что это?" in ask["text"]
    ask = await h.press(user, ask, "Обращение по 59-ФЗ")
    assert "текст обращения" in ask["text"]
    ask = await h.say(user, "Прошу починить <крышу> & водосток в доме 5")
    assert "ФИО заявителя" in ask["text"]
    bad = await h.say(user, "Иванова")
    assert "Нужны фамилия и имя" in bad["text"]
    ask = await h.say(user, "Иванова Анна Петровна")
    assert "Почтовый адрес или e-mail" in ask["text"]
    bad = await h.say(user, "Москва")
    assert "номером дома" in bad["text"]
    bad = await h.say(user, "anna@mail")
    assert "электронной почты выглядит неверно" in bad["text"]
    ask = await h.say(user, "с. Новодугино, ул. Советская, д. 5, кв. 2")
    assert "Телефон заявителя" in ask["text"]
    bad = await h.say(user, "позвоните Ане")
    assert "только цифры" in bad["text"]
    ask = await h.say(user, "8 (912) 345-67-89")
    assert "Тема обращения" in ask["text"]
    nudge = await h.say(user, "ЖКХ")  # typed instead of pressed
    assert "кнопкой" in nudge["text"]
    ask = await h.press(user, ask, "ЖКХ")
    assert "Населённый пункт" in ask["text"]
    buttons = [b["text"] for row in ask["reply_markup"]["inline_keyboard"] for b in row]
    assert "Новодугино" in buttons and "Пропустить" in buttons and "Отменить" in buttons
    summary = await h.say(user, "тёсово")  # typed part of the name, ё = е
    assert "Проверьте и зарегистрируйте" in summary["text"]
    for part in ("Канал: телефон", "Вид: Обращение по 59-ФЗ", "Заявитель: Иванова Анна Петровна",
                 "Телефон: +79123456789", "Тема: ЖКХ", "Населённый пункт: Тесово",
                 "«Прошу починить <крышу> & водосток в доме 5»"):
        assert part in summary["text"], part
    assert "Номер в системе-источнике" not in summary["text"]  # a phone call has none
    done = await h.press(user, summary, "Зарегистрировать")
    number = NUMBER.search(done["text"]).group(1)
    assert "Срок ответа" in done["text"]

    (item,) = await items(h)
    async with h.sessionmaker() as session:
        housing = await session.scalar(select(Topic).where(Topic.code == "housing"))
        tesovo = await session.scalar(select(Settlement).where(Settlement.name == "Тесово"))
        citizen = await session.get(Citizen, item.citizen_id)
        created = await session.scalar(select(ItemEvent).where(ItemEvent.item_id == item.id,
                                                                ItemEvent.action == "created"))
    assert (item.number, item.channel, item.kind) == (number, "phone", ItemKind.appeal)
    assert item.text == "Прошу починить <крышу> & водосток в доме 5"
    assert (item.topic_id, item.settlement_id) == (housing.id, tesovo.id)
    assert item.applicant_name == "Иванова Анна Петровна"
    assert item.reply_address == "с. Новодугино, ул. Советская, д. 5, кв. 2"
    assert item.status != Status.received and item.due_answer_at is not None
    assert (citizen.telegram_id, citizen.full_name, citizen.phone) == (None, "Иванова Анна Петровна", "+79123456789")
    assert citizen.postal_address == item.reply_address
    assert created.actor_kind == "staff" and created.actor_staff_id is not None

    # A second tap that raced the edit (forged: the button is gone) registers nothing more.
    data = summary["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await h.sb.press(user, summary["message_id"], data, forge=True)
    for _ in range(200):
        answers = await h.sb.callback_answers(user)
        if any("больше не действует" in (a.get("text") or "") for a in answers):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the stale press was not answered")
    assert len(await items(h)) == 1


async def test_a_pos_message_with_its_number_and_skipped_steps(harness):
    h = harness
    user = await staff_user(h, 3002, Role.pos_officer)
    async with h.sessionmaker() as session, session.begin():
        session.add(Item(number="2026-900001", channel="pos", external_id="ПОС-1", text="старое",
                         received_at=datetime(2026, 1, 1, tzinfo=UTC)))
    ask = await h.say(user, "/new")
    ask = await h.press(user, ask, "ПОС")
    ask = await h.press(user, ask, "Сообщение")
    ask = await h.say(user, "Яма на дороге у школы")
    assert "Телефон заявителя" in ask["text"]  # no name and address for a message
    ask = await h.press(user, ask, "Пропустить")
    ask = await h.press(user, ask, "Дороги")
    missing = await h.say(user, "Марс")
    assert "Не нашли населённый пункт «Марс»" in missing["text"]
    several = await h.say(user, "ово")
    assert "Нашлось несколько" in several["text"]
    names = [b["text"] for row in several["reply_markup"]["inline_keyboard"] for b in row]
    assert {"Извеково", "Новодугино", "Тесово"} <= set(names) and "Капустино" not in names
    ask = await h.press(user, several, "Извеково")
    assert "Номер в системе «ПОС»" in ask["text"]
    taken = await h.say(user, "ПОС-1")
    assert "уже зарегистрировано: № 2026-900001" in taken["text"]
    summary = await h.say(user, "ПОС-2")
    assert "Номер в системе-источнике: ПОС-2" in summary["text"] and "Населённый пункт: Извеково" in summary["text"]
    assert "Заявитель" not in summary["text"]
    done = await h.press(user, summary, "Зарегистрировать")
    assert NUMBER.search(done["text"])
    item = (await items(h))[-1]
    assert (item.channel, item.kind, item.external_id, item.citizen_id) == ("pos", ItemKind.message, "ПОС-2", None)
    assert item.settlement_id is not None and item.text == "Яма на дороге у школы"


async def test_cancel_works_at_every_kind_of_step(harness):
    h = harness
    user = await staff_user(h, 3003, Role.im_officer)
    ask = await h.say(user, "/new")
    gone = await h.press(user, ask, "Отменить")
    assert "Регистрация отменена, ничего не сохранено" in gone["text"]

    ask = await h.say(user, "/new")
    ask = await h.press(user, ask, "ЦУР")
    ask = await h.press(user, ask, "Сообщение")
    gone = await h.say(user, "Отменить")  # the word, at a text step
    assert "Регистрация отменена" in gone["text"]

    ask = await h.say(user, "/new")
    ask = await h.press(user, ask, "Личный приём")
    ask = await h.press(user, ask, "Обращение по 59-ФЗ")
    ask = await h.say(user, "Текст")
    gone = await h.say(user, "/cancel")
    assert "Регистрация отменена" in gone["text"]

    ask = await h.say(user, "/new")
    ask = await h.press(user, ask, "«Инцидент менеджмент»")
    ask = await h.press(user, ask, "Сообщение")
    ask = await h.say(user, "Пост о свалке")
    ask = await h.press(user, ask, "Пропустить")
    ask = await h.press(user, ask, "ТКО")
    ask = await h.press(user, ask, "Пропустить")
    summary = await h.say(user, "vk-123")
    gone = await h.press(user, summary, "Отменить")
    assert "Регистрация отменена" in gone["text"]
    assert await items(h) == []


async def test_citizens_and_recipients_are_refused_politely(harness):
    h = harness
    citizen = await h.user(3004)
    reply = await h.say(citizen, "/new")
    assert "для сотрудников МЦУ" in reply["text"]
    reply = await h.say(citizen, "/import pos")
    assert "для сотрудников МЦУ" in reply["text"]
    official = await staff_user(h, 3005, Role.recipient)
    reply = await h.say(official, "/new")
    assert "Регистрировать обращения из других каналов могут сотрудники МЦУ" in reply["text"]
    assert await items(h) == []


async def test_import_a_spreadsheet_sent_as_a_document(harness):
    h = harness
    user = await staff_user(h, 3006, Role.pos_officer)
    ask = await h.say(user, "/import")
    ask = await h.press(user, ask, "ПОС")
    assert "Пришлите выгрузку «ПОС» документом" in ask["text"]
    nudge = await h.say(user, "вот файл")
    assert "Жду файл .xlsx или .csv" in nudge["text"]
    data = xlsx([POS_HEADER,
                 ["101", "01.03.2026 10:00", "Дороги", "Организация парковок", "", "Новодугино", "", "Парковка", "нет"],
                 ["102", "02.03.2026", "Космос", "Ракеты", "", "", "", "Ракета во дворе", "да"]])
    after = await h.last_id(user)
    await h.sb.send_document(user, data, "pos-march.xlsx", XLSX)
    report = await h.sb.wait_bot_message(user, after=after, timeout=20,
                                         predicate=lambda m: "Строк с данными" in (m.get("text") or ""))
    assert "Файл «pos-march.xlsx» (ПОС) импортирован." in report["text"]
    assert "Импортировано: 2." in report["text"] and "не найдена в справочнике" in report["text"]
    one, two = await items(h)
    assert (one.external_id, two.external_id, two.kind) == ("101", "102", ItemKind.appeal)

    # With the command as the caption, in one go; the same rows again are skipped.
    after = await h.last_id(user)
    await h.sb.send_document(user, data, "pos-march.xlsx", XLSX, caption="/import pos")
    report = await h.sb.wait_bot_message(user, after=after, timeout=20,
                                         predicate=lambda m: "Строк с данными" in (m.get("text") or ""))
    assert "Импортировано: 0." in report["text"] and "пропущены: 2." in report["text"]
    assert len(await items(h)) == 2


async def test_a_bad_file_through_the_bot_lists_its_rows(harness):
    h = harness
    user = await staff_user(h, 3007, Role.im_officer)
    ask = await h.say(user, "/import im")
    assert "«Инцидент менеджмент»" in ask["text"]
    data = csv_bytes([["Номер", "Дата создания", "Текст"], ["1", "01.03.2026", "<b>Пост</b>"], ["1", "02.03.2026", ""]],
                     encoding="cp1251")
    after = await h.last_id(user)
    await h.sb.send_document(user, data, "im.csv", "text/csv")
    report = await h.sb.wait_bot_message(user, after=after, timeout=20,
                                         predicate=lambda m: "не импортирован" in (m.get("text") or ""))
    assert "• строка 3, «Номер» («1»): этот номер уже есть в строке 2" in report["text"]
    assert "• строка 3, «Текст»: пустой текст" in report["text"]
    assert await items(h) == []


async def test_a_long_report_comes_as_a_file(harness):
    h = harness
    user = await staff_user(h, 3008, Role.curator)
    rows = [["Номер", "Дата создания", "Текст"]] + [[str(n), "вчера", "Текст"] for n in range(300)]
    after = await h.last_id(user)
    await h.sb.send_document(user, csv_bytes(rows), "big.csv", "text/csv", caption="/import pos")
    document = await h.sb.wait_bot_message(user, after=after, timeout=20, predicate=lambda m: m.get("media"))
    full = (await h.sb.file_bytes(document["media"]["file_id"])).decode("utf-8")
    assert full.count("дата не распознана") == 300 and "• строка 301, «Дата создания»" in full
    short = [m for m in await h.sb.bot_messages(user, after=after) if "Полный отчёт — в файле" in (m["text"] or "")]
    assert len(short) == 1 and len(short[0]["text"]) < 4096
    assert await items(h) == []
