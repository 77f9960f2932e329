"""/staff: who may open it, and every change a manager makes there (audited, rights enforced)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.routing import add_organisation
from db.models import AuditEntry, Role, Staff
from tests.admin.conftest import csrf_token, login, serve_admin


async def _org(sessionmaker, name: str = "МУП «Водоканал»") -> int:
    async with sessionmaker() as session, session.begin():
        return (await add_organisation(session, name=name, staff_id=None, now=datetime.now(UTC))).id


async def _post(client, path: str, data: dict, page: str = "/staff"):
    return await client.post(path, data={**data, "csrf_token": await csrf_token(client, page)},
                             allow_redirects=False)


async def _get(sessionmaker, staff_id: int) -> Staff:
    async with sessionmaker() as session:
        return await session.get(Staff, staff_id)


async def test_only_managers_open_staff_and_audit(admin_client, make_staff, sessionmaker):
    org = await _org(sessionmaker)
    recipient = await make_staff(Role.recipient, organisation_id=org)
    analyst = await make_staff(Role.analyst)
    for person in (recipient, analyst):
        await login(admin_client, person.login)
        for path in ("/staff", f"/staff/{person.id}", "/audit"):
            response = await admin_client.get(path)
            assert response.status == 403 and "Доступ запрещён" in await response.text(), path
        response = await _post(admin_client, "/staff", {"name": "Самозванец", "roles": "admin"}, "/")
        assert response.status == 403
        response = await _post(admin_client, f"/staff/{person.id}", {"name": person.name, "roles": "curator"}, "/")
        assert response.status == 403
        page = await (await admin_client.get("/")).text()
        assert 'href="/staff"' not in page and 'href="/audit"' not in page  # not in their menu either
        admin_client.session.cookie_jar.clear()
    assert "Самозванец" not in {s.name for s in await _all(sessionmaker)}
    assert Role.curator not in (await _get(sessionmaker, recipient.id)).role_set

    for roles in ((Role.curator,), (Role.head,), (Role.admin,)):
        manager = await make_staff(*roles)
        await login(admin_client, manager.login)
        page = await (await admin_client.get("/staff")).text()
        assert recipient.name in page and 'href="/audit"' in page
        assert (await admin_client.get("/audit")).status == 200
        admin_client.session.cookie_jar.clear()


async def _all(sessionmaker) -> list[Staff]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Staff)))


async def test_a_manager_adds_and_edits_a_staff_member(admin_client, make_staff, sessionmaker):
    org = await _org(sessionmaker)
    curator = await make_staff(Role.curator)
    await login(admin_client, curator.login)

    response = await _post(admin_client, "/staff", {"name": "Петрова Анна", "telegram_id": "555001",
                                                    "roles": "recipient", "email": "petrova@example.org"})
    page = await response.text()
    assert response.status == 400 and "Исполнителю нужна организация" in page
    assert 'value="Петрова Анна"' in page and 'value="555001"' in page  # what was typed stays

    response = await _post(admin_client, "/staff", {"name": "Петрова Анна", "telegram_id": "555001",
                                                    "roles": "recipient", "organisation_id": str(org)})
    assert response.status == 302
    member_id = int(response.headers["Location"].rsplit("/", 1)[1])
    member = await _get(sessionmaker, member_id)
    assert member.role_set == {Role.recipient} and member.organisation_id == org and member.login == "id555001"
    page = await (await admin_client.get("/staff")).text()
    assert "Петрова Анна" in page and "МУП «Водоканал»" in page

    response = await _post(admin_client, "/staff", {"name": "Двойник", "telegram_id": "555001", "roles": "analyst"})
    assert response.status == 400 and "555001 уже у сотрудника" in await response.text()

    response = await _post(admin_client, f"/staff/{member_id}", {
        "name": "Петрова Анна Сергеевна", "telegram_id": "555001", "login": "petrova",
        "roles": ["recipient", "analyst"], "organisation_id": str(org)}, f"/staff/{member_id}")
    assert response.status == 302
    member = await _get(sessionmaker, member_id)
    assert member.role_set == {Role.recipient, Role.analyst} and member.login == "petrova"
    assert member.name == "Петрова Анна Сергеевна"

    async with sessionmaker() as session:
        entries = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "staff", AuditEntry.entity_id == member_id,
                                     AuditEntry.action.startswith("staff.")).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["staff.create", "staff.update"]
    assert all(e.staff_id == curator.id and e.ip == "127.0.0.1" for e in entries)
    assert entries[1].details["old"]["roles"] == ["recipient"]
    assert entries[1].details["new"]["roles"] == ["analyst", "recipient"]


async def test_new_roles_apply_at_once_and_deactivation_ends_sessions(settings, sessionmaker, admin_client,
                                                                      make_staff):
    curator = await make_staff(Role.curator)
    member = await make_staff(Role.analyst)
    other = await serve_admin(settings, sessionmaker)
    try:
        await login(other, member.login)
        assert (await other.get("/staff", allow_redirects=False)).status == 403
        await login(admin_client, curator.login)

        response = await _post(admin_client, f"/staff/{member.id}",
                               {"name": member.name, "telegram_id": str(member.telegram_id), "login": member.login,
                                "roles": ["analyst", "head"]}, f"/staff/{member.id}")
        assert response.status == 302
        assert (await other.get("/staff", allow_redirects=False)).status == 200  # head now, the same session

        response = await _post(admin_client, f"/staff/{member.id}/active", {"active": "0"}, f"/staff/{member.id}")
        assert response.status == 302
        assert (await other.get("/", allow_redirects=False)).status == 302
        page = await (await other.get("/login")).text()
        response = await other.post("/login", data={"login": member.login, "password": "пароль-для-теста-1",
                                                    "csrf_token": _token(page)}, allow_redirects=False)
        assert response.status == 401  # switched off: the right password opens nothing

        response = await _post(admin_client, f"/staff/{member.id}/active", {"active": "1"}, f"/staff/{member.id}")
        assert response.status == 302
        await login(other, member.login)
    finally:
        await other.close()
    async with sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == member.id, AuditEntry.staff_id == curator.id).order_by(AuditEntry.id)))
    assert actions == ["staff.update", "staff.deactivate", "staff.activate"]


def _token(page: str) -> str:
    from tests.admin.conftest import form_token

    return form_token(page)


async def test_rights_a_manager_cannot_take(admin_client, make_staff, sessionmaker):
    curator = await make_staff(Role.curator)
    admin = await make_staff(Role.admin)
    member = await make_staff(Role.analyst)
    await login(admin_client, curator.login)

    response = await _post(admin_client, "/staff", {"name": "Новый админ", "roles": "admin"})
    assert response.status == 400 and "только администратор" in await response.text()
    response = await _post(admin_client, f"/staff/{member.id}", {"name": member.name, "roles": ["analyst", "admin"]},
                           f"/staff/{member.id}")
    assert response.status == 400
    response = await _post(admin_client, f"/staff/{admin.id}/active", {"active": "0"}, f"/staff/{admin.id}")
    assert "только администратор" in await (await admin_client.get(response.headers["Location"])).text()
    assert (await _get(sessionmaker, admin.id)).is_active

    response = await _post(admin_client, f"/staff/{curator.id}/active", {"active": "0"}, f"/staff/{curator.id}")
    assert "Нельзя отключить самого себя" in await (await admin_client.get(response.headers["Location"])).text()
    response = await _post(admin_client, f"/staff/{curator.id}", {"name": curator.name, "roles": "analyst"},
                           f"/staff/{curator.id}")
    assert response.status == 400 and "Нельзя снять с себя права" in await response.text()
    assert (await _get(sessionmaker, curator.id)).role_set == {Role.curator}
    assert (await _get(sessionmaker, member.id)).role_set == {Role.analyst}

    # An administrator may.
    admin_client.session.cookie_jar.clear()
    await login(admin_client, admin.login)
    response = await _post(admin_client, f"/staff/{member.id}", {"name": member.name, "roles": ["analyst", "admin"]},
                           f"/staff/{member.id}")
    assert response.status == 302
    assert (await _get(sessionmaker, member.id)).role_set == {Role.analyst, Role.admin}


async def test_a_script_in_a_name_is_shown_as_text(admin_client, make_staff):
    evil = '<script>alert("x")</script>'
    member = await make_staff(Role.analyst, name=f"Иванов {evil}")
    curator = await make_staff(Role.curator)
    await login(admin_client, member.login)
    page = await (await admin_client.get("/")).text()  # the header shows the signed-in name
    assert evil not in page and "&lt;script&gt;" in page
    admin_client.session.cookie_jar.clear()
    await login(admin_client, curator.login)
    for path in ("/staff", f"/staff/{member.id}", "/audit"):
        page = await (await admin_client.get(path)).text()
        assert evil not in page and "&lt;script&gt;alert(" in page, path


async def test_a_manager_lifts_a_lockout(admin_client, make_staff, sessionmaker):
    curator = await make_staff(Role.curator)
    member = await make_staff(Role.analyst)
    async with sessionmaker() as session, session.begin():
        (await session.get(Staff, member.id)).locked_until = datetime.now(UTC) + timedelta(minutes=10)
    await login(admin_client, curator.login)
    page = await (await admin_client.get(f"/staff/{member.id}")).text()
    assert "вход заблокирован до" in page
    response = await _post(admin_client, f"/staff/{member.id}/unlock", {}, f"/staff/{member.id}")
    assert response.status == 302
    assert (await _get(sessionmaker, member.id)).locked_until is None
    admin_client.session.cookie_jar.clear()
    await login(admin_client, member.login)


async def test_unknown_staff_is_a_404_page(admin_client, make_staff):
    curator = await make_staff(Role.curator)
    await login(admin_client, curator.login)
    response = await admin_client.get("/staff/999999")
    assert response.status == 404 and "Страница не найдена" in await response.text()
