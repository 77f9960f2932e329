"""/items through HTTP: filters, search, keyset pages, bad values, rights, and a citizen's markup
shown as text."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.admin.items_world import set_up_office

NUMBERS = re.compile(r'href="/items/(\d{4}-\d{6})"')


@pytest.fixture
async def office(settings, sessionmaker, make_staff):
    return await set_up_office(settings, sessionmaker, make_staff)


async def listed(client, query: str = "") -> tuple[int, str, list[str]]:
    response = await client.get("/items" + query)
    page = await response.text()
    return response.status, page, NUMBERS.findall(page)


async def test_the_list_filters_by_the_form_fields(admin_client, login, office) -> None:
    roof = await office.item("Течёт крыша над подъездом", organisation=office.zhkh)
    road = await office.item("Яма на дороге у школы", topic=office.roads)
    closed_old = await office.item("Старая история", at=datetime(2025, 1, 10, 9, tzinfo=UTC))
    await login(admin_client, "curator")
    status, page, numbers = await listed(admin_client)
    assert status == 200 and numbers == [road.number, roof.number, closed_old.number]
    assert "Следующие" not in page and "Предыдущие" not in page
    _s, _p, numbers = await listed(admin_client, f"?topic={office.roads}")
    assert numbers == [road.number]
    _s, _p, numbers = await listed(admin_client, "?status=working")
    assert numbers == [roof.number]
    _s, _p, numbers = await listed(admin_client, f"?org={office.zhkh}&status=assigned")
    assert numbers == [roof.number]
    _s, _p, numbers = await listed(admin_client, "?from=01.01.2025&to=2025-01-31")
    assert numbers == [closed_old.number]
    _s, _p, numbers = await listed(admin_client, "?channel=phone")
    assert numbers == []
    _s, page, numbers = await listed(admin_client, "?q=подъезд")
    assert numbers == [roof.number] and 'value="подъезд"' in page
    _s, _p, numbers = await listed(admin_client, f"?q={road.number}")
    assert numbers == [road.number]


async def test_bad_filter_values_are_a_message_on_the_page(admin_client, login, office) -> None:
    item = await office.item()
    await login(admin_client, "curator")
    status, page, numbers = await listed(admin_client, "?from=32.13.2026&status=lost&topic=abc&after=garbage")
    assert status == 200 and numbers == [item.number]
    assert "Дата «32.13.2026» не распознана" in page and "Неизвестный статус «lost»" in page
    assert "нужно выбрать значение из списка" in page and "Ссылка на страницу устарела" in page


async def test_keyset_links_walk_every_item_once(admin_client, login, office) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    made = [await office.item(f"Обращение {n}", kind="message", at=start + timedelta(minutes=n)) for n in range(55)]
    expected = [i.number for i in reversed(made)]
    await login(admin_client, "curator")
    seen, path = [], "/items?status=open"
    pages = 0
    while path:
        response = await admin_client.get(path.replace("&amp;", "&"))
        page = await response.text()
        seen += NUMBERS.findall(page)
        pages += 1
        found = re.search(r'rel="next" href="([^"]+)"', page)
        path = found.group(1) if found else ""
    assert seen == expected and pages == 2
    back = re.search(r'rel="prev" href="([^"]+)"', page)
    assert back is not None
    response = await admin_client.get(back.group(1).replace("&amp;", "&"))
    assert NUMBERS.findall(await response.text()) == expected[:50]


async def test_a_recipient_sees_only_its_organisation(admin_client, login, office) -> None:
    ours = await office.item("Наше", organisation=office.zhkh)
    theirs = await office.item("Школьное", organisation=office.edu)
    await office.item("Ещё не распределено")
    await login(admin_client, "official")
    status, page, numbers = await listed(admin_client)
    assert status == 200 and numbers == [ours.number]
    assert 'name="org"' not in page  # no organisation filter for a recipient
    _s, _p, numbers = await listed(admin_client, f"?q={theirs.number}")
    assert numbers == []
    status, page, _n = await listed(admin_client, f"?org={office.edu}")
    assert status == 403 and "другой организации" in page
    status, _p, _n = await listed(admin_client, f"?org={office.zhkh}")
    assert status == 200


async def test_a_citizens_script_is_shown_as_text(admin_client, login, office) -> None:
    item = await office.item('<script>alert("x")</script> и <b>жирный</b> текст', address='"><img src=x onerror=1>')
    await login(admin_client, "curator")
    _s, page, _n = await listed(admin_client)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    response = await admin_client.get(f"/items/{item.number}")
    page = await response.text()
    assert response.status == 200
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;жирный&lt;/b&gt;" in page


async def test_anonymous_visitors_are_sent_to_login(admin_client, office) -> None:
    item = await office.item()
    for path in ("/items", f"/items/{item.number}", "/items/export.csv", "/"):
        response = await admin_client.get(path, allow_redirects=False)
        assert response.status == 302 and response.headers["Location"].startswith("/login")
