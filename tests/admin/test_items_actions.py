"""Every lifecycle action through the item page's forms: the status and the history after it, the
notifications queued, only the forms the role may use shown, and forged or stale posts refused."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.options import set_option
from db.models import ItemMessage, OutboxMessage, Reminder, Status
from tests.admin.conftest import csrf_token
from tests.admin.items_world import set_up_office

FORMS = re.compile(r'data-action="([a-z]+)"')


@pytest.fixture
async def office(settings, sessionmaker, make_staff):
    return await set_up_office(settings, sessionmaker, make_staff)


async def act(client, number: str, action: str, **fields: str) -> str:
    """Post one action form like the browser does; returns the page it redirects to (with the flash)."""
    token = await csrf_token(client, f"/items/{number}")
    response = await client.post(f"/items/{number}/action", data={"csrf_token": token, "action": action, **fields},
                                 allow_redirects=False)
    assert response.status == 303, (action, response.status, await response.text())
    assert response.headers["Location"] == f"/items/{number}"
    return await (await client.get(response.headers["Location"])).text()


async def forms(client, number: str) -> list[str]:
    return FORMS.findall(await (await client.get(f"/items/{number}")).text())


async def switch(client, login, who: str) -> None:
    client.session.cookie_jar.clear()
    await login(client, who)


async def texts_to(office, chat_id: int) -> list[str]:
    async with office.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
                                      .order_by(OutboxMessage.id))).all()
    return [r.payload.get("text", "") for r in rows]


async def test_the_way_of_an_item_through_the_pages(admin_client, login, office) -> None:
    official_tg = office.people["official"].telegram_id
    item = await office.item("Течёт крыша в доме 5")
    number = item.number
    await login(admin_client, "curator")
    assert set(await forms(admin_client, number)) == {"assign", "deadline", "prolong", "merge"}

    page = await act(admin_client, number, "assign", organisation=str(office.zhkh), comment="по правилу")
    assert f"№ {number} направлено: Отдел ЖКХ." in page
    assert (await office.load(number)).status == Status.assigned
    assert any("Вам направлено" in t for t in await texts_to(office, official_tg))

    await switch(admin_client, login, "official")
    assert set(await forms(admin_client, number)) == {"accept", "ask", "interim", "answer", "notours", "extend"}
    await act(admin_client, number, "accept")
    page = await act(admin_client, number, "interim", text="Подрядчик вызван")
    assert "Промежуточный ответ" in page and (await office.load(number)).status == Status.interim_answer
    await act(admin_client, number, "ask", text="Какой подъезд?")
    page = await act(admin_client, number, "answer", text="Крышу починим к пятнице")
    assert "отправлен на проверку" in page and (await office.load(number)).status == Status.under_review

    await switch(admin_client, login, "curator")
    assert {"approve", "rework"} <= set(await forms(admin_client, number))
    await act(admin_client, number, "rework", text="Укажите дату")
    assert (await office.load(number)).status == Status.returned
    await switch(admin_client, login, "official")
    await act(admin_client, number, "answer", text="Крышу починим 6 марта")
    await switch(admin_client, login, "curator")
    page = await act(admin_client, number, "approve")
    assert "утверждён и отправлен заявителю" in page
    assert (await office.load(number)).status == Status.delivered
    assert set(await forms(admin_client, number)) == {"close", "reopen", "merge"}

    await act(admin_client, number, "reopen", text="Заявитель позвонил: течёт снова")
    assert (await office.load(number)).status == Status.reopened
    await switch(admin_client, login, "official")
    await act(admin_client, number, "answer", text="Починили снова")
    await switch(admin_client, login, "curator")
    await act(admin_client, number, "approve")
    page = await act(admin_client, number, "close", resolution="satisfied", text="Подтвердила по телефону")
    item = await office.load(number)
    assert item.status == Status.closed and item.resolution == "satisfied"
    assert f"№ {number} закрыто." in page
    async with office.sessionmaker() as session:
        repeat = await session.scalar(select(Reminder).where(Reminder.item_id == item.id,
                                                             Reminder.kind == "survey_repeat"))
    assert repeat is not None  # closed after a reopening: asked once more later, as the bot does

    statuses = [(old, new) for action, old, new, _who in await office.history(number) if action == "status"]
    assert statuses == [
        ("received", "registered"), ("registered", "assigned"), ("assigned", "in_work"),
        ("in_work", "interim_answer"), ("interim_answer", "answered"), ("answered", "under_review"),
        ("under_review", "returned"), ("returned", "in_work"), ("in_work", "answered"),
        ("answered", "under_review"), ("under_review", "delivered"), ("delivered", "reopened"),
        ("reopened", "in_work"), ("in_work", "answered"), ("answered", "under_review"),
        ("under_review", "delivered"), ("delivered", "closed"),
    ]
    page = await (await admin_client.get(f"/items/{number}")).text()
    for text in ("Укажите дату", "Крышу починим 6 марта", "Подтвердила по телефону", "Причина возобновления"):
        assert text in page, text


async def test_redirect_not_ours_deadline_and_extensions(admin_client, login, office) -> None:
    item = await office.item(organisation=office.zhkh)
    number = item.number
    await login(admin_client, "curator")
    assert "redirect" in await forms(admin_client, number)
    await act(admin_client, number, "redirect", organisation=str(office.edu), comment="это школа")
    item = await office.load(number)
    assert item.organisation_id == office.edu and item.status == Status.assigned
    assert ("route", str(office.zhkh), str(office.edu), office.people["curator"].id) in await office.history(number)

    await switch(admin_client, login, "teacher")
    await act(admin_client, number, "notours", text="Это не школа, а ЖКХ")
    item = await office.load(number)
    assert item.status == Status.registered and item.organisation_id is None

    await switch(admin_client, login, "curator")
    await act(admin_client, number, "assign", organisation=str(office.zhkh))
    due = (datetime.now(UTC) + timedelta(days=45)).astimezone(office.settings.tz).replace(second=0, microsecond=0)
    page = await act(admin_client, number, "deadline", due=due.strftime("%Y-%m-%dT%H:%M"), text="Ждём подрядчика")
    assert "Новый срок ответа" in page
    assert (await office.load(number)).due_answer_at == due
    page = await act(admin_client, number, "deadline", due="31.02.2026 10:00", text="Ошибка")
    assert "не распознан" in page  # a refused action is a flash, nothing changes
    assert (await office.load(number)).due_answer_at == due

    await switch(admin_client, login, "official")
    await act(admin_client, number, "extend", text="Нужна экспертиза")
    assert (await office.load(number)).extension_requested_at is not None
    await switch(admin_client, login, "curator")
    assert {"extyes", "extno"} <= set(await forms(admin_client, number))
    await act(admin_client, number, "extno")
    item = await office.load(number)
    assert item.extension_requested_at is None and not item.extended
    page = await act(admin_client, number, "prolong", text="Экспертиза займёт месяц")
    item = await office.load(number)
    assert item.extended and item.due_answer_at > due and "продлён до" in page
    assert "prolong" not in await forms(admin_client, number)
    page = await act(admin_client, number, "prolong", text="Ещё раз")
    assert "закон позволяет это один раз" in page


async def test_answer_on_behalf_and_merge(admin_client, login, office) -> None:
    await set_option_now(office)
    main = await office.item("Нет света на улице Мира", organisation=office.zhkh)
    duplicate = await office.item("Опять нет света на Мира", organisation=office.zhkh)
    await login(admin_client, "curator")
    page = await act(admin_client, main.number, "behalf", text="Свет дадут сегодня к 18:00")
    assert "от имени исполнителя" in page
    item = await office.load(main.number)
    assert item.status == Status.delivered
    async with office.sessionmaker() as session:
        answer = await session.scalar(select(ItemMessage).where(ItemMessage.item_id == item.id,
                                                                ItemMessage.kind == "answer"))
    assert answer.author_staff_id == office.people["curator"].id
    assert ("answer_on_behalf", None, str(office.zhkh), office.people["curator"].id) in await office.history(main.number)

    page = await act(admin_client, duplicate.number, "merge", main="2026-000000", text="")
    assert "не найдено" in page
    page = await act(admin_client, duplicate.number, "merge", main=main.number, text="одна улица")
    assert f"закрыто как дубликат № {main.number}" in page
    item = await office.load(duplicate.number)
    assert item.status == Status.closed and item.resolution == "duplicate" and item.repeat_of_id == main.id
    page = await (await admin_client.get(f"/items/{main.number}")).text()
    assert duplicate.number in page  # the main item lists its duplicate
    assert any(main.number in t for t in await texts_to(office, office.citizen_tg))


async def set_option_now(office) -> None:
    async with office.sessionmaker() as session, session.begin():
        await set_option(session, "review_mode", "always", staff_id=None, now=datetime.now(UTC))


async def test_forged_and_stale_posts_are_refused(admin_client, login, office) -> None:
    item = await office.item(organisation=office.zhkh)
    number = item.number
    await login(admin_client, "official")
    token = await csrf_token(admin_client, f"/items/{number}")
    for action in ("approve", "assign", "close", "merge", "behalf", "deadline"):
        response = await admin_client.post(f"/items/{number}/action", allow_redirects=False,
                                           data={"csrf_token": token, "action": action, "organisation": str(office.zhkh)})
        assert response.status == 403, action
    response = await admin_client.post(f"/items/{number}/action", data={"csrf_token": token, "action": "explode"})
    assert response.status == 400
    response = await admin_client.post(f"/items/{number}/action", data={"action": "accept"})
    assert response.status == 403  # no CSRF token
    assert (await office.load(number)).status == Status.assigned

    await switch(admin_client, login, "analyst")
    assert await forms(admin_client, number) == []
    token = await csrf_token(admin_client, f"/items/{number}")
    response = await admin_client.post(f"/items/{number}/action", allow_redirects=False,
                                       data={"csrf_token": token, "action": "accept"})
    assert response.status == 403

    # A stale form: the right is there, the moment has passed — the lifecycle's sentence comes back.
    await switch(admin_client, login, "official")
    await act(admin_client, number, "accept")
    page = await act(admin_client, number, "accept")
    assert "уже в работе или закрыто" in page
    page = await act(admin_client, number, "answer", text="   ")
    assert "Нужен текст" in page
