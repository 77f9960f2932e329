"""/directories/settlements: list, add, rename, kind, coordinates, switch off."""
from __future__ import annotations

from sqlalchemy import select

from core.settlements import active_settlements
from db.models import Role, Settlement
from tests.admin.dir_helpers import audit_entries, follow, post, sign_in, text_of


async def _place(sessionmaker, name: str) -> Settlement | None:
    async with sessionmaker() as session:
        return (await session.scalars(select(Settlement).where(Settlement.name == name))).one_or_none()


async def test_list_add_and_edit(admin_client, make_staff, sessionmaker):
    curator = await sign_in(admin_client, make_staff, Role.curator)
    page = await text_of(await admin_client.get("/directories/settlements"))
    assert 'value="Новодугино"' in page and 'value="Капустино"' in page
    response = await post(admin_client, "/directories/settlements",
                          {"name": "Заречье", "kind": "деревня", "latitude": "55,51", "longitude": "34,32"})
    assert "Населённый пункт «Заречье» добавлен." in await follow(admin_client, response)
    place = await _place(sessionmaker, "Заречье")
    assert place is not None and (place.kind, place.latitude, place.longitude) == ("деревня", 55.51, 34.32)
    response = await post(admin_client, f"/directories/settlements/{place.id}",
                          {"name": "Заречье-2", "kind": "село", "latitude": "", "longitude": ""})
    assert response.headers["Location"] == f"/directories/settlements#s-{place.id}"
    assert "Населённый пункт «Заречье-2» сохранён." in await follow(admin_client, response)
    renamed = await _place(sessionmaker, "Заречье-2")
    assert renamed is not None and (renamed.kind, renamed.latitude) == ("село", None)
    [created] = await audit_entries(sessionmaker, "settlement.create")
    [updated] = await audit_entries(sessionmaker, "settlement.update")
    assert (created.staff_id, created.ip) == (curator.id, "127.0.0.1")
    assert updated.details["old"] == {"name": "Заречье", "kind": "деревня", "latitude": 55.51, "longitude": 34.32}


async def test_bad_input_is_refused_and_kept(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.head)
    response = await post(admin_client, "/directories/settlements",
                          {"name": "Луговое", "kind": "", "latitude": "север", "longitude": "34"})
    page = await text_of(response)
    assert response.status == 400 and "Широта — число от −90 до 90" in page
    assert 'value="Луговое"' in page and 'value="север"' in page
    response = await post(admin_client, "/directories/settlements", {"name": "высокое"})
    assert response.status == 400 and "Населённый пункт «Высокое» уже есть" in await text_of(response)
    centre = await _place(sessionmaker, "Новодугино")
    response = await post(admin_client, f"/directories/settlements/{centre.id}",
                          {"name": "Новодугино", "latitude": "55.6", "longitude": ""})
    page = await text_of(response)
    assert response.status == 400 and "Укажите обе координаты" in page
    assert page.count('value="55.6"') == 1  # kept in the row that was edited
    assert await _place(sessionmaker, "Луговое") is None
    assert await audit_entries(sessionmaker, "settlement.create") == []
    assert await audit_entries(sessionmaker, "settlement.update") == []


async def test_switch_off_takes_it_out_of_the_bots_list(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.curator)
    place = await _place(sessionmaker, "Извеково")
    response = await post(admin_client, f"/directories/settlements/{place.id}/active", {"active": "0"})
    assert "«Извеково» отключён" in await follow(admin_client, response)
    async with sessionmaker() as session:
        assert "Извеково" not in [s.name for s in await active_settlements(session)]
    await post(admin_client, f"/directories/settlements/{place.id}/active", {"active": "1"})
    async with sessionmaker() as session:
        assert "Извеково" in [s.name for s in await active_settlements(session)]
    assert len(await audit_entries(sessionmaker, "settlement.update")) == 2
