"""/directories/routes: the rules ranked as the router ranks them, add / edit / switch off, each rule's
history, and «проверить маршрут» answered by the router's own code."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from core.demo import seed_demo_directory
from db.models import Organisation, Role, RoutingRule, Settlement, Theme, Topic
from tests.admin.dir_helpers import (
    audit_entries,
    follow,
    post,
    sign_in,
    strip_tags,
    text_of,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _ids(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        async def one(model, **where) -> int:
            return (await session.scalars(select(model.id).filter_by(**where))).one()
        return {"housing": await one(Topic, code="housing"), "roads": await one(Topic, code="roads"),
                "cold": await one(Theme, name="Отсутствие холодной воды"),
                "high": await one(Settlement, name="Высокое"),
                "water": await one(Organisation, name="МУП «Водоканал»"),
                "zhkh": await one(Organisation, name="Отдел ЖКХ и благоустройства"),
                "general": await one(Organisation, name="Общий отдел администрации"),
                "roads_org": await one(Organisation, name="Отдел дорожного хозяйства и транспорта")}


async def _demo(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session, session.begin():
        await seed_demo_directory(session, NOW)
    return await _ids(sessionmaker)


def _rule_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num"><a href="/directories/routes/(\d+)">', page)]


async def test_rules_are_ranked_as_the_router_ranks_them(admin_client, make_staff, sessionmaker):
    ids = await _demo(sessionmaker)
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get("/directories/routes"))
    async with sessionmaker() as session:
        rules = {r.id: r for r in await session.scalars(select(RoutingRule))}
    shown = _rule_ids(page)
    assert sorted(shown) == sorted(rules)
    theme_rules = [i for i in shown if rules[i].theme_id is not None]
    catch_all = [i for i in shown if (rules[i].topic_id, rules[i].theme_id) == (None, None)]
    assert shown[:len(theme_rules)] == theme_rules and shown[-1:] == catch_all  # theme first, catch-all last
    assert "всё остальное (правило по умолчанию)" in page and "МУП «Водоканал»" in page
    assert ids["water"]


async def test_check_a_route(admin_client, make_staff, sessionmaker):
    ids = await _demo(sessionmaker)
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get(f"/directories/routes?check=1&topic_id=&theme_id={ids['cold']}"
                                                f"&settlement_id={ids['high']}"))
    result = strip_tags(page.split('class="result"')[1].split("</section>")[0])
    assert "Обращение попадёт в МУП «Водоканал» по правилу" in result and "Выбор однозначный" in result
    assert "Отдел ЖКХ и благоустройства" in result  # the topic rule is listed below, as the runner-up
    # The selects keep the question.
    assert re.search(rf'<option value="{ids["cold"]}" selected>', page)
    page = await text_of(await admin_client.get(f"/directories/routes?check=1&topic_id={ids['roads']}"
                                                f"&theme_id={ids['cold']}"))
    assert "относится к другому направлению" in page
    page = await text_of(await admin_client.get("/directories/routes?check=1&topic_id=&theme_id=&settlement_id="))
    assert "Общий отдел администрации" in strip_tags(page.split('class="result"')[1].split("</section>")[0])


async def test_add_edit_switch_off_and_history(admin_client, make_staff, sessionmaker):
    ids = await _demo(sessionmaker)
    curator = await sign_in(admin_client, make_staff, Role.curator)
    response = await post(admin_client, "/directories/routes",
                          {"organisation_id": ids["roads_org"], "topic_id": ids["roads"], "theme_id": "",
                           "settlement_id": ids["high"], "priority": "5"})
    page = await follow(admin_client, response)
    assert "добавлено: Дороги · Высокое → Отдел дорожного хозяйства и транспорта (приоритет 5)" in page
    async with sessionmaker() as session:
        rule = (await session.scalars(select(RoutingRule).where(RoutingRule.settlement_id == ids["high"]))).one()
    # A roads item in Высокое now goes by the new, more specific rule.
    check = await text_of(await admin_client.get(
        f"/directories/routes?check=1&topic_id={ids['roads']}&settlement_id={ids['high']}"))
    assert f'по правилу <a href="/directories/routes/{rule.id}">' in check

    response = await post(admin_client, f"/directories/routes/{rule.id}",
                          {"organisation_id": ids["general"], "topic_id": ids["roads"], "theme_id": "",
                           "settlement_id": ids["high"], "priority": "7"})
    assert "сохранено" in await follow(admin_client, response)
    response = await post(admin_client, f"/directories/routes/{rule.id}/active", {"active": "0", "back": "rule"})
    assert response.headers["Location"] == f"/directories/routes/{rule.id}"
    page = strip_tags(await follow(admin_client, response))
    assert f"Правило № {rule.id} отключено." in page
    assert "создано: организация Отдел дорожного хозяйства и транспорта; направление Дороги" in page
    assert "изменено: организация Отдел дорожного хозяйства и транспорта → Общий отдел администрации; " \
           "приоритет 5 → 7" in page
    assert "отключено" in page and curator.name in page
    for action in ("routing_rule.create", "routing_rule.update", "routing_rule.deactivate"):
        [entry] = [e for e in await audit_entries(sessionmaker, action) if e.entity_id == rule.id]
        assert (entry.staff_id, entry.ip) == (curator.id, "127.0.0.1")
    listed = await text_of(await admin_client.get("/directories/routes"))
    assert rule.id not in _rule_ids(listed) and rule.id in _rule_ids(
        await text_of(await admin_client.get("/directories/routes?all=1")))


async def test_bad_rules_are_refused_in_words(admin_client, make_staff, sessionmaker):
    ids = await _demo(sessionmaker)
    await sign_in(admin_client, make_staff, Role.head)
    before = len(await audit_entries(sessionmaker, "routing_rule.create"))
    response = await post(admin_client, "/directories/routes",
                          {"organisation_id": ids["zhkh"], "topic_id": "", "theme_id": "", "settlement_id": "",
                           "priority": "0"})
    page = await text_of(response)
    assert response.status == 400 and "Правило по умолчанию (для всего, что не подошло под другие правила) уже есть" in page
    response = await post(admin_client, "/directories/routes",
                          {"organisation_id": ids["zhkh"], "topic_id": ids["roads"], "theme_id": ids["cold"],
                           "priority": "3"})
    page = await text_of(response)
    assert response.status == 400 and "не относится к направлению «Дороги»" in page
    assert re.search(r'<section class="card" id="add">.*?name="priority"[^>]*value="3"', page, re.DOTALL)
    response = await post(admin_client, "/directories/routes", {"organisation_id": "", "topic_id": ids["roads"]})
    assert response.status == 400 and "Выберите организацию." in await text_of(response)
    response = await post(admin_client, "/directories/routes",
                          {"organisation_id": ids["zhkh"], "topic_id": ids["roads"], "priority": "много"})
    assert response.status == 400 and "Приоритет — целое число от -1000 до 1000." in await text_of(response)
    assert len(await audit_entries(sessionmaker, "routing_rule.create")) == before
    assert (await admin_client.get("/directories/routes/9999")).status == 404
