"""The core functions behind the directory pages: checks in words, one audit row per real change,
and the pieces the `mcu` commands now share with the admin."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.calendar import load_calendar, remove_override, set_override
from core.deadlines import add_policy, delete_policy, load_policies, update_policy
from core.directories import (
    DirectoryNames,
    add_settlement,
    add_theme,
    rule_change_text,
    update_settlement,
    update_theme,
    update_topic,
)
from core.i18n import gettext_for
from core.routing import (
    RoutingError,
    add_official,
    add_organisation,
    add_rule,
    check_route,
    list_officials,
    remove_official,
    rule_history,
    update_rule,
)
from core.staff import add_staff
from db.models import AuditEntry, DeadlinePolicy, Role, Settlement, Theme, Topic

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def session(sessionmaker):
    async with sessionmaker() as session:
        yield session
        await session.rollback()


async def actions(session, entity: str) -> list[str]:
    return list(await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == entity)
                                      .order_by(AuditEntry.id)))


async def topic(session, code: str) -> Topic:
    return (await session.scalars(select(Topic).where(Topic.code == code))).one()


# --- topics and themes -------------------------------------------------------------------------------------


async def test_topic_rename_and_accelerated_are_audited_once(session):
    roads = await topic(session, "roads")
    await update_topic(session, roads.id, staff_id=None, now=NOW, name_ru=" Дороги  и мосты ", accelerated=True)
    await update_topic(session, roads.id, staff_id=None, now=NOW, name_ru="Дороги и мосты", accelerated=True)
    assert (roads.name_ru, roads.accelerated) == ("Дороги и мосты", True)
    [entry] = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "topic"))).all()
    assert entry.details == {"old": {"name_ru": "Дороги", "accelerated": False},
                             "new": {"name_ru": "Дороги и мосты", "accelerated": True}}
    with pytest.raises(RoutingError, match="Направление «ЖКХ» уже есть"):
        await update_topic(session, roads.id, staff_id=None, now=NOW, name_ru="жкх")
    with pytest.raises(RoutingError, match="Нужно указать название направления"):
        await update_topic(session, roads.id, staff_id=None, now=NOW, name_ru="  ")


async def test_theme_add_rename_move_and_switch_off(session):
    roads, housing = await topic(session, "roads"), await topic(session, "housing")
    theme = await add_theme(session, topic_id=roads.id, name="Наледь на тротуаре", staff_id=None, now=NOW)
    assert (theme.group_name, theme.is_active) == ("Дороги", True)  # the group defaults to the topic's name
    with pytest.raises(RoutingError, match="Тема «Наледь на тротуаре» в группе «Дороги» уже есть"):
        await add_theme(session, topic_id=roads.id, name="наледь на  тротуаре", staff_id=None, now=NOW)
    await update_theme(session, theme.id, staff_id=None, now=NOW, topic_id=housing.id, group_name="Благоустройство")
    await update_theme(session, theme.id, staff_id=None, now=NOW, is_active=False)
    assert (theme.topic_id, theme.group_name, theme.is_active) == (housing.id, "Благоустройство", False)
    assert await actions(session, "theme") == ["theme.create", "theme.update", "theme.update"]


async def test_a_theme_named_with_its_topic_in_a_rule_cannot_move(session):
    housing, roads = await topic(session, "housing"), await topic(session, "roads")
    cold = (await session.scalars(select(Theme).where(Theme.name == "Отсутствие холодной воды"))).one()
    org = await add_organisation(session, name="Водоканал", staff_id=None, now=NOW)
    rule = await add_rule(session, organisation_id=org.id, topic_id=housing.id, theme_id=cold.id, staff_id=None,
                          now=NOW)
    with pytest.raises(RoutingError, match=f"правиле распределения № {rule.id}"):
        await update_theme(session, cold.id, staff_id=None, now=NOW, topic_id=roads.id)
    await update_rule(session, rule.id, staff_id=None, now=NOW, topic_id=None)
    await update_theme(session, cold.id, staff_id=None, now=NOW, topic_id=roads.id)
    assert cold.topic_id == roads.id


# --- settlements --------------------------------------------------------------------------------------------


async def test_settlement_add_edit_and_coordinates(session):
    place = await add_settlement(session, name="Заречье-Тест", kind="деревня", latitude="55,4", longitude="34.1",
                                 staff_id=None, now=NOW)
    assert (place.latitude, place.longitude, place.is_active) == (55.4, 34.1, True)
    with pytest.raises(RoutingError, match="Населённый пункт «Заречье-Тест» уже есть"):
        await add_settlement(session, name="заречье-тест", staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match="Укажите обе координаты"):
        await add_settlement(session, name="Другое", latitude="55", staff_id=None, now=NOW)
    with pytest.raises(RoutingError, match="Широта — число от −90 до 90"):
        await update_settlement(session, place.id, staff_id=None, now=NOW, latitude="555", longitude="34")
    await update_settlement(session, place.id, staff_id=None, now=NOW, latitude="", longitude="", is_active=False)
    assert (place.latitude, place.longitude, place.is_active) == (None, None, False)
    assert await actions(session, "settlement") == ["settlement.create", "settlement.update"]


# --- officials and the route check ------------------------------------------------------------------------------


async def test_remove_official_keeps_other_roles(session):
    org = await add_organisation(session, name="Отдел ЖКХ", staff_id=None, now=NOW)
    person = await add_official(session, organisation_id=org.id, name="Иванов", telegram_id=555, staff_id=None,
                                now=NOW)
    await add_staff(session, telegram_id=555, roles=[Role.curator])
    assert [s.id for s in await list_officials(session, org.id)] == [person.id]
    await remove_official(session, person.id, organisation_id=org.id, staff_id=None, now=NOW)
    assert person.organisation_id is None and person.role_set == {Role.curator}
    assert await list_officials(session, org.id) == []
    with pytest.raises(RoutingError, match="не числится в этой организации"):
        await remove_official(session, person.id, organisation_id=org.id, staff_id=None, now=NOW)
    assert await actions(session, "staff") == ["official.create", "official.remove"]


async def test_check_route_takes_the_topic_of_the_theme(session):
    housing, roads = await topic(session, "housing"), await topic(session, "roads")
    cold = (await session.scalars(select(Theme).where(Theme.name == "Отсутствие холодной воды"))).one()
    zhkh = await add_organisation(session, name="Отдел ЖКХ", staff_id=None, now=NOW)
    water = await add_organisation(session, name="Водоканал", staff_id=None, now=NOW)
    topic_rule = await add_rule(session, organisation_id=zhkh.id, topic_id=housing.id, staff_id=None, now=NOW)
    theme_rule = await add_rule(session, organisation_id=water.id, theme_id=cold.id, staff_id=None, now=NOW)
    found = await check_route(session, topic_id=None, theme_id=cold.id, settlement_id=None)
    assert found.topic_id == housing.id and found.suggestion.rule_id == theme_rule.id
    assert [r.id for r in found.rules] == [theme_rule.id, topic_rule.id] and found.suggestion.unambiguous
    with pytest.raises(RoutingError, match="относится к другому направлению"):
        await check_route(session, topic_id=roads.id, theme_id=cold.id, settlement_id=None)


async def test_rule_history_in_words_is_shared_with_the_cli(session):
    org = await add_organisation(session, name="Отдел ЖКХ", staff_id=None, now=NOW)
    housing = await topic(session, "housing")
    rule = await add_rule(session, organisation_id=org.id, topic_id=housing.id, staff_id=None, now=NOW)
    await update_rule(session, rule.id, staff_id=None, now=NOW, priority=5)
    names = DirectoryNames(session, gettext_for("ru"))
    texts = [await rule_change_text(names, e) for e in await rule_history(session, rule.id)]
    assert texts == ["создано: организация Отдел ЖКХ; направление ЖКХ; приоритет 0", "изменено: приоритет 0 → 5"]
    assert await names.rule(rule) == "ЖКХ → Отдел ЖКХ (приоритет 5)"


# --- deadline policies --------------------------------------------------------------------------------------


async def test_policies_are_checked_with_parse_duration(session):
    roads = await topic(session, "roads")
    policy = await add_policy(session, staff_id=None, now=NOW, topic_id=roads.id, answer=" 5 WD", note="дороги")
    assert policy.answer == "5wd" and policy.registration is None
    book = await load_policies(session)
    assert str(book.for_item(channel="phone", kind="message", topic_id=roads.id).answer) == "5wd"
    for bad, reason in [({"answer": "10 weeks"}, "Срок «ответ»: «10 weeks» не читается"),
                        ({"answer": ""}, "Укажите хотя бы один срок"),
                        ({"channel": "fax", "answer": "1d"}, "Неизвестное значение «fax» (канал)"),
                        ({"priority": "высокая", "answer": "1d"}, "Важность — целое число от 0 до 9"),
                        ({"topic_id": roads.id, "answer": "1d"}, f"Политика с теми же условиями уже есть: № {policy.id}")]:
        with pytest.raises(RoutingError) as err:
            await add_policy(session, staff_id=None, now=NOW, **bad)
        assert str(err.value).startswith(reason)
    await update_policy(session, policy.id, staff_id=None, now=NOW, answer="6wd", registration="")
    assert policy.answer == "6wd"
    await delete_policy(session, policy.id, staff_id=None, now=NOW)
    assert await session.get(DeadlinePolicy, policy.id) is None
    assert await actions(session, "deadline_policy") == [
        "deadline_policy.create", "deadline_policy.update", "deadline_policy.delete"]


async def test_the_general_policy_is_kept(session):
    general = (await session.scalars(select(DeadlinePolicy).where(
        DeadlinePolicy.channel.is_(None), DeadlinePolicy.kind.is_(None), DeadlinePolicy.topic_id.is_(None),
        DeadlinePolicy.theme_id.is_(None), DeadlinePolicy.priority.is_(None)))).one()
    with pytest.raises(RoutingError, match="Общую политику"):
        await delete_policy(session, general.id, staff_id=None, now=NOW)


# --- calendar overrides -------------------------------------------------------------------------------------


async def test_overrides_change_the_calendar_and_are_audited(session):
    friday = date(2026, 5, 15)  # a working Friday
    with pytest.raises(RoutingError, match="15.05.2026 и так рабочий день"):
        await set_override(session, friday, is_working=True, staff_id=None, now=NOW)
    await set_override(session, friday, is_working=False, note="День села", staff_id=None, now=NOW)
    calendar = await load_calendar(session, "Europe/Moscow")
    assert not calendar.is_working_day(friday) and calendar.holiday_name(friday) == "День села"
    await set_override(session, friday, is_working=False, note="День села", staff_id=None, now=NOW)  # no change
    await remove_override(session, friday, staff_id=None, now=NOW)
    assert (await load_calendar(session, "Europe/Moscow")).is_working_day(friday)
    with pytest.raises(RoutingError, match="На 15.05.2026 поправки нет"):
        await remove_override(session, friday, staff_id=None, now=NOW)
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "calendar_override")
                                     .order_by(AuditEntry.id))).all()
    assert [e.action for e in entries] == ["calendar_override.set", "calendar_override.remove"]
    assert entries[0].details["new"] == {"day": "2026-05-15", "is_working": False, "note": "День села"}


async def test_settlement_list_is_the_bots(session):
    # The bot offers active settlements; one switched off in the directory disappears from its list.
    from core.settlements import active_settlements

    place = (await session.scalars(select(Settlement).where(Settlement.name == "Высокое"))).one()
    await update_settlement(session, place.id, staff_id=None, now=NOW, is_active=False)
    assert "Высокое" not in [s.name for s in await active_settlements(session)]
