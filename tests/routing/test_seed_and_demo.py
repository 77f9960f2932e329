"""The district's settlements (reference seed) and the demo directory."""
from __future__ import annotations

from sqlalchemy import func, select

from core.demo import ORGANISATIONS, TOPIC_ORGANISATION, seed_demo_directory
from core.routing import deactivate_rule, suggest_route, update_organisation
from core.seed import TOPICS, read_settlements, seed_reference
from db.models import Item, Organisation, RoutingRule, Settlement
from mcu.directory_cli import TOPIC_CODES

from .refs import NOW, settlement, theme, topic


def test_the_settlements_file_holds_the_district_centre_first():
    rows = read_settlements()
    assert rows[0] == ("Новодугино", "село")
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)) and {"Днепровское", "Высокое", "Извеково"} <= set(names)
    assert all(kind in ("село", "деревня", "посёлок") for _, kind in rows)


async def test_settlements_are_seeded_once_and_staff_edits_are_kept(session):
    count = await session.scalar(select(func.count()).select_from(Settlement))
    assert count == len(read_settlements())
    high = await settlement(session, "Высокое")
    high.is_active = False
    await session.delete(await settlement(session, "Тесово"))
    session.add(Settlement(name="Ключи", kind="деревня"))
    await session.flush()
    await seed_reference(session)
    names = set(await session.scalars(select(Settlement.name)))
    assert "Тесово" not in names and "Ключи" in names and len(names) == count
    assert not (await settlement(session, "Высокое")).is_active


def test_the_cli_help_lists_the_topic_codes_of_the_seed():
    assert TOPIC_CODES == ", ".join(t.code for t in TOPICS)


async def test_demo_directory_routes_every_topic_and_runs_twice_harmlessly(session):
    first = await seed_demo_directory(session, NOW)
    assert len(first.organisations) == len(ORGANISATIONS) == 9
    assert set(TOPIC_ORGANISATION) == {t.code for t in TOPICS}
    assert all(o.email and o.email.endswith("@novodugino.example") for o in first.organisations)
    # One rule per topic, four water themes to the water utility, and the catch-all.
    assert len(first.rules) == len(TOPICS) + 4 + 1
    second = await seed_demo_directory(session, NOW)
    assert not second.changed
    assert await session.scalar(select(func.count()).select_from(RoutingRule)) == len(first.rules)

    orgs = {o.id: o.name for o in await session.scalars(select(Organisation))}

    async def route(**keys) -> tuple[str, bool]:
        got = await suggest_route(session, Item(number="x", **keys))
        return orgs[got.organisation_ids[0]], got.unambiguous

    housing = (await topic(session, "housing")).id
    assert await route(topic_id=housing) == ("Отдел ЖКХ и благоустройства", True)
    water = (await theme(session, "Отсутствие холодной воды")).id
    assert await route(topic_id=housing, theme_id=water) == ("МУП «Водоканал»", True)
    assert await route(topic_id=(await topic(session, "transport")).id) == (
        "Отдел дорожного хозяйства и транспорта", True)
    assert await route() == ("Общий отдел администрации", True)


async def test_demo_keeps_what_staff_switched_off(session):
    first = await seed_demo_directory(session, NOW)
    housing = (await topic(session, "housing")).id
    rule = next(r for r in first.rules if r.topic_id == housing)
    await deactivate_rule(session, rule.id, staff_id=None, now=NOW)
    crb = next(o for o in first.organisations if "ЦРБ" in o.name)
    health = next(r for r in first.rules if r.organisation_id == crb.id)
    await session.delete(health)
    await update_organisation(session, crb.id, staff_id=None, now=NOW, is_active=False)
    again = await seed_demo_directory(session, NOW)
    # The switched-off rule stays off; no rule goes to the retired hospital.
    assert not again.changed
