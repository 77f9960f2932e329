"""Directory changes: validation in words, and every change in the audit log."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.routing import (
    RoutingError,
    add_official,
    add_organisation,
    add_rule,
    deactivate_rule,
    find_settlement,
    find_topic,
    rule_history,
    update_organisation,
    update_rule,
)
from core.staff import add_staff
from db.models import AuditEntry, Role, Staff

from .refs import NOW, settlement, theme, topic


async def audit(session, entity: str, entity_id: int) -> list[AuditEntry]:
    return list(await session.scalars(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)))


async def org(session, name: str = "Отдел ЖКХ", **kw) -> int:
    return (await add_organisation(session, name=name, staff_id=None, now=NOW, **kw)).id


# --- organisations ---------------------------------------------------------------------------------


async def test_add_organisation_is_audited(session) -> None:
    created = await add_organisation(session, name="  Отдел   ЖКХ ", short_name="ЖКХ", kind="department",
                                     email="zhkh@example.ru", phone="8 (48138) 2-11-11", staff_id=None, now=NOW)
    assert created.name == "Отдел ЖКХ" and created.is_active and created.created_at == NOW
    [entry] = await audit(session, "organisation", created.id)
    assert entry.action == "organisation.create" and entry.at == NOW and entry.details["old"] is None
    assert entry.details["new"] == {"name": "Отдел ЖКХ", "short_name": "ЖКХ", "kind": "department",
                                    "email": "zhkh@example.ru", "phone": "8 (48138) 2-11-11", "is_active": True}


@pytest.mark.parametrize(("kw", "reason"), [
    ({"name": "   "}, "Нужно указать название организации."),
    ({"name": "отдел жкх"}, "Организация «Отдел ЖКХ» уже есть в справочнике"),
    ({"name": "Х", "kind": "school"}, "Неизвестный вид организации «school»; возможны: department, institution"),
    ({"name": "Х", "email": "zhkh.example.ru"}, "Это не похоже на адрес e-mail: zhkh.example.ru."),
    ({"name": "Х", "phone": "звоните"}, "Это не похоже на номер телефона: звоните."),
    ({"name": "Х" * 513}, "Слишком длинно (название организации): не больше 512 знаков."),
])
async def test_bad_organisations_are_refused_in_words(session, kw, reason) -> None:
    await org(session)
    with pytest.raises(RoutingError) as err:
        await add_organisation(session, staff_id=None, now=NOW, **kw)
    assert str(err.value).startswith(reason)


async def test_update_organisation_records_only_what_changed(session) -> None:
    org_id = await org(session, email="old@example.ru")
    later = NOW + timedelta(days=1)
    await update_organisation(session, org_id, staff_id=None, now=later, email="new@example.ru", name="Отдел ЖКХ")
    await update_organisation(session, org_id, staff_id=None, now=later, email="new@example.ru")  # no change
    entries = await audit(session, "organisation", org_id)
    assert [e.action for e in entries] == ["organisation.create", "organisation.update"]
    assert entries[1].details == {"old": {"email": "old@example.ru"}, "new": {"email": "new@example.ru"}}
    with pytest.raises(RoutingError, match="нет таких полей: colour"):
        await update_organisation(session, org_id, staff_id=None, now=later, colour="red")
    other = await org(session, "Отдел образования")
    with pytest.raises(RoutingError, match="уже есть"):
        await update_organisation(session, other, staff_id=None, now=later, name="ОТДЕЛ ЖКХ")
    with pytest.raises(RoutingError, match="Нет организации № 999"):
        await update_organisation(session, 999, staff_id=None, now=later, phone="12345")


# --- officials -------------------------------------------------------------------------------------


async def test_add_official_creates_a_recipient_and_moves_them_later(session) -> None:
    zhkh, water = await org(session), await org(session, "МУП «Водоканал»")
    person = await add_official(session, organisation_id=zhkh, name="Иванов И. И.", telegram_id=555,
                                position="начальник отдела", staff_id=None, now=NOW)
    assert person.role_set == {Role.recipient} and person.organisation_id == zhkh
    assert person.position == "начальник отдела"
    again = await add_official(session, organisation_id=water, name="Иванов И. И.", telegram_id=555,
                               staff_id=None, now=NOW)
    assert again.id == person.id and again.organisation_id == water and again.position == "начальник отдела"
    entries = await audit(session, "staff", person.id)
    assert [e.action for e in entries] == ["official.create", "official.update"]
    assert entries[1].details == {"old": {"organisation_id": zhkh}, "new": {"organisation_id": water}}


async def test_an_official_without_telegram_needs_an_email_and_is_found_by_it(session) -> None:
    zhkh = await org(session)
    with pytest.raises(RoutingError, match="Исполнителю без Telegram нужен e-mail"):
        await add_official(session, organisation_id=zhkh, name="Петрова", staff_id=None, now=NOW)
    first = await add_official(session, organisation_id=zhkh, name="Петрова", email="petrova@example.ru",
                               staff_id=None, now=NOW)
    assert first.telegram_id is None and first.role_set == {Role.recipient}
    second = await add_official(session, organisation_id=zhkh, name="Петрова А. В.", email="PETROVA@example.ru",
                                staff_id=None, now=NOW)
    assert second.id == first.id and second.name == "Петрова А. В."
    assert await session.scalar(select(Staff.id).where(Staff.id != first.id)) is None


async def test_a_curator_can_also_be_an_official(session) -> None:
    zhkh = await org(session)
    curator, _ = await add_staff(session, telegram_id=777, roles=[Role.curator], name="Куратор")
    same = await add_official(session, organisation_id=zhkh, name="Куратор", telegram_id=777, staff_id=None, now=NOW)
    assert same.id == curator.id and same.role_set == {Role.curator, Role.recipient}


@pytest.mark.parametrize(("kw", "reason"), [
    ({"organisation_id": 999}, "Нет организации № 999."),
    ({"name": " "}, "Нужно указать ФИО."),
    ({"telegram_id": -5}, "Telegram id — положительное число"),
    ({"email": "nobody"}, "Это не похоже на адрес e-mail: nobody."),
])
async def test_bad_officials_are_refused(session, kw, reason) -> None:
    zhkh = await org(session)
    args = {"organisation_id": zhkh, "name": "Иванов", "telegram_id": 1, **kw}
    with pytest.raises(RoutingError) as err:
        await add_official(session, staff_id=None, now=NOW, **args)
    assert str(err.value).startswith(reason)


async def test_no_officials_for_a_retired_organisation(session) -> None:
    zhkh = await org(session)
    await update_organisation(session, zhkh, staff_id=None, now=NOW, is_active=False)
    with pytest.raises(RoutingError, match="Организация «Отдел ЖКХ» отключена"):
        await add_official(session, organisation_id=zhkh, name="Иванов", telegram_id=1, staff_id=None, now=NOW)


# --- rules -----------------------------------------------------------------------------------------


async def test_rule_validation_in_words(session) -> None:
    zhkh = await org(session)
    housing, roads = (await topic(session, "housing")).id, (await topic(session, "roads")).id
    water = (await theme(session, "Отсутствие холодной воды")).id

    async def refused(reason: str, **kw) -> None:
        with pytest.raises(RoutingError) as err:
            await add_rule(session, **{"organisation_id": zhkh, **kw}, staff_id=None, now=NOW)
        assert reason in str(err.value)

    await refused("Нет организации № 999.", organisation_id=999)
    await refused("Нет направления № 999.", topic_id=999)
    await refused("Нет темы № 99999.", theme_id=99999)
    await refused("Нет населённого пункта № 999.", settlement_id=999)
    await refused("Тема «Отсутствие холодной воды» не относится к направлению «Дороги»", topic_id=roads,
                  theme_id=water)
    await refused("Приоритет — целое число от -1000 до 1000.", topic_id=housing, priority=5000)
    # The theme with its own topic is fine.
    await add_rule(session, organisation_id=zhkh, topic_id=housing, theme_id=water, staff_id=None, now=NOW)


async def test_duplicates_are_refused_but_another_priority_is_not(session) -> None:
    zhkh, water_org = await org(session), await org(session, "МУП «Водоканал»")
    housing = (await topic(session, "housing")).id
    first = await add_rule(session, organisation_id=zhkh, topic_id=housing, staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match=f"Такое правило уже есть: № {first.id} → Отдел ЖКХ, с тем же приоритетом 0"):
        await add_rule(session, organisation_id=water_org, topic_id=housing, staff_id=None, now=NOW)
    second = await add_rule(session, organisation_id=water_org, topic_id=housing, priority=1, staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match="Такое правило уже есть"):
        await update_rule(session, second.id, staff_id=None, now=NOW, priority=0)
    # Once the first is off, the same keys and priority are free again; turning it back on is refused.
    await deactivate_rule(session, first.id, staff_id=None, now=NOW)
    await update_rule(session, second.id, staff_id=None, now=NOW, priority=0)
    with pytest.raises(RoutingError, match="Такое правило уже есть"):
        await update_rule(session, first.id, staff_id=None, now=NOW, is_active=True)


async def test_only_one_active_catch_all(session) -> None:
    general, other = await org(session, "Общий отдел"), await org(session)
    catch_all = await add_rule(session, organisation_id=general, staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match=f"Правило по умолчанию .* уже есть: № {catch_all.id} → Общий отдел"):
        await add_rule(session, organisation_id=other, priority=10, staff_id=None, now=NOW)
    await deactivate_rule(session, catch_all.id, staff_id=None, now=NOW)
    replacement = await add_rule(session, organisation_id=other, staff_id=None, now=NOW)
    assert replacement.is_active
    # A keyed rule cannot be turned into a second catch-all either.
    keyed = await add_rule(session, organisation_id=general, topic_id=(await topic(session, "roads")).id,
                           staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match="Правило по умолчанию"):
        await update_rule(session, keyed.id, staff_id=None, now=NOW, topic_id=None)


async def test_rules_to_a_retired_organisation_are_refused(session) -> None:
    zhkh = await org(session)
    await update_organisation(session, zhkh, staff_id=None, now=NOW, is_active=False)
    with pytest.raises(RoutingError, match="отключена"):
        await add_rule(session, organisation_id=zhkh, staff_id=None, now=NOW)


async def test_rule_history_tells_every_change(session) -> None:
    zhkh, water_org = await org(session), await org(session, "МУП «Водоканал»")
    housing = (await topic(session, "housing")).id
    high = (await settlement(session, "Высокое")).id
    rule = await add_rule(session, organisation_id=zhkh, topic_id=housing, staff_id=None, now=NOW)
    curator, _ = await add_staff(session, telegram_id=42, roles=[Role.curator], name="Куратор")
    day = timedelta(days=1)
    await update_rule(session, rule.id, staff_id=curator.id, now=NOW + day, organisation_id=water_org,
                      settlement_id=high, priority=3)
    await update_rule(session, rule.id, staff_id=curator.id, now=NOW + day, priority=3)  # nothing new
    await deactivate_rule(session, rule.id, staff_id=None, now=NOW + 2 * day)
    assert rule.updated_at == NOW + 2 * day
    history = await rule_history(session, rule.id)
    assert [(e.action, e.at, e.staff_id) for e in history] == [
        ("routing_rule.create", NOW, None),
        ("routing_rule.update", NOW + day, curator.id),
        ("routing_rule.deactivate", NOW + 2 * day, None),
    ]
    assert history[0].details == {"old": None, "new": {
        "organisation_id": zhkh, "topic_id": housing, "theme_id": None, "settlement_id": None, "priority": 0,
        "is_active": True}}
    assert history[1].details == {"old": {"organisation_id": zhkh, "settlement_id": None, "priority": 0},
                                  "new": {"organisation_id": water_org, "settlement_id": high, "priority": 3}}
    assert history[2].details == {"old": {"is_active": True}, "new": {"is_active": False}}
    with pytest.raises(RoutingError, match=f"Правило № {rule.id} уже отключено"):
        await deactivate_rule(session, rule.id, staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match="Нет правила № 999"):
        await rule_history(session, 999)
    with pytest.raises(RoutingError, match="нет таких полей: colour"):
        await update_rule(session, rule.id, staff_id=None, now=NOW, colour="red")


async def test_lookups_forgive_case_yo_and_prefixes(session) -> None:
    assert (await find_topic(session, "ROADS")).code == "roads"
    assert (await find_topic(session, "жкх")).code == "housing"
    assert (await find_settlement(session, "с. высокое")).name == "Высокое"
    assert (await find_settlement(session, "деревня  Тесово")).name == "Тесово"
    with pytest.raises(RoutingError, match="Нет населённого пункта «Москва» в справочнике; есть: Высокое, "):
        await find_settlement(session, "Москва")
    with pytest.raises(RoutingError, match=r"Нет направления «дождь»; есть: health \(Здравоохранение\)"):
        await find_topic(session, "дождь")
