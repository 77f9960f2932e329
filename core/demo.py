"""A demo district to try the centre with: its directory, and (`seed_demo_items`) a history of items.

The directory (`seed_demo_directory`): organisations and routing rules. Idempotent: what exists (an
organisation by name, a rule by its keys, even a switched-off one) is left as staff made it, so
running it twice, or after staff edits, adds only what is missing. No officials: they need real
Telegram ids or e-mails, which only the district knows.

The items (`seed_demo_items`, below): weeks of made-up citizens' items, each played through the real
services on a clock set to its moments — see that function.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.routing import add_organisation, add_rule, normalise
from db.models import Organisation, RoutingRule, SettingValue, Theme, Topic

if TYPE_CHECKING:
    from core.settings import Settings


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


# --- demo items ------------------------------------------------------------------------------------------
#
# Every item is played through the services a real one goes through — intake or staff registration,
# routing, the recipient's work, the centre's review, delivery, the survey — with the lifecycle
# context's clock set to each moment of its story, and the reminder rows (deadline reminders,
# escalations, surveys, their expiry) are handled by the real tick code at the moments they fall
# due. So the history, the deadlines, the reminders and every figure of the reports agree with each
# other, as they would after weeks of real work. Nothing here sets a status or writes an event.
#
# Nobody is messaged. The demo's Telegram citizens get ids from 2**52 up: the Bot API promises that
# user ids have at most 52 significant bits, so these can never be a real person, and the admin's
# sandbox chat (700 000 000 …) never meets them. They need Telegram only inside the simulated past
# (an official's question and the survey go to a citizen's Telegram); every outbox row the
# simulation queues — to them, to the demo officials, to real staff about demo items — is dropped
# in the same transaction, before anything is committed, so no sender ever sees one. Then the demo
# citizens are detached from Telegram (their id set to NULL): from now on they are like citizens
# who came by phone, so whatever staff do with a demo item later never queues a Telegram message
# to a made-up chat, and the survey of a recent delivery is skipped and closes by itself. Their
# reply addresses are postal, so no letter goes to them either. (Marking rows for the sender to
# drop would need the sender to know about the demo; clearing the ids needs nobody to.)
#
# One transaction, committed by the caller: a run either writes the whole demo or nothing, and a
# marker in the settings table (`MARKER`) makes a second run a no-op. The play itself (the plans,
# the steps, the tick) is core/demo_play.py; the words and places are core/demo_data.py.

DEMO_TELEGRAM_BASE = 1 << 52
MARKER = "demo_items"


@dataclass
class DemoItems:
    """What `seed_demo_items` did."""

    created: int = 0
    already: int | None = None  # a former run's item count: nothing was done
    directory: DemoResult | None = None
    citizens: int = 0
    officials: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    overdue: int = 0  # waiting for an answer past its deadline at `now`
    refused: int = 0  # steps the lifecycle refused (a story that went off the rails; 0 expected)
    item_ids: list[int] = field(default_factory=list)


async def seed_demo_items(
    session: AsyncSession,
    settings: Settings,
    *,
    now: datetime,
    count: int = 300,
    days: int = 60,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> DemoItems:
    """About `count` items received over the `days` before `now`, played through the services.

    The demo directory is seeded first (`seed_demo_directory`), then demo officials (one or two per
    demo organisation, with `…@novodugino.example` addresses) and the centre's demo person who
    routes and reviews. In the caller's transaction; the caller commits. A second run finds the
    marker and returns at once with `already` set. `progress(done, total)` is called as items appear.
    """
    if count < 0 or days < 1:
        raise ValueError("count must be ≥ 0 and days ≥ 1")
    marker = await session.get(SettingValue, MARKER)
    if marker is not None:
        return DemoItems(already=int((marker.value or {}).get("items", 0)))
    start = now - timedelta(days=days)
    result = DemoItems(directory=await seed_demo_directory(session, start))
    # The marker first: a concurrent second run waits on its key (PostgreSQL) and then fails.
    session.add(SettingValue(key=MARKER, value={"items": 0}, updated_at=now))
    await session.flush()
    if count:
        from core.demo_play import Play

        await Play(session, settings, start, now, seed, result, progress).run(count)
    marker = await session.get(SettingValue, MARKER)
    assert marker is not None
    marker.value = {"items": result.created, "days": days, "seed": seed, "seeded_at": now.isoformat()}
    return result
