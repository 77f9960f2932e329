"""The reference directories besides routing: the decree's topics and their themes, the settlements;
and the names staff read for the ids in rules and in the directory's history.

The admin's pages and the `mcu` commands call these functions, so there is one set of checks. Every
change is an `AuditEntry` (details {old, new}, as `core.routing` writes them) and a refusal is a
`RoutingError` — the one "directory change that cannot be made" error, with a message in words.

Topics are the decree's fixed list (codes are used by the code and the CLI): staff rename them and
mark them «ускоренные», but do not add or remove them. Themes and settlements are never deleted, only
switched off: old items keep pointing at them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

# The routing module's input and audit helpers are this module's too: one directory, split in two files.
from core.routing import (
    N_,
    _audit,
    _diff,
    _name,
    _require,
    _snapshot,
    _text,
    normalise,
)
from db.models import (
    AuditEntry,
    DeadlinePolicy,
    Organisation,
    RoutingRule,
    Settlement,
    Staff,
    Theme,
    Topic,
)

Gettext = Callable[[str], str]

_TOPIC_FIELDS = ("name_ru", "name_en", "accelerated")
_THEME_FIELDS = ("topic_id", "group_name", "name", "is_active")
_SETTLEMENT_FIELDS = ("name", "kind", "latitude", "longitude", "is_active")


def _fields(changes: dict[str, Any], known: Iterable[str]) -> None:
    unknown = sorted(set(changes) - set(known))
    _require(not unknown, N_("Нет таких полей: {fields}."), fields=", ".join(unknown))


# --- topics ---------------------------------------------------------------------------------------------


async def list_topics(session: AsyncSession) -> list[Topic]:
    """The topics in the decree's order, each with its themes (active and not) loaded."""
    return list(await session.scalars(select(Topic).options(selectinload(Topic.themes)).order_by(Topic.sort)))


async def get_topic(session: AsyncSession, topic_id: int) -> Topic:
    topic = await session.get(Topic, topic_id)
    _require(topic is not None, N_("Нет направления № {id}."), id=topic_id)
    assert topic is not None
    return topic


async def update_topic(session: AsyncSession, topic_id: int, *, staff_id: int | None, now: datetime,
                       **changes: Any) -> Topic:
    """Change name_ru, name_en or accelerated; only what is given."""
    _fields(changes, _TOPIC_FIELDS)
    topic = await get_topic(session, topic_id)
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name_ru": lambda v: _name(v, 128, N_("название направления")),
        "name_en": lambda v: _name(v, 128, N_("название направления по-английски")),
        "accelerated": bool,
    }
    wanted = {field: cleaners[field](value) for field, value in changes.items()}
    if "name_ru" in wanted:
        for other in await session.scalars(select(Topic).where(Topic.id != topic.id)):
            _require(normalise(other.name_ru) != normalise(wanted["name_ru"]),
                     N_("Направление «{name}» уже есть."), name=other.name_ru)
    old, new = _diff(_snapshot(topic, _TOPIC_FIELDS), wanted)
    if not new:
        return topic
    for field, value in new.items():
        setattr(topic, field, value)
    await session.flush()
    _audit(session, "topic.update", "topic", topic.id, staff_id=staff_id, now=now, old=old, new=new)
    return topic


# --- themes ---------------------------------------------------------------------------------------------


async def get_theme(session: AsyncSession, theme_id: int) -> Theme:
    theme = await session.get(Theme, theme_id)
    _require(theme is not None, N_("Нет темы № {id}."), id=theme_id)
    assert theme is not None
    return theme


async def _unique_theme(session: AsyncSession, group_name: str, name: str, *, except_id: int | None) -> None:
    # The database's unique key is exact; staff would not see «Яма на дороге» and «яма на  дороге» apart.
    wanted = (normalise(group_name), normalise(name))
    for other in await session.scalars(select(Theme)):
        _require(other.id == except_id or (normalise(other.group_name), normalise(other.name)) != wanted,
                 N_("Тема «{name}» в группе «{group}» уже есть (№ {id})."),
                 name=other.name, group=other.group_name, id=other.id)


async def add_theme(session: AsyncSession, *, topic_id: int, name: str, group_name: str | None = None,
                    staff_id: int | None, now: datetime) -> Theme:
    """A new active theme of the topic; without a group it goes into the group named as the topic."""
    topic = await get_topic(session, topic_id)
    name = _name(name, 512, N_("название темы"))
    group = _text(group_name, 256, N_("группа")) or topic.name_ru
    await _unique_theme(session, group, name, except_id=None)
    theme = Theme(topic_id=topic.id, group_name=group, name=name, is_active=True)
    session.add(theme)
    await session.flush()
    _audit(session, "theme.create", "theme", theme.id, staff_id=staff_id, now=now, old=None,
           new=_snapshot(theme, _THEME_FIELDS))
    return theme


async def _theme_in_use_with_topic(session: AsyncSession, theme_id: int) -> None:
    """A rule or a deadline policy that names the theme together with its old topic would never match
    again after a move: the staff change it first."""
    rule = await session.scalar(select(RoutingRule).where(
        RoutingRule.theme_id == theme_id, RoutingRule.topic_id.is_not(None), RoutingRule.is_active.is_(True)))
    _require(rule is None, N_("Тема указана в правиле распределения № {id} вместе с направлением: сначала "
                              "уберите направление из правила или отключите его."), id=rule.id if rule else 0)
    policy = await session.scalar(select(DeadlinePolicy).where(
        DeadlinePolicy.theme_id == theme_id, DeadlinePolicy.topic_id.is_not(None)))
    _require(policy is None, N_("Тема указана в политике сроков № {id} вместе с направлением: сначала измените "
                                "политику."), id=policy.id if policy else 0)


async def update_theme(session: AsyncSession, theme_id: int, *, staff_id: int | None, now: datetime,
                       **changes: Any) -> Theme:
    """Rename (name, group_name), move to another topic (topic_id), switch off or on (is_active)."""
    _fields(changes, _THEME_FIELDS)
    theme = await get_theme(session, theme_id)
    wanted: dict[str, Any] = {}
    if "name" in changes:
        wanted["name"] = _name(changes["name"], 512, N_("название темы"))
    if "group_name" in changes:
        wanted["group_name"] = _name(changes["group_name"], 256, N_("группа"))
    if "topic_id" in changes:
        wanted["topic_id"] = (await get_topic(session, int(changes["topic_id"]))).id
    if "is_active" in changes:
        wanted["is_active"] = bool(changes["is_active"])
    old, new = _diff(_snapshot(theme, _THEME_FIELDS), wanted)
    if not new:
        return theme
    if "name" in new or "group_name" in new:
        await _unique_theme(session, new.get("group_name", theme.group_name), new.get("name", theme.name),
                            except_id=theme.id)
    if "topic_id" in new:
        await _theme_in_use_with_topic(session, theme.id)
    for field, value in new.items():
        setattr(theme, field, value)
    await session.flush()
    _audit(session, "theme.update", "theme", theme.id, staff_id=staff_id, now=now, old=old, new=new)
    return theme


# --- settlements ----------------------------------------------------------------------------------------


async def list_settlements(session: AsyncSession) -> list[Settlement]:
    return list(await session.scalars(select(Settlement).order_by(Settlement.name)))


async def get_settlement(session: AsyncSession, settlement_id: int) -> Settlement:
    settlement = await session.get(Settlement, settlement_id)
    _require(settlement is not None, N_("Нет населённого пункта № {id}."), id=settlement_id)
    assert settlement is not None
    return settlement


def _coordinate(value: Any, what: str, limit: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        number = math.nan
    _require(math.isfinite(number) and -limit <= number <= limit,
             N_("{what} — число от −{limit} до {limit}, например 55.7558."), what=what, limit=int(limit))
    return round(number, 6)


async def _unique_settlement(session: AsyncSession, name: str, *, except_id: int | None) -> None:
    for other in await list_settlements(session):
        _require(other.id == except_id or normalise(other.name) != normalise(name),
                 N_("Населённый пункт «{name}» уже есть (№ {id})."), name=other.name, id=other.id)


def _clean_settlement(changes: dict[str, Any]) -> dict[str, Any]:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: _name(v, 256, N_("название населённого пункта")),
        "kind": lambda v: _text(v, 64, N_("вид населённого пункта")),
        "latitude": lambda v: _coordinate(v, N_("Широта"), 90),
        "longitude": lambda v: _coordinate(v, N_("Долгота"), 180),
        "is_active": bool,
    }
    return {field: cleaners[field](value) for field, value in changes.items()}


def _both_or_neither(latitude: float | None, longitude: float | None) -> None:
    # The bot finds the nearest settlement by its point: half a point would place it nowhere.
    _require((latitude is None) == (longitude is None),
             N_("Укажите обе координаты — широту и долготу — или ни одной."))


async def add_settlement(session: AsyncSession, *, name: str, kind: str | None = None,
                         latitude: Any = None, longitude: Any = None, staff_id: int | None,
                         now: datetime) -> Settlement:
    values = _clean_settlement({"name": name, "kind": kind, "latitude": latitude, "longitude": longitude})
    _both_or_neither(values["latitude"], values["longitude"])
    await _unique_settlement(session, values["name"], except_id=None)
    settlement = Settlement(**values, is_active=True)
    session.add(settlement)
    await session.flush()
    _audit(session, "settlement.create", "settlement", settlement.id, staff_id=staff_id, now=now, old=None,
           new=_snapshot(settlement, _SETTLEMENT_FIELDS))
    return settlement


async def update_settlement(session: AsyncSession, settlement_id: int, *, staff_id: int | None, now: datetime,
                            **changes: Any) -> Settlement:
    """Change name, kind, latitude, longitude or is_active; only what is given."""
    _fields(changes, _SETTLEMENT_FIELDS)
    settlement = await get_settlement(session, settlement_id)
    wanted = _clean_settlement(changes)
    _both_or_neither(wanted.get("latitude", settlement.latitude), wanted.get("longitude", settlement.longitude))
    if "name" in wanted:
        await _unique_settlement(session, wanted["name"], except_id=settlement.id)
    old, new = _diff(_snapshot(settlement, _SETTLEMENT_FIELDS), wanted)
    if not new:
        return settlement
    for field, value in new.items():
        setattr(settlement, field, value)
    await session.flush()
    _audit(session, "settlement.update", "settlement", settlement.id, staff_id=staff_id, now=now, old=old,
           new=new)
    return settlement


# --- names for ids, and the history of a rule in words ----------------------------------------------------


class DirectoryNames:
    """Ids to the names staff read: topics, themes, settlements, organisations, staff (cached)."""

    def __init__(self, session: AsyncSession, _: Gettext) -> None:
        self.session = session
        self._ = _
        self.cache: dict[tuple[str, int], str] = {}

    async def _get(self, model: Any, id_: int | None, label: Callable[[Any], str]) -> str:
        if id_ is None:
            return "—"
        key = (model.__name__, id_)
        if key not in self.cache:
            row = await self.session.get(model, id_)
            self.cache[key] = label(row) if row is not None else self._("№ {id} (удалено)").format(id=id_)
        return self.cache[key]

    async def topic(self, id_: int | None) -> str:
        return await self._get(Topic, id_, lambda t: t.name_ru)

    async def theme(self, id_: int | None) -> str:
        return await self._get(Theme, id_, lambda t: f"{t.group_name} / {t.name} (№ {t.id})")

    async def settlement(self, id_: int | None) -> str:
        return await self._get(Settlement, id_, lambda s: s.name)

    async def org(self, id_: int | None) -> str:
        return await self._get(Organisation, id_, lambda o: o.name)

    async def staff(self, id_: int | None) -> str:
        if id_ is None:
            return self._("командная строка")
        return await self._get(Staff, id_, lambda s: s.name)

    async def rule_keys(self, rule: RoutingRule) -> str:
        keys = [await self.topic(rule.topic_id) if rule.topic_id else None,
                await self.theme(rule.theme_id) if rule.theme_id else None,
                await self.settlement(rule.settlement_id) if rule.settlement_id else None]
        shown = [k for k in keys if k]
        return " · ".join(shown) if shown else self._("всё остальное (правило по умолчанию)")

    async def rule(self, rule: RoutingRule) -> str:
        return self._("{keys} → {org} (приоритет {priority})").format(
            keys=await self.rule_keys(rule), org=await self.org(rule.organisation_id), priority=rule.priority)


RULE_FIELD_LABELS = {"organisation_id": N_("организация"), "topic_id": N_("направление"), "theme_id": N_("тема"),
                     "settlement_id": N_("населённый пункт"), "priority": N_("приоритет"),
                     "is_active": N_("действует")}


def shown_value(value: object, _: Gettext) -> str:
    if isinstance(value, bool):
        return _("да") if value else _("нет")
    return "—" if value is None else str(value)


async def _field(names: DirectoryNames, field: str, value: Any) -> str:
    shown: dict[str, Callable[[Any], Any]] = {
        "organisation_id": names.org, "topic_id": names.topic, "theme_id": names.theme,
        "settlement_id": names.settlement,
    }
    if field in shown:
        return str(await shown[field](value))
    return shown_value(value, names._)


async def rule_change_text(names: DirectoryNames, entry: AuditEntry) -> str:
    """One entry of `core.routing.rule_history` in words: what was created or changed."""
    _ = names._
    details = entry.details or {}
    old, new = details.get("old") or {}, details.get("new") or {}
    if entry.action == "routing_rule.create":
        parts = [f"{_(RULE_FIELD_LABELS[k])} {await _field(names, k, v)}" for k, v in new.items()
                 if k in RULE_FIELD_LABELS and k != "is_active" and v is not None]
        return _("создано: {what}").format(what="; ".join(parts))
    if entry.action == "routing_rule.deactivate":
        return _("отключено")
    parts = [f"{_(RULE_FIELD_LABELS.get(k, k))} {await _field(names, k, old.get(k))} → {await _field(names, k, v)}"
             for k, v in new.items()]
    return _("изменено: {what}").format(what="; ".join(parts))
