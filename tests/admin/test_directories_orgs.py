"""/directories/organisations: the organisations and their officials, through core.routing."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.demo import seed_demo_directory
from core.routing import officials_of
from db.models import Organisation, Role, Staff
from tests.admin.dir_helpers import audit_entries, follow, post, sign_in, text_of

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _org(sessionmaker, name: str) -> Organisation | None:
    async with sessionmaker() as session:
        return (await session.scalars(select(Organisation).where(Organisation.name == name))).one_or_none()


async def test_the_demo_directory_is_listed_with_counts(admin_client, make_staff, sessionmaker):
    async with sessionmaker() as session, session.begin():
        await seed_demo_directory(session, NOW)
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get("/directories/organisations"))
    assert "МУП «Водоканал»" in page and "zhkh@novodugino.example" in page and "предприятие" in page
    water = await _org(sessionmaker, "МУП «Водоканал»")
    page = await text_of(await admin_client.get(f"/directories/organisations/{water.id}"))
    assert "Исполнителей нет." in page and "Отсутствие холодной воды" in page  # its theme rules
    assert (await admin_client.get("/directories/organisations/999")).status == 404


async def test_add_edit_and_officials(admin_client, make_staff, sessionmaker):
    head = await sign_in(admin_client, make_staff, Role.head)
    response = await post(admin_client, "/directories/organisations",
                          {"name": "Отдел культуры", "short_name": "Культура", "kind": "department",
                           "email": "kultura@example.ru", "phone": ""})
    org = await _org(sessionmaker, "Отдел культуры")
    assert org is not None and response.headers["Location"] == f"/directories/organisations/{org.id}"
    assert "Организация «Отдел культуры» добавлена." in await follow(admin_client, response)

    response = await post(admin_client, f"/directories/organisations/{org.id}",
                          {"name": "Отдел культуры и спорта", "short_name": "Культура", "kind": "department",
                           "email": "sport@example.ru", "phone": "8 (48138) 2-22-22", "is_active": "1"})
    assert "сохранена" in await follow(admin_client, response)
    response = await post(admin_client, f"/directories/organisations/{org.id}/officials",
                          {"name": "Смирнова Анна", "telegram_id": "700123", "email": "", "position": "специалист"})
    page = await follow(admin_client, response)
    assert "Исполнитель Смирнова Анна добавлен." in page and "700123" in page
    async with sessionmaker() as session:
        [person] = await officials_of(session, org.id)
    response = await post(admin_client, f"/directories/organisations/{org.id}/officials/{person.id}/remove", {})
    assert "больше не исполнитель этой организации" in await follow(admin_client, response)
    async with sessionmaker() as session:
        assert await officials_of(session, org.id) == []
        assert (await session.get(Staff, person.id)).organisation_id is None
    actions = {a: await audit_entries(sessionmaker, a) for a in
               ("organisation.create", "organisation.update", "official.create", "official.remove")}
    assert all(len(rows) == 1 and rows[0].staff_id == head.id and rows[0].ip == "127.0.0.1"
               for rows in actions.values()), actions
    assert actions["organisation.update"][0].details["new"]["email"] == "sport@example.ru"


async def test_bad_input_is_refused_in_words(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.curator)
    response = await post(admin_client, "/directories/organisations",
                          {"name": "Отдел спорта", "kind": "department", "email": "sport.example.ru"})
    page = await text_of(response)
    assert response.status == 400 and "Это не похоже на адрес e-mail: sport.example.ru." in page
    assert 'value="Отдел спорта"' in page and 'value="sport.example.ru"' in page
    assert await _org(sessionmaker, "Отдел спорта") is None
    response = await post(admin_client, "/directories/organisations", {"name": "Отдел спорта", "kind": "department"})
    org = await _org(sessionmaker, "Отдел спорта")
    response = await post(admin_client, f"/directories/organisations/{org.id}/officials",
                          {"name": "Без связи", "telegram_id": "", "email": ""})
    page = await text_of(response)
    assert response.status == 400 and "Исполнителю без Telegram нужен e-mail" in page and 'value="Без связи"' in page
    response = await post(admin_client, f"/directories/organisations/{org.id}/officials",
                          {"name": "Х", "telegram_id": "@ivanov"})
    assert response.status == 400 and "Ожидается целое число (Telegram id): «@ivanov»" in await text_of(response)
    assert await audit_entries(sessionmaker, "official.create") == []
