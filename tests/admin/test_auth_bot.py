"""/web in the bot (the real bot over the sandbox Bot API): staff get a one-time link that signs them in
to the admin; citizens are told it is not for them."""
from __future__ import annotations

import re

from core.staff import add_staff
from db.models import Role
from tests.admin.conftest import form_token, serve_admin
from tests.bot.conftest import harness, sandbox_server  # noqa: F401  (fixtures)

STAFF_ID, CITIZEN_ID = 9301, 9302


async def test_web_gives_staff_a_link_that_signs_them_in(harness, settings, sessionmaker):  # noqa: F811
    async with sessionmaker() as session, session.begin():
        await add_staff(session, telegram_id=STAFF_ID, roles=[Role.curator], name="Куратор Смирнова")
    await harness.user(STAFF_ID, "Ольга")
    await harness.user(CITIZEN_ID, "Пётр")

    reply = await harness.say(CITIZEN_ID, "/web")
    assert "только сотрудникам МЦУ" in reply["text"] and "/invite/" not in reply["text"]

    reply = await harness.say(STAFF_ID, "/web")
    text = reply["text"]
    found = re.search(re.escape(settings.admin_base_url) + r"(/invite/[A-Za-z0-9_-]+)", text)
    assert found and "Ваш логин: id9301" in text and "48 ч" in text
    path = found.group(1)

    client = await serve_admin(settings, sessionmaker)
    try:
        page = await (await client.get(path)).text()
        assert "Куратор Смирнова" in page and "id9301" in page
        response = await client.post(path, data={"password": "пароль-из-бота-1", "password2": "пароль-из-бота-1",
                                                 "csrf_token": form_token(page)}, allow_redirects=False)
        assert response.status == 302
        assert (await client.get("/staff", allow_redirects=False)).status == 200  # signed in
        assert (await client.get(path)).status == 410  # once only
    finally:
        await client.close()

    second = await harness.say(STAFF_ID, "/web")  # a new link each time
    assert second["text"] != text and "/invite/" in second["text"]
    assert "/web — одноразовая ссылка" in (await harness.say(STAFF_ID, "/help"))["text"]
