"""The directory of organisations and their officials, and the rules that route items to them.

A rule maps topic × theme × settlement to an organisation; keys left empty match anything. The most
specific matching rule wins (more keys; on equal count a theme beats a topic), then the highest
priority. A rule with no key at all is the catch-all: at most one is active.

Every change of the directory is written to the audit log (`AuditEntry`, details {old, new}): that is
the history staff read when they ask who sent «дороги» to whom, and since when.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.i18n import LocalizedError
from core.mail import is_email_address
from core.settlements import fold, settlement_key
from core.staff import CHANNEL_OFFICER, add_staff
from db.models import (
    AuditEntry,
    Item,
    Organisation,
    Role,
    RoutingRule,
    Settlement,
    Staff,
    StaffRole,
    Theme,
    Topic,
)

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated when shown."""
    return message


# Kinds of organisation, with the label staff read.
ORGANISATION_KINDS = {
    "department": N_("отдел администрации"),
    "institution": N_("учреждение"),
    "enterprise": N_("предприятие"),
    "external": N_("сторонняя организация"),
}
# Who sorts a new item of each channel; every other channel (bot, phone, e-mail, visit, ЦУР) → curator.
PRIORITY_RANGE = (-1000, 1000)


class RoutingError(LocalizedError):
    """A directory change that cannot be made, with the reason."""

    def localized_values(self, _: Gettext) -> dict[str, Any]:
        values = dict(self.values)
        if "what" in values:  # the name of a field: a catalog text too
            values["what"] = _(str(values["what"]))
        return values


def _require(condition: bool, message: str, **values: Any) -> None:
    if not condition:
        raise RoutingError(message, **values)


# --- the route of an item ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSuggestion:
    organisation_ids: tuple[int, ...]  # distinct, best first
    unambiguous: bool  # one organisation among the best-ranked rules: safe to route without a human
    rule_id: int | None  # the best rule


NO_ROUTE = RouteSuggestion((), False, None)


def specificity(rule: RoutingRule) -> tuple[int, bool]:
    keys = sum(key is not None for key in (rule.topic_id, rule.theme_id, rule.settlement_id))
    return keys, rule.theme_id is not None


def rank(rule: RoutingRule) -> tuple[int, int, int, int]:
    """Sort key, best first: more keys, theme over topic, higher priority, older rule."""
    keys, has_theme = specificity(rule)
    return -keys, -int(has_theme), -rule.priority, rule.id


def _key_matches(column: InstrumentedAttribute[int | None], value: int | None) -> ColumnElement[bool]:
    if value is None:
        return column.is_(None)
    return or_(column.is_(None), column == value)


async def matching_rules(session: AsyncSession, *, topic_id: int | None, theme_id: int | None,
                         settlement_id: int | None) -> list[RoutingRule]:
    """The active rules of active organisations that fit these keys, best first (`rank`)."""
    rules = list(
        await session.scalars(
            select(RoutingRule)
            .join(Organisation, Organisation.id == RoutingRule.organisation_id)
            .where(
                RoutingRule.is_active.is_(True),
                Organisation.is_active.is_(True),
                _key_matches(RoutingRule.topic_id, topic_id),
                _key_matches(RoutingRule.theme_id, theme_id),
                _key_matches(RoutingRule.settlement_id, settlement_id),
            )
        )
    )
    rules.sort(key=rank)
    return rules


async def suggest_route(session: AsyncSession, item: Item) -> RouteSuggestion:
    return await suggest_route_for(session, topic_id=item.topic_id, theme_id=item.theme_id,
                                   settlement_id=item.settlement_id)


async def suggest_route_for(session: AsyncSession, *, topic_id: int | None, theme_id: int | None,
                            settlement_id: int | None) -> RouteSuggestion:
    """The route of an item with these keys; the admin's «проверить маршрут» asks it directly."""
    rules = await matching_rules(session, topic_id=topic_id, theme_id=theme_id, settlement_id=settlement_id)
    if not rules:
        return NO_ROUTE
    best = rules[0]
    top = {r.organisation_id for r in rules
           if (specificity(r), r.priority) == (specificity(best), best.priority)}
    return RouteSuggestion(tuple(dict.fromkeys(r.organisation_id for r in rules)), len(top) == 1, best.id)


@dataclass(frozen=True)
class RouteCheck:
    """«Проверить маршрут»: the suggestion for these keys, and every rule that fits, best first."""

    topic_id: int | None
    suggestion: RouteSuggestion
    rules: list[RoutingRule]


async def check_route(session: AsyncSession, *, topic_id: int | None, theme_id: int | None,
                      settlement_id: int | None) -> RouteCheck:
    """As an item with these keys would be routed. An item with a theme always has the theme's topic,
    so a theme alone brings its topic; a theme of another topic is refused."""
    if theme_id is not None:
        theme = await session.get(Theme, theme_id)
        _require(theme is not None, N_("Нет темы № {id}."), id=theme_id)
        assert theme is not None
        _require(topic_id is None or topic_id == theme.topic_id,
                 N_("Тема «{theme}» относится к другому направлению."), theme=theme.name)
        topic_id = theme.topic_id
    keys = {"topic_id": topic_id, "theme_id": theme_id, "settlement_id": settlement_id}
    return RouteCheck(topic_id, await suggest_route_for(session, **keys), await matching_rules(session, **keys))


# --- who gets told -----------------------------------------------------------------------------------


async def _holders(session: AsyncSession, role: Role, *conditions: ColumnElement[bool]) -> list[Staff]:
    return list(
        await session.scalars(
            select(Staff)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(Staff.is_active.is_(True), StaffRole.role == role.value, *conditions)
            .order_by(Staff.id)
        )
    )


async def officials_of(session: AsyncSession, organisation_id: int) -> list[Staff]:
    """The organisation's active officials (role recipient): they get its items."""
    return await _holders(session, Role.recipient, Staff.organisation_id == organisation_id)


async def first_holders(session: AsyncSession, *roles: Role) -> list[Staff]:
    """The active holders of the first of `roles` that anybody holds."""
    for role in roles:
        people = await _holders(session, role)
        if people:
            return people
    return []


async def triage_officers(session: AsyncSession, channel: str) -> list[Staff]:
    """Who sorts a new item of this channel; nobody active in that role → the head, then the admin,
    so an item never waits unseen."""
    return await first_holders(session, CHANNEL_OFFICER.get(channel, Role.curator), Role.head, Role.admin)


# --- input --------------------------------------------------------------------------------------------


def _text(value: str | None, max_length: int, what: str) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        return None
    _require(len(text) <= max_length, N_("Слишком длинно ({what}): не больше {limit} знаков."),
             what=what, limit=max_length)
    return text


def _name(value: str | None, max_length: int, what: str) -> str:
    text = _text(value, max_length, what)
    _require(text is not None, N_("Нужно указать {what}."), what=what)
    assert text is not None
    return text


def _email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    _require(is_email_address(text, public=True),
             N_("Это не похоже на адрес e-mail: {value}."), value=text)
    return text


def _phone(value: str | None) -> str | None:
    text = _text(value, 64, N_("телефон"))
    if text is None:
        return None
    _require(sum(c.isdigit() for c in text) >= 5, N_("Это не похоже на номер телефона: {value}."), value=text)
    return text


def _kind(value: str | None) -> str:
    kind = (value or "department").strip()
    _require(kind in ORGANISATION_KINDS, N_("Неизвестный вид организации «{value}»; возможны: {known}."),
             value=kind, known=", ".join(ORGANISATION_KINDS))
    return kind


def _priority(value: Any) -> int:
    low, high = PRIORITY_RANGE
    try:
        priority = int(value)
    except (TypeError, ValueError):
        priority = None
    _require(priority is not None and low <= priority <= high and not isinstance(value, bool),
             N_("Приоритет — целое число от {low} до {high}."), low=low, high=high)
    assert priority is not None
    return priority


# Look-ups forgive case, ё and extra spaces, as the dialogue's settlement search does.
normalise = fold


# --- the directory: look-ups --------------------------------------------------------------------------


async def get_organisation(session: AsyncSession, org_id: int, *, active: bool = False) -> Organisation:
    org = await session.get(Organisation, org_id)
    _require(org is not None, N_("Нет организации № {id}."), id=org_id)
    assert org is not None
    _require(not active or org.is_active, N_("Организация «{name}» отключена."), name=org.name)
    return org


async def list_organisations(session: AsyncSession, *, active_only: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if active_only:
        query = query.where(Organisation.is_active.is_(True))
    return list(await session.scalars(query))


async def find_topic(session: AsyncSession, code: str) -> Topic:
    topics = list(await session.scalars(select(Topic).order_by(Topic.sort)))
    wanted = normalise(code)
    found = next((t for t in topics if wanted in (t.code, normalise(t.name_ru))), None)
    _require(found is not None, N_("Нет направления «{value}»; есть: {known}."),
             value=code, known=", ".join(f"{t.code} ({t.name_ru})" for t in topics))
    assert found is not None
    return found


async def find_settlement(session: AsyncSession, name: str) -> Settlement:
    """By name, forgiving case, ё and a leading «с.», «д.», «пос.»."""
    settlements = list(await session.scalars(select(Settlement).order_by(Settlement.name)))
    wanted = settlement_key(name)
    found = next((s for s in settlements if settlement_key(s.name) == wanted), None)
    _require(found is not None, N_("Нет населённого пункта «{value}» в справочнике; есть: {known}."),
             value=name, known=", ".join(s.name for s in settlements) or "—")
    assert found is not None
    return found


async def list_rules(session: AsyncSession, *, active_only: bool = True) -> list[RoutingRule]:
    query = select(RoutingRule)
    if active_only:
        query = query.where(RoutingRule.is_active.is_(True))
    rules = list(await session.scalars(query))
    rules.sort(key=lambda r: (not r.is_active, r.topic_id is None, r.topic_id or 0, *rank(r)))
    return rules


# --- the directory: changes ----------------------------------------------------------------------------

_ORG_FIELDS = ("name", "short_name", "kind", "email", "phone", "is_active")
_RULE_FIELDS = ("organisation_id", "topic_id", "theme_id", "settlement_id", "priority", "is_active")


def _snapshot(row: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _audit(session: AsyncSession, action: str, entity: str, entity_id: int, *, staff_id: int | None,
           now: datetime, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    session.add(AuditEntry(at=now, staff_id=staff_id, action=action, entity=entity, entity_id=entity_id,
                           details={"old": old, "new": new}))


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in changed}, {k: new[k] for k in changed}


async def _unique_name(session: AsyncSession, name: str, *, except_id: int | None = None) -> None:
    wanted = normalise(name)
    for org in await list_organisations(session):
        _require(org.id == except_id or normalise(org.name) != wanted,
                 N_("Организация «{name}» уже есть в справочнике (№ {id})."), name=org.name, id=org.id)


async def add_organisation(session: AsyncSession, *, name: str, short_name: str | None = None,
                           kind: str = "department", email: str | None = None, phone: str | None = None,
                           staff_id: int | None, now: datetime) -> Organisation:
    name = _name(name, 512, N_("название организации"))
    await _unique_name(session, name)
    org = Organisation(name=name, short_name=_text(short_name, 128, N_("краткое название")), kind=_kind(kind),
                       email=_email(email), phone=_phone(phone), is_active=True, created_at=now)
    session.add(org)
    await session.flush()
    _audit(session, "organisation.create", "organisation", org.id, staff_id=staff_id, now=now, old=None,
           new=_snapshot(org, _ORG_FIELDS))
    return org


async def update_organisation(session: AsyncSession, org_id: int, *, staff_id: int | None, now: datetime,
                              **changes: Any) -> Organisation:
    """Change name, short_name, kind, email, phone or is_active; only what is given."""
    unknown = sorted(set(changes) - set(_ORG_FIELDS))
    _require(not unknown, N_("У организации нет таких полей: {fields}."), fields=", ".join(unknown))
    org = await get_organisation(session, org_id)
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: _name(v, 512, N_("название организации")),
        "short_name": lambda v: _text(v, 128, N_("краткое название")),
        "kind": _kind, "email": _email, "phone": _phone, "is_active": bool,
    }
    wanted = {field: cleaners[field](value) for field, value in changes.items()}
    if "name" in wanted:
        await _unique_name(session, wanted["name"], except_id=org.id)
    old, new = _diff(_snapshot(org, _ORG_FIELDS), wanted)
    if not new:
        return org
    for field, value in new.items():
        setattr(org, field, value)
    await session.flush()
    _audit(session, "organisation.update", "organisation", org.id, staff_id=staff_id, now=now, old=old, new=new)
    return org


def _official_snapshot(staff: Staff) -> dict[str, Any]:
    return {"name": staff.name, "organisation_id": staff.organisation_id, "telegram_id": staff.telegram_id,
            "email": staff.email, "position": staff.position, "is_active": staff.is_active,
            "roles": sorted(staff.role_set)}


async def add_official(session: AsyncSession, *, organisation_id: int, name: str, telegram_id: int | None = None,
                       email: str | None = None, position: str | None = None, staff_id: int | None,
                       now: datetime) -> Staff:
    """Create an official of the organisation, or update the person with that Telegram id (or, without
    one, that e-mail): they get the recipient role and move to this organisation."""
    org = await get_organisation(session, organisation_id, active=True)
    name = _name(name, 256, N_("ФИО"))
    email = _email(email)
    position = _text(position, 256, N_("должность"))
    _require(telegram_id is None or telegram_id > 0, N_("Telegram id — положительное число, например 123456789."))
    _require(telegram_id is not None or email is not None,
             N_("Исполнителю без Telegram нужен e-mail: карточки обращений ему будут приходить по почте."))
    if telegram_id is not None:
        existing = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
    else:
        assert email is not None
        same_mail = [s for s in await session.scalars(select(Staff).where(Staff.email.is_not(None)))
                     if s.email is not None and s.email.casefold() == email.casefold()]
        existing = same_mail[0] if len(same_mail) == 1 else None
    old = None if existing is None else _official_snapshot(existing)
    if existing is None or telegram_id is not None:
        staff, _ = await add_staff(session, telegram_id=telegram_id, roles=[Role.recipient], name=name, email=email)
    else:
        staff = existing
        staff.name, staff.email, staff.is_active = name, email, True
        if Role.recipient not in staff.role_set:
            staff.roles.append(StaffRole(role=Role.recipient.value))
    staff.organisation_id = org.id
    if position is not None:
        staff.position = position
    await session.flush()
    new = _official_snapshot(staff)
    if old is None:
        _audit(session, "official.create", "staff", staff.id, staff_id=staff_id, now=now, old=None, new=new)
    elif old != new:
        before, after = _diff(old, new)
        _audit(session, "official.update", "staff", staff.id, staff_id=staff_id, now=now, old=before, new=after)
    return staff


async def list_officials(session: AsyncSession, organisation_id: int | None = None) -> list[Staff]:
    """Active officials (role recipient), by organisation then name; of one organisation when given."""
    query = (select(Staff).join(StaffRole, StaffRole.staff_id == Staff.id)
             .where(Staff.is_active.is_(True), StaffRole.role == Role.recipient.value)
             .order_by(Staff.organisation_id, Staff.name))
    if organisation_id is not None:
        await get_organisation(session, organisation_id)
        query = query.where(Staff.organisation_id == organisation_id)
    return list(await session.scalars(query))


async def remove_official(session: AsyncSession, official_id: int, *, organisation_id: int,
                          staff_id: int | None, now: datetime) -> Staff:
    """Take the person out of the organisation: no organisation and no recipient role any more, so its
    items stop reaching them. Other roles (a curator who also answered as an official) are kept."""
    staff = await session.get(Staff, official_id)
    _require(staff is not None and staff.organisation_id == organisation_id,
             N_("Сотрудник № {id} не числится в этой организации."), id=official_id)
    assert staff is not None
    old = _official_snapshot(staff)
    staff.organisation_id = None
    for role in [r for r in staff.roles if r.role == Role.recipient.value]:
        staff.roles.remove(role)
    await session.flush()
    before, after = _diff(old, _official_snapshot(staff))
    _audit(session, "official.remove", "staff", staff.id, staff_id=staff_id, now=now, old=before, new=after)
    return staff


async def _check_rule(session: AsyncSession, values: dict[str, Any], *, rule_id: int | None,
                      changed: Iterable[str]) -> None:
    """Everything a rule must be; references are checked only where they change, so an old rule
    whose theme was later retired can still get a new priority."""
    changed = set(changed)
    if "organisation_id" in changed or (values["is_active"] and "is_active" in changed):
        await get_organisation(session, values["organisation_id"], active=True)
    topic = theme = None
    if values["topic_id"] is not None:
        topic = await session.get(Topic, values["topic_id"])
        _require(topic is not None, N_("Нет направления № {id}."), id=values["topic_id"])
    if values["theme_id"] is not None:
        theme = await session.get(Theme, values["theme_id"])
        _require(theme is not None, N_("Нет темы № {id}."), id=values["theme_id"])
        assert theme is not None
        _require("theme_id" not in changed or theme.is_active, N_("Тема «{name}» отключена в справочнике."),
                 name=theme.name)
    if values["settlement_id"] is not None:
        settlement = await session.get(Settlement, values["settlement_id"])
        _require(settlement is not None, N_("Нет населённого пункта № {id}."), id=values["settlement_id"])
    if topic is not None and theme is not None:
        _require(theme.topic_id == topic.id,
                 N_("Тема «{theme}» не относится к направлению «{topic}»: такое правило ни к чему не подойдёт."),
                 theme=theme.name, topic=topic.name_ru)
    if not values["is_active"]:
        return
    keys = (values["topic_id"], values["theme_id"], values["settlement_id"])
    same_keys = [r for r in await session.scalars(select(RoutingRule).where(RoutingRule.is_active.is_(True)))
                 if r.id != rule_id and (r.topic_id, r.theme_id, r.settlement_id) == keys]
    for other in same_keys:
        org = await session.get(Organisation, other.organisation_id)
        org_name = org.name if org is not None else "—"
        _require(keys != (None, None, None),
                 N_("Правило по умолчанию (для всего, что не подошло под другие правила) уже есть: № {id} → "
                    "{org}. Измените или отключите его."), id=other.id, org=org_name)
        _require(other.priority != values["priority"],
                 N_("Такое правило уже есть: № {id} → {org}, с тем же приоритетом {priority}. "
                    "Отключите его или задайте другой приоритет."),
                 id=other.id, org=org_name, priority=other.priority)


async def add_rule(session: AsyncSession, *, organisation_id: int, topic_id: int | None = None,
                   theme_id: int | None = None, settlement_id: int | None = None, priority: int = 0,
                   staff_id: int | None, now: datetime) -> RoutingRule:
    """A new active rule. No key at all makes it the catch-all (only one may be active)."""
    values = {"organisation_id": organisation_id, "topic_id": topic_id, "theme_id": theme_id,
              "settlement_id": settlement_id, "priority": _priority(priority), "is_active": True}
    await _check_rule(session, values, rule_id=None, changed=values)
    rule = RoutingRule(**values, created_at=now)
    session.add(rule)
    await session.flush()
    _audit(session, "routing_rule.create", "routing_rule", rule.id, staff_id=staff_id, now=now, old=None,
           new=_snapshot(rule, _RULE_FIELDS))
    return rule


async def _rule(session: AsyncSession, rule_id: int) -> RoutingRule:
    rule = await session.get(RoutingRule, rule_id)
    _require(rule is not None, N_("Нет правила № {id}."), id=rule_id)
    assert rule is not None
    return rule


async def update_rule(session: AsyncSession, rule_id: int, *, staff_id: int | None, now: datetime,
                      **changes: Any) -> RoutingRule:
    """Change organisation_id, topic_id, theme_id, settlement_id (None clears a key), priority or
    is_active; only what is given."""
    unknown = sorted(set(changes) - set(_RULE_FIELDS))
    _require(not unknown, N_("У правила нет таких полей: {fields}."), fields=", ".join(unknown))
    rule = await _rule(session, rule_id)
    if "priority" in changes:
        changes["priority"] = _priority(changes["priority"])
    if "is_active" in changes:
        changes["is_active"] = bool(changes["is_active"])
    old, new = _diff(_snapshot(rule, _RULE_FIELDS), changes)
    if not new:
        return rule
    await _check_rule(session, {**_snapshot(rule, _RULE_FIELDS), **new}, rule_id=rule.id, changed=new)
    for field, value in new.items():
        setattr(rule, field, value)
    rule.updated_at = now
    await session.flush()
    action = "routing_rule.deactivate" if new == {"is_active": False} else "routing_rule.update"
    _audit(session, action, "routing_rule", rule.id, staff_id=staff_id, now=now, old=old, new=new)
    return rule


async def deactivate_rule(session: AsyncSession, rule_id: int, *, staff_id: int | None,
                          now: datetime) -> RoutingRule:
    rule = await _rule(session, rule_id)
    _require(rule.is_active, N_("Правило № {id} уже отключено."), id=rule_id)
    return await update_rule(session, rule_id, staff_id=staff_id, now=now, is_active=False)


async def rule_history(session: AsyncSession, rule_id: int) -> list[AuditEntry]:
    """Every change of the rule, oldest first."""
    await _rule(session, rule_id)
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "routing_rule", AuditEntry.entity_id == rule_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
