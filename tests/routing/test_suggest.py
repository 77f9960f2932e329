"""suggest_route ranking and the people who get told, on a real database."""
from __future__ import annotations

import pytest

from core.routing import (
    NO_ROUTE,
    add_organisation,
    add_rule,
    deactivate_rule,
    officials_of,
    suggest_route,
    triage_officers,
    update_organisation,
)
from core.staff import add_staff
from db.models import Item, Role

from .refs import NOW, settlement, theme, topic


class Directory:
    """Three organisations and a quick way to write rules and items."""

    def __init__(self, session) -> None:
        self.session = session

    async def setup(self) -> Directory:
        s = self.session
        self.a = (await add_organisation(s, name="Отдел ЖКХ", staff_id=None, now=NOW)).id
        self.b = (await add_organisation(s, name="МУП «Водоканал»", staff_id=None, now=NOW)).id
        self.c = (await add_organisation(s, name="Общий отдел", staff_id=None, now=NOW)).id
        self.housing = (await topic(s, "housing")).id
        self.roads = (await topic(s, "roads")).id
        self.cold_water = (await theme(s, "Отсутствие холодной воды")).id
        self.high = (await settlement(s, "Высокое")).id
        self.centre = (await settlement(s, "Новодугино")).id
        return self

    async def rule(self, org: int, **keys) -> int:
        return (await add_rule(self.session, organisation_id=org, staff_id=None, now=NOW, **keys)).id

    async def route(self, *, topic_id=None, theme_id=None, settlement_id=None):
        item = Item(number="2026-000001", topic_id=topic_id, theme_id=theme_id, settlement_id=settlement_id)
        return await suggest_route(self.session, item)


@pytest.fixture
async def d(session) -> Directory:
    return await Directory(session).setup()


async def test_no_rules_no_route(d: Directory) -> None:
    assert await d.route(topic_id=d.housing) == NO_ROUTE


async def test_one_matching_rule_is_unambiguous(d: Directory) -> None:
    rule = await d.rule(d.a, topic_id=d.housing)
    await d.rule(d.c, topic_id=d.roads)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert (got.organisation_ids, got.unambiguous, got.rule_id) == ((d.a,), True, rule)


async def test_more_keys_win_and_the_rest_follow_best_first(d: Directory) -> None:
    await d.rule(d.c)  # catch-all
    await d.rule(d.a, topic_id=d.housing)
    local = await d.rule(d.b, topic_id=d.housing, settlement_id=d.high)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert got.organisation_ids == (d.b, d.a, d.c) and got.unambiguous and got.rule_id == local
    # In another village the local rule does not match.
    elsewhere = await d.route(topic_id=d.housing, settlement_id=d.centre)
    assert elsewhere.organisation_ids == (d.a, d.c)


async def test_theme_beats_topic_on_equal_key_count(d: Directory) -> None:
    await d.rule(d.a, topic_id=d.housing, priority=50)
    water = await d.rule(d.b, theme_id=d.cold_water)
    got = await d.route(topic_id=d.housing, theme_id=d.cold_water)
    assert got.organisation_ids == (d.b, d.a) and got.unambiguous and got.rule_id == water
    # Two keys still beat a theme alone.
    both = await d.rule(d.c, topic_id=d.housing, settlement_id=d.high)
    got = await d.route(topic_id=d.housing, theme_id=d.cold_water, settlement_id=d.high)
    assert got.organisation_ids == (d.c, d.b, d.a) and got.rule_id == both


async def test_priority_breaks_a_tie_of_specificity(d: Directory) -> None:
    await d.rule(d.a, topic_id=d.housing)
    preferred = await d.rule(d.b, settlement_id=d.high, priority=5)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert got.organisation_ids == (d.b, d.a) and got.unambiguous and got.rule_id == preferred


async def test_equal_rank_with_two_organisations_is_ambiguous_and_older_first(d: Directory) -> None:
    older = await d.rule(d.b, settlement_id=d.high)
    await d.rule(d.a, topic_id=d.housing)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert got.organisation_ids == (d.b, d.a) and not got.unambiguous and got.rule_id == older


async def test_equal_rank_with_one_organisation_stays_unambiguous(d: Directory) -> None:
    await d.rule(d.a, settlement_id=d.high)
    await d.rule(d.a, topic_id=d.housing)
    await d.rule(d.c)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert got.organisation_ids == (d.a, d.c) and got.unambiguous


async def test_an_unclassified_item_reaches_only_keyless_or_matching_rules(d: Directory) -> None:
    await d.rule(d.a, topic_id=d.housing)
    await d.rule(d.b, settlement_id=d.high)
    catch_all = await d.rule(d.c)
    got = await d.route()
    assert got.organisation_ids == (d.c,) and got.rule_id == catch_all
    got = await d.route(settlement_id=d.high)
    assert got.organisation_ids == (d.b, d.c)


async def test_inactive_rules_and_organisations_are_skipped(d: Directory) -> None:
    best = await d.rule(d.b, topic_id=d.housing, settlement_id=d.high)
    await d.rule(d.a, topic_id=d.housing)
    await d.rule(d.c)
    await update_organisation(d.session, d.b, staff_id=None, now=NOW, is_active=False)
    got = await d.route(topic_id=d.housing, settlement_id=d.high)
    assert got.organisation_ids == (d.a, d.c)
    await update_organisation(d.session, d.b, staff_id=None, now=NOW, is_active=True)
    assert (await d.route(topic_id=d.housing, settlement_id=d.high)).rule_id == best
    await deactivate_rule(d.session, best, staff_id=None, now=NOW)
    assert (await d.route(topic_id=d.housing, settlement_id=d.high)).organisation_ids == (d.a, d.c)


async def test_officials_are_the_active_recipients_of_the_organisation(d: Directory) -> None:
    s = d.session
    first, _ = await add_staff(s, telegram_id=701, roles=[Role.recipient], name="Первый")
    second, _ = await add_staff(s, telegram_id=702, roles=[Role.recipient], name="Второй")
    gone, _ = await add_staff(s, telegram_id=703, roles=[Role.recipient], name="Уволен")
    curator, _ = await add_staff(s, telegram_id=704, roles=[Role.curator], name="Куратор")
    other, _ = await add_staff(s, telegram_id=705, roles=[Role.recipient], name="Из другого отдела")
    for person in (first, second, gone, curator):
        person.organisation_id = d.a
    other.organisation_id = d.b
    gone.is_active = False
    await s.flush()
    assert [p.id for p in await officials_of(s, d.a)] == [first.id, second.id]
    assert [p.id for p in await officials_of(s, d.c)] == []


@pytest.mark.parametrize(("channel", "role"), [
    ("pos", Role.pos_officer), ("im", Role.im_officer), ("bot", Role.curator), ("phone", Role.curator),
    ("email", Role.curator), ("visit", Role.curator), ("cur", Role.curator),
])
async def test_triage_officer_by_channel(session, channel: str, role: Role) -> None:
    people = {}
    for n, r in enumerate((Role.pos_officer, Role.im_officer, Role.curator, Role.head)):
        people[r], _ = await add_staff(session, telegram_id=800 + n, roles=[r], name=r.value)
    assert [p.id for p in await triage_officers(session, channel)] == [people[role].id]


async def test_triage_falls_back_to_the_head_then_the_admin(session) -> None:
    assert await triage_officers(session, "pos") == []
    admin, _ = await add_staff(session, telegram_id=901, roles=[Role.admin], name="Админ")
    assert [p.id for p in await triage_officers(session, "pos")] == [admin.id]
    head, _ = await add_staff(session, telegram_id=902, roles=[Role.head], name="Глава")
    assert [p.id for p in await triage_officers(session, "pos")] == [head.id]
    officer, _ = await add_staff(session, telegram_id=903, roles=[Role.pos_officer, Role.curator], name="ПОС")
    assert [p.id for p in await triage_officers(session, "pos")] == [officer.id]
    officer.is_active = False
    await session.flush()
    assert [p.id for p in await triage_officers(session, "pos")] == [head.id]
