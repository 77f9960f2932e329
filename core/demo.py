"""A demo directory of a small district: organisations and routing rules to try the centre with.

Idempotent: what exists (an organisation by name, a rule by its keys, even a switched-off one) is
left as staff made it, so running it twice, or after staff edits, adds only what is missing. No officials: they need real
Telegram ids or e-mails, which only the district knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.routing import add_organisation, add_rule, normalise
from db.models import Organisation, RoutingRule, Theme, Topic


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    short_name: str
    kind: str
    email: str


GENERAL = "Общий отдел администрации"
ORGANISATIONS = (
    DemoOrganisation("Отдел ЖКХ и благоустройства", "ЖКХ", "department", "zhkh@novodugino.example"),
    DemoOrganisation("Отдел образования", "Образование", "department", "obrazovanie@novodugino.example"),
    DemoOrganisation("Отдел социальной защиты населения", "Соцзащита", "department",
                     "soczashita@novodugino.example"),
    DemoOrganisation("ОГБУЗ «Новодугинская ЦРБ»", "ЦРБ", "institution", "crb@novodugino.example"),
    DemoOrganisation("МУП «Водоканал»", "Водоканал", "enterprise", "vodokanal@novodugino.example"),
    DemoOrganisation("Отдел дорожного хозяйства и транспорта", "Дороги и транспорт", "department",
                     "dorogi@novodugino.example"),
    DemoOrganisation("Региональный оператор по обращению с ТКО", "Регоператор ТКО", "external",
                     "tko@novodugino.example"),
    DemoOrganisation("Энергосбытовая компания", "Энергосбыт", "external", "energo@novodugino.example"),
    DemoOrganisation(GENERAL, "Общий отдел", "department", "obshchiy@novodugino.example"),
)
# One rule per topic of the decree (codes of core/seed.py), the catch-all goes to GENERAL.
TOPIC_ORGANISATION = {
    "health": "ОГБУЗ «Новодугинская ЦРБ»",
    "education": "Отдел образования",
    "social": "Отдел социальной защиты населения",
    "housing": "Отдел ЖКХ и благоустройства",
    "waste": "Региональный оператор по обращению с ТКО",
    "roads": "Отдел дорожного хозяйства и транспорта",
    "transport": "Отдел дорожного хозяйства и транспорта",
    "energy": "Энергосбытовая компания",
    "other": GENERAL,
}
# Cold water is the water utility's, not the housing department's: theme rules beat the topic rule.
THEME_ORGANISATION = {
    ("ЖКХ", "Отсутствие холодной воды"): "МУП «Водоканал»",
    ("ЖКХ", "Плохое качество воды"): "МУП «Водоканал»",
    ("ЖКХ", "Низкая температура воды/слабое давление"): "МУП «Водоканал»",
    ("ЖКХ", "Подключение к водоснабжению"): "МУП «Водоканал»",
}


@dataclass
class DemoResult:
    organisations: list[Organisation] = field(default_factory=list)  # created now
    rules: list[RoutingRule] = field(default_factory=list)  # created now

    @property
    def changed(self) -> bool:
        return bool(self.organisations or self.rules)


async def seed_demo_directory(session: AsyncSession, now: datetime, *, staff_id: int | None = None) -> DemoResult:
    result = DemoResult()
    orgs = {normalise(o.name): o for o in await session.scalars(select(Organisation))}
    for demo in ORGANISATIONS:
        if normalise(demo.name) not in orgs:
            org = await add_organisation(session, name=demo.name, short_name=demo.short_name, kind=demo.kind,
                                         email=demo.email, staff_id=staff_id, now=now)
            orgs[normalise(demo.name)] = org
            result.organisations.append(org)

    # Keys staff already route, or once routed and switched off, are theirs to decide; so is an
    # organisation they retired.
    existing = {(r.topic_id, r.theme_id, r.settlement_id) for r in await session.scalars(select(RoutingRule))}

    async def rule(org_name: str, topic_id: int | None = None, theme_id: int | None = None) -> None:
        org = orgs[normalise(org_name)]
        if (topic_id, theme_id, None) in existing or not org.is_active:
            return
        result.rules.append(await add_rule(session, organisation_id=org.id, topic_id=topic_id, theme_id=theme_id,
                                           staff_id=staff_id, now=now))
        existing.add((topic_id, theme_id, None))

    topics = {t.code: t for t in await session.scalars(select(Topic))}
    for code, org_name in TOPIC_ORGANISATION.items():
        if code in topics:
            await rule(org_name, topic_id=topics[code].id)
    themes = {(t.group_name, t.name): t for t in await session.scalars(select(Theme).where(Theme.is_active.is_(True)))}
    for key, org_name in THEME_ORGANISATION.items():
        if key in themes:
            await rule(org_name, theme_id=themes[key].id)
    await rule(GENERAL)
    return result
