"""/directories/deadlines: the policy rows with their durations; add, edit, delete, each duration checked
by core.calendar.parse_duration."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.deadlines import load_policies
from db.models import DeadlinePolicy, Role, Topic
from tests.admin.dir_helpers import (
    audit_entries,
    follow,
    post,
    sign_in,
    strip_tags,
    text_of,
)

EMPTY = {"channel": "", "kind": "", "topic_id": "", "theme_id": "", "priority": "", "registration": "",
         "first_reaction": "", "answer": "", "review": "", "extension": "", "note": ""}


async def _roads(sessionmaker) -> int:
    async with sessionmaker() as session:
        return (await session.scalars(select(Topic.id).where(Topic.code == "roads"))).one()


async def test_the_seeded_policies_with_their_durations(admin_client, make_staff):
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get("/directories/deadlines"))
    assert 'title="8 рабочих часов">8wh</span>' in page and 'title="30 календарных дней">30d</span>' in page
    assert 'title="10 рабочих дней">10wd</span>' in page and "любое обращение (общая политика)" in page
    assert "Как записывать сроки" in page


async def test_add_edit_and_delete_a_policy(admin_client, make_staff, sessionmaker):
    curator = await sign_in(admin_client, make_staff, Role.curator)
    roads = await _roads(sessionmaker)
    response = await post(admin_client, "/directories/deadlines",
                          {**EMPTY, "channel": "bot", "topic_id": roads, "answer": "5 wd", "note": "ямы"})
    assert "Политика сроков № " in await follow(admin_client, response)
    async with sessionmaker() as session:
        policy = (await session.scalars(select(DeadlinePolicy).where(DeadlinePolicy.note == "ямы"))).one()
        assert (policy.channel, policy.topic_id, policy.answer) == ("bot", roads, "5wd")
        book = await load_policies(session)
        assert str(book.for_item(channel="bot", kind="message", topic_id=roads).answer) == "5wd"
    response = await post(admin_client, f"/directories/deadlines/{policy.id}",
                          {**EMPTY, "channel": "bot", "topic_id": roads, "answer": "4wd", "first_reaction": "4wh"})
    assert response.headers["Location"] == f"/directories/deadlines/{policy.id}"
    page = strip_tags(await follow(admin_client, response))
    assert "4wd — 4 рабочих дня" in page and "4wh — 4 рабочих часа" in page
    response = await post(admin_client, f"/directories/deadlines/{policy.id}/delete", {})
    assert f"Политика сроков № {policy.id} удалена." in await follow(admin_client, response)
    async with sessionmaker() as session:
        assert await session.get(DeadlinePolicy, policy.id) is None
    for action in ("deadline_policy.create", "deadline_policy.update", "deadline_policy.delete"):
        [entry] = await audit_entries(sessionmaker, action)
        assert (entry.staff_id, entry.ip, entry.entity_id) == (curator.id, "127.0.0.1", policy.id)


async def test_a_bad_duration_is_refused_and_nothing_saved(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.head)
    async with sessionmaker() as session:
        count = len((await session.scalars(select(DeadlinePolicy))).all())
    response = await post(admin_client, "/directories/deadlines",
                          {**EMPTY, "channel": "phone", "answer": "2 недели", "note": "звонки"})
    page = await text_of(response)
    assert response.status == 400
    assert "Срок «ответ»: «2 недели» не читается. Пишите число и единицу: 30d — календарные дни" in page
    assert re.search(r'<option value="phone" selected>', page) and 'value="2 недели"' in page
    response = await post(admin_client, "/directories/deadlines", {**EMPTY, "channel": "phone"})
    assert response.status == 400 and "Укажите хотя бы один срок" in await text_of(response)
    async with sessionmaker() as session:
        assert len((await session.scalars(select(DeadlinePolicy))).all()) == count
        general = (await session.scalars(select(DeadlinePolicy).order_by(DeadlinePolicy.id))).first()
    response = await post(admin_client, f"/directories/deadlines/{general.id}/delete", {})
    assert response.status == 400 and "Общую политику (без условий) удалить нельзя" in await text_of(response)
    assert await audit_entries(sessionmaker, "deadline_policy.create") == []
    assert await audit_entries(sessionmaker, "deadline_policy.delete") == []
