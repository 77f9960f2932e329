"""/items/{number}: the card, deadlines, contacts by role, history, letters, files (from the data
folder or through the Bot API of the sandbox), the map link, and 403 for another organisation."""
from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from admin.app import create_app
from core import lifecycle as lc
from db.models import Attachment, Item
from sandbox import SandboxClient, start_sandbox
from tests.admin.conftest import login as sign_in
from tests.admin.items_world import set_up_office

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
async def office(settings, sessionmaker, make_staff):
    return await set_up_office(settings, sessionmaker, make_staff)


async def add_file(office, number: str, **values) -> int:
    async with office.sessionmaker() as session, session.begin():
        item_id = await session.scalar(select(Item.id).where(Item.number == number))
        f = Attachment(item_id=item_id, **values)
        session.add(f)
        await session.flush()
        return f.id


async def test_the_page_shows_card_deadlines_history_and_letters(admin_client, login, office) -> None:
    item = await office.item("Течёт крыша", organisation=office.zhkh, address="ул. Ленина, 5")
    async with office.sessionmaker() as session, session.begin():
        ctx = await lc.lifecycle_context(session, office.settings, datetime.now(UTC))
        loaded = await lc.load_item(session, item.id)
        official = await session.get(type(office.people["official"]), office.people["official"].id)
        await lc.accept(ctx, loaded, official)
        await lc.ask_citizen(ctx, loaded, official, "Какой подъезд?")
    await login(admin_client, "curator")
    response = await admin_client.get(f"/items/{item.number}")
    page = await response.text()
    assert response.status == 200
    for text in ("Течёт крыша", "Отдел ЖКХ", "Иванов И. И.", "Срок", "Какой подъезд?", "Вопрос заявителю",
                 "в работе", "Куратор Ольга", "Новодугино, ул. Ленина, 5"):
        assert text in page, text
    assert "зарегистрировано → направлено исполнителю" in page  # the history, old → new
    assert "https://www.openstreetmap.org/search?query=" in page
    # The contacts are there for the curator …
    assert "+79990001122" in page and "anna@example.test" in page
    # … and the link in an official's e-mail (/items/<id>) leads to the page by number.
    response = await admin_client.get(f"/items/{item.id}", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == f"/items/{item.number}"


async def test_contacts_only_for_the_roles_that_need_them(admin_client, login, office) -> None:
    item = await office.item(organisation=office.zhkh, latitude=55.75, longitude=37.61)
    await login(admin_client, "analyst")
    page = await (await admin_client.get(f"/items/{item.number}")).text()
    assert "+79990001122" not in page and "anna@example.test" not in page
    assert "Смирнова Анна Сергеевна" in page  # the applicant's name, as on the bot's card
    assert "mlat=55.750000&amp;mlon=37.610000" in page
    await admin_client.post("/logout", data={"csrf_token": await _token(admin_client)})
    await login(admin_client, "official")
    page = await (await admin_client.get(f"/items/{item.number}")).text()
    assert "+79990001122" in page  # the organisation answering may need to write by post


async def _token(client) -> str:
    from tests.admin.conftest import csrf_token

    return await csrf_token(client, "/items")


async def test_another_organisations_item_is_403_for_page_file_and_action(admin_client, login, office) -> None:
    theirs = await office.item(organisation=office.edu)
    file_id = await add_file(office, theirs.number, kind="document", file_name="акт.pdf",
                             mime_type="application/pdf", telegram_file_id="doc-1")
    await login(admin_client, "official")
    response = await admin_client.get(f"/items/{theirs.number}")
    assert response.status == 403 and "не в вашем ведении" in await response.text()
    response = await admin_client.get(f"/items/{theirs.id}")
    assert response.status == 403
    response = await admin_client.get(f"/items/{theirs.number}/files/{file_id}")
    assert response.status == 403
    token = await _token(admin_client)
    response = await admin_client.post(f"/items/{theirs.number}/action",
                                       data={"csrf_token": token, "action": "accept"}, allow_redirects=False)
    assert response.status == 403
    assert (await office.load(theirs.number)).status == "assigned"  # nothing changed
    response = await admin_client.get("/items/2026-999999")
    assert response.status == 404


async def test_a_file_kept_in_the_data_folder_is_served_inline_if_an_image(admin_client, login, office,
                                                                           settings) -> None:
    item = await office.item(organisation=office.zhkh)
    (settings.data_dir / "files").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "files" / "pit.png").write_bytes(PNG)
    (settings.data_dir / "files" / "page.html").write_text("<script>alert(1)</script>")
    image = await add_file(office, item.number, kind="photo", storage_path="files/pit.png", mime_type="image/png")
    html = await add_file(office, item.number, kind="document", storage_path="files/page.html",
                          mime_type="text/html", file_name="page.html")
    await login(admin_client, "official")
    page = await (await admin_client.get(f"/items/{item.number}")).text()
    assert f'<img src="/items/{item.number}/files/{image}"' in page
    assert f'href="/items/{item.number}/files/{html}"' in page
    response = await admin_client.get(f"/items/{item.number}/files/{image}")
    assert response.status == 200 and await response.read() == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    response = await admin_client.get(f"/items/{item.number}/files/{html}")
    assert response.headers["Content-Disposition"].startswith("attachment")  # never rendered as a page
    response = await admin_client.get(f"/items/{item.number}/files/999999")
    assert response.status == 404


async def test_a_telegram_file_is_fetched_through_the_bot_api(settings, sessionmaker, make_staff) -> None:
    office = await set_up_office(settings, sessionmaker, make_staff)
    sandbox = await start_sandbox(host="127.0.0.1", port=0)
    client = None
    try:
        async with SandboxClient(sandbox.url) as sb:
            await sb.register_bot(settings.token)
            await sb.add_user(office.citizen_tg, first_name="Анна")
            sent = await sb.send_photo(office.citizen_tg, PNG, "pit.png")
            file_id = sent["message"]["photo"][-1]["file_id"]
        item = await office.item(organisation=office.zhkh)
        photo = await add_file(office, item.number, kind="photo", telegram_file_id=file_id)
        gone = await add_file(office, item.number, kind="photo", telegram_file_id="no-such-file")
        from aiohttp.test_utils import TestClient, TestServer

        client = TestClient(TestServer(create_app(settings, sessionmaker, sandbox_url=sandbox.url), host="127.0.0.1"))
        await client.start_server()
        await sign_in(client, "official")
        response = await client.get(f"/items/{item.number}/files/{photo}")
        assert response.status == 200 and await response.read() == PNG
        assert response.headers["Content-Type"] == "image/jpeg"
        response = await client.get(f"/items/{item.number}/files/{gone}")
        assert response.status in (404, 502)
    finally:
        if client is not None:
            await client.close()
        await sandbox.stop()
