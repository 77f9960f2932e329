"""A realistic database for benchmarks: citizens, items over two years, answers, surveys, events.

Run:  .venv/bin/python bench/datagen.py URL --items 1000000 [--seed 1] [--months 24]
      (URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db; the database is
      migrated, seeded, and must hold no items yet)

`generate(url, items, seed=, months=, now=)` is shared by bench/report.py and bench/admin.py.

What it writes (one transaction per batch, Core `insert()` executemany, explicit ids):
* the reference data, the demo directory (`core.demo`), staff: the centre's roles and two
  recipients per organisation;
* citizens: Telegram users for the bot, people without Telegram for ПОС, phone, e-mail, visits;
* items spread over `months` (more by day than by night, more on weekdays, slowly growing): topics,
  themes, settlements and streets (Russian texts and addresses from templates, so search and
  problems make sense, with a few hot spots — one pothole reported many times), organisations
  as the demo routing sends them, channels, deadlines by the default policies (working days
  approximated), answers mostly on time and some late, statuses by age (recent ones still in
  work, a few never answered and long overdue, a triage queue of the last days), withdrawn and
  rejected ones, repeat links to the same citizen's earlier item;
* surveys for delivered bot and ПОС items (answered, expired, or still waiting), «нет» answers
  partly reopening the item, which is then answered again;
* events the reports read: redirects, reclassifications, returns for rework, reopenings.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text

from core.demo import THEME_ORGANISATION, TOPIC_ORGANISATION, seed_demo_directory
from core.seed import seed_reference
from core.staff import add_staff
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import (
    Citizen,
    Counter,
    Item,
    ItemEvent,
    Organisation,
    Role,
    Settlement,
    Survey,
    Theme,
    Topic,
)

TZ = ZoneInfo("Europe/Moscow")
BATCH = 20_000
DAY = 86_400.0
HOUR = 3_600.0

CHANNELS = (("bot", 35), ("pos", 25), ("im", 20), ("phone", 8), ("email", 6), ("visit", 4), ("cur", 2))
TOPICS = (("housing", 30), ("roads", 18), ("waste", 12), ("health", 8), ("energy", 8), ("transport", 6),
          ("education", 6), ("social", 6), ("other", 6))
CENTRE_STREETS = ("Ленина", "Советская", "Молодёжная", "Садовая", "Школьная", "Комсомольская", "Пролетарская",
                  "Энергетиков", "Заречная", "8 Марта", "Карла Маркса", "Мира", "Строителей", "Набережная")
VILLAGE_STREETS = ("Центральная", "Садовая", "Школьная", "Полевая", "Лесная", "Луговая", "Новая", "Колхозная")
ADDRESSES = ("ул. {street}, д. {house}", "улица {street} {house}", "{street} ул., {house}",
             "{settlement}, ул. {street}, {house}", "ул. {street}, {house}", "возле дома {house} по ул. {street}")
TEXTS = {
    "roads": ("Большая яма на дороге {place}, машины объезжают по встречной полосе.",
              "Не чищен снег {place}, проехать невозможно.",
              "Разбит асфальт {place}, просим отремонтировать до зимы.",
              "Не работает светофор {place}."),
    "housing": ("Нет холодной воды {place} со вчерашнего дня.", "Течёт крыша в подъезде {place}.",
                "Не горит уличное освещение {place}, вечером темно.", "Слабое давление воды {place}.",
                "Во дворе {place} не убирают листву и мусор."),
    "waste": ("Не вывозят мусор {place} уже неделю.", "Переполнены контейнеры {place}.",
              "Стихийная свалка {place}, просим убрать."),
    "health": ("Не можем записаться к терапевту в ЦРБ, телефон регистратуры не отвечает.",
               "В аптеке ЦРБ нет льготных лекарств.", "Долго ждать скорую помощь {place}."),
    "energy": ("Отключили электричество {place}, когда включат?", "Скачки напряжения {place}, сгорела техника.",
               "Когда проведут газ {place}?"),
    "transport": ("Автобус до Сычёвки не пришёл по расписанию.", "Просим добавить утренний рейс автобуса.",
                  "Нет остановки общественного транспорта {place}."),
    "education": ("В школе холодно в классах, дети сидят в куртках.", "Нет мест в детском саду для ребёнка.",
                  "Школьный автобус опаздывает."),
    "social": ("Прошу помочь с оформлением субсидии на оплату ЖКУ.", "Не пришла выплата на ребёнка.",
               "Нужна помощь одинокой пенсионерке {place}."),
    "other": ("Бродячие собаки {place}, дети боятся ходить в школу.", "Просим установить лавочки {place}.",
              "Шумят по ночам {place}."),
}
FIRST_NAMES = ("Александр", "Сергей", "Елена", "Ольга", "Андрей", "Наталья", "Дмитрий", "Татьяна", "Иван",
               "Мария", "Николай", "Светлана", "Владимир", "Анна", "Алексей", "Галина")
LAST_NAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов", "Новиков",
              "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов")


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for value, weight in pairs:
        x -= weight
        if x <= 0:
            return value
    return pairs[-1][0]


def _allotted(channel: str, kind: str, priority: int) -> tuple[float, float]:
    """(answer, first reaction) in seconds after receipt, after the default deadline policies;
    working days and hours approximated by calendar time (7/5 of the days, a day for 8 hours)."""
    if kind == "appeal":
        return 30 * DAY, 7 * DAY
    if channel == "im":
        return (0.6 if priority else 1.1) * DAY, 4 * HOUR
    if channel in ("pos", "bot"):
        return 14 * DAY, 3 * DAY
    return 30 * DAY, 3 * DAY


@dataclass
class Directory:
    topics: dict[str, int]
    themes: dict[str, list[int]]  # topic code → theme ids
    settlements: list[tuple[int, str]]
    organisations: dict[str, int]  # name → id
    water_themes: list[int]
    recipients: dict[int, list[int]]  # organisation id → staff ids


async def _prepare(maker: Any, now: datetime) -> Directory:
    async with maker() as session, session.begin():
        await seed_reference(session)
        await seed_demo_directory(session, now)
        topics = {t.code: t.id for t in await session.scalars(select(Topic))}
        themes: dict[str, list[int]] = {code: [] for code in topics}
        code_of = {v: k for k, v in topics.items()}
        water: list[int] = []
        water_names = {name for (_group, name) in THEME_ORGANISATION}
        for theme in await session.scalars(select(Theme).where(Theme.is_active.is_(True))):
            themes[code_of[theme.topic_id]].append(theme.id)
            if theme.name in water_names:
                water.append(theme.id)
        settlements = [(s.id, s.name) for s in await session.scalars(select(Settlement).order_by(Settlement.id))]
        organisations = {o.name: o.id for o in await session.scalars(select(Organisation))}
        recipients: dict[int, list[int]] = {}
        telegram = 700_000
        for role in (Role.curator, Role.head, Role.analyst, Role.pos_officer, Role.im_officer):
            telegram += 1
            await add_staff(session, telegram_id=telegram, roles=[role], name=f"Сотрудник МЦУ ({role.value})")
        for name, org_id in organisations.items():
            for k in range(2):
                telegram += 1
                staff, _ = await add_staff(session, telegram_id=telegram, roles=[Role.recipient],
                                           name=f"Исполнитель {k + 1}, {name}"[:256])
                staff.organisation_id = org_id
                recipients.setdefault(org_id, []).append(staff.id)
    return Directory(topics, themes, settlements, organisations, water, recipients)


def _address(rng: random.Random, settlement: str, centre: bool, street: str | None = None) -> str:
    street = street or rng.choice(CENTRE_STREETS if centre else VILLAGE_STREETS)
    house = str(rng.randint(1, 60)) + (rng.choice("абв") if rng.random() < 0.08 else "")
    return rng.choice(ADDRESSES).format(street=street, house=house, settlement=settlement)


def _times(rng: random.Random, count: int, now: float, months: int) -> list[float]:
    """Receipt moments over the last `months`: growing slowly, quieter at night and at weekends."""
    span = months * 30.4 * DAY
    result: list[float] = []
    while len(result) < count:
        # Density ∝ 0.6 + 0.4·x across the span (x: 0 oldest … 1 now); inverse of its distribution
        # function F(x) = (0.6·x + 0.2·x²) / 0.8.
        u = rng.random()
        x = (-0.6 + math.sqrt(0.36 + 0.64 * u)) / 0.4
        ts = now - span + x * span
        local = datetime.fromtimestamp(ts, TZ)
        keep = (0.25 if local.hour < 7 or local.hour >= 22 else 1.0) * (0.5 if local.weekday() >= 5 else 1.0)
        if rng.random() < keep:
            result.append(ts)
    result.sort()
    return result


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Generator:
    def __init__(self, rng: random.Random, directory: Directory, now: float, citizens_bot: int,
                 citizens_other: int) -> None:
        self.rng = rng
        self.d = directory
        self.now = now
        self.citizens_bot = citizens_bot
        self.citizens_other = citizens_other
        self.numbers: Tally[int] = Tally()
        self.recent: list[dict[str, Any]] = []  # earlier items a repeat may point to
        self.event_id = 0
        self.survey_id = 0
        self.general = directory.organisations.get("Общий отдел администрации")
        self.org_ids = list(directory.organisations.values())
        centre = directory.settlements[0]
        # Hot spots: one trouble reported again and again in a stretch of weeks.
        self.hot: list[tuple[float, float, str, int, str, str]] = []
        for _ in range(max(3, int(len(directory.settlements) * 4))):
            sid, sname = rng.choice(directory.settlements[:3])
            if rng.random() < 0.5:
                sid, sname = centre
            topic = rng.choice(("roads", "housing", "waste"))
            street = rng.choice(CENTRE_STREETS if sid == centre[0] else VILLAGE_STREETS)
            start = now - rng.uniform(0, 700 * DAY)
            self.hot.append((start, start + rng.uniform(7, 40) * DAY, topic, sid, sname, street))

    def organisation_for(self, topic: str, theme_id: int | None) -> int | None:
        if theme_id is not None and theme_id in self.d.water_themes:
            return self.d.organisations.get("МУП «Водоканал»")
        return self.d.organisations.get(TOPIC_ORGANISATION.get(topic, ""), self.general)

    def item(self, item_id: int, received: float) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        rng, d, now = self.rng, self.d, self.now
        channel = _weighted(rng, CHANNELS)
        repeat_of = None
        hot = next((h for h in self.hot if h[0] <= received < h[1] and rng.random() < 0.04), None)
        if self.recent and channel in ("bot", "pos") and rng.random() < 0.06:
            earlier = rng.choice(self.recent)
            repeat_of = earlier["id"]
            topic, theme_id, settlement_id = earlier["topic"], earlier["theme_id"], earlier["settlement_id"]
            address, citizen_id = earlier["address"], earlier["citizen_id"]
            channel = earlier["channel"]
        else:
            if hot is not None:
                topic, settlement_id, sname, street = hot[2], hot[3], hot[4], hot[5]
                themes = d.themes.get(topic) or [None]
                theme_id = themes[hash((hot[0], topic)) % len(themes)]
                address = _address(rng, sname, settlement_id == d.settlements[0][0], street)
            else:
                topic = _weighted(rng, TOPICS)
                theme_id = rng.choice(d.themes[topic]) if d.themes.get(topic) and rng.random() < 0.85 else None
                settlement_id, sname = d.settlements[0] if rng.random() < 0.5 else rng.choice(d.settlements)
                address = (_address(rng, sname, settlement_id == d.settlements[0][0])
                           if rng.random() < 0.75 else None)
            if channel == "bot":
                citizen_id = 1 + rng.randrange(self.citizens_bot)
            elif channel == "im":
                citizen_id = None
            else:
                citizen_id = self.citizens_bot + 1 + rng.randrange(self.citizens_other)
        kind = "message" if channel == "im" else ("appeal" if rng.random() < (0.5 if channel != "pos" else 0.2)
                                                  else "message")
        priority = 1 if channel == "im" and rng.random() < 0.1 else 0
        allotted, first_allotted = _allotted(channel, kind, priority)
        local = datetime.fromtimestamp(received, TZ)
        self.numbers[local.year] += 1
        number = f"{local.year}-{self.numbers[local.year]:06d}"
        place = f"по адресу {address}" if address else "у нас"
        text_ = rng.choice(TEXTS[topic]).format(place=place)
        organisation_id = self.organisation_for(topic, theme_id)

        # The item's life, in seconds; what lies after `now` has not happened yet.
        registered = received + (rng.uniform(60, 1800) if channel == "bot" else rng.uniform(600, 20 * HOUR))
        fate = rng.random()
        late = rng.random() < 0.12
        used = (1 + rng.expovariate(4)) if late else min(0.97, rng.betavariate(2, 3.2) + 0.02)
        answered: float | None = received + used * allotted
        answered = max(answered, registered + 600)
        first = registered + (answered - registered) * rng.uniform(0.05, 0.5)
        first = min(first, received + first_allotted * rng.uniform(0.1, 1.1))
        first = max(first, registered + 60)
        reviewed = rng.random() < 0.5
        delivered = answered + (rng.uniform(HOUR, 2 * DAY) if reviewed else 0)
        closed: float | None = None
        resolution: str | None = None
        events: list[dict[str, Any]] = []
        surveys: list[dict[str, Any]] = []
        extended = kind == "appeal" and rng.random() < 0.02
        due = received + allotted + (30 * DAY if extended else 0)
        returned = reviewed and rng.random() < 0.06
        end = ("withdrawn" if fate < 0.01 else "rejected" if fate < 0.025 else "stuck" if fate < 0.0255
               else "answered")
        if end == "withdrawn":
            answered = delivered = None
            closed = received + rng.uniform(HOUR, 5 * DAY)
        elif end == "rejected":
            answered = delivered = None
            closed = registered + rng.uniform(HOUR, 3 * DAY)
        elif end == "stuck":  # never answered: long overdue
            answered = delivered = None
        if registered > now:
            # Still a draft: the citizen has not confirmed yet.
            return self._row(item_id, number, kind, channel, "received", None, priority, citizen_id, topic, theme_id,
                             settlement_id, address, text_, None, repeat_of, received, None, None, None, None, None,
                             None, False), [], []
        if now - received < 3 * DAY and rng.random() < 0.15:
            organisation_id = None  # in the triage queue
            return self._row(item_id, number, kind, channel, "registered", None, priority, citizen_id, topic,
                             theme_id, settlement_id, address, text_, None, repeat_of, received, registered, None,
                             None, None, None, due, extended), [], []

        survey_answer: float | None = None
        reopen_at: float | None = None
        if answered is not None and delivered is not None:
            if channel in ("bot", "pos") and citizen_id is not None and delivered <= now:
                self.survey_id += 1
                asked = delivered + 1800
                answers = rng.random() < 0.55
                survey_answer = asked + rng.uniform(600, 3 * DAY) if answers else None
                row = {"id": self.survey_id, "item_id": item_id, "citizen_id": citizen_id,
                       "organisation_id": organisation_id,
                       "staff_id": rng.choice(d.recipients.get(organisation_id or 0, [None])),
                       "status": "sent", "send_at": _dt(asked), "sent_at": _dt(asked), "resolved": None,
                       "score": None, "comment": None, "answered_at": None, "created_at": _dt(delivered)}
                if survey_answer is not None and survey_answer <= now:
                    p = rng.random() * (1.0 if not late else 0.7) + (0.0 if not late else 0.3)
                    resolved = "yes" if p < 0.65 else ("partly" if p < 0.8 else "no")
                    score = {"yes": rng.choice((4, 5, 5, 5)), "partly": rng.choice((2, 3, 3, 4)),
                             "no": rng.choice((1, 1, 2))}[resolved] if rng.random() < 0.85 else None
                    row.update(status="answered", resolved=resolved, score=score, answered_at=_dt(survey_answer))
                    if resolved == "yes":
                        closed, resolution = survey_answer, "satisfied"
                    elif rng.random() < 0.5:
                        reopen_at = survey_answer + rng.uniform(60, 3600)
                    else:
                        closed, resolution = survey_answer + 7 * DAY, "not_resolved"
                elif survey_answer is None and asked + 7 * DAY <= now:
                    row["status"] = "expired"
                surveys.append(row)
            if closed is None and reopen_at is None:
                closed, resolution = delivered + 7 * DAY + rng.uniform(0, DAY), "auto"
        if reopen_at is not None and reopen_at <= now:
            events.append(self._event(item_id, reopen_at, "status", "citizen", "status", "delivered", "reopened"))
            answered = reopen_at + rng.uniform(DAY, 10 * DAY)
            due = reopen_at + allotted
            delivered = answered
            closed, resolution = answered + 7 * DAY, "auto"

        # Where it stands now.
        if end in ("withdrawn", "rejected") and closed is not None and closed <= now:
            status, answered, delivered = end, None, None
        elif closed is not None and closed <= now:
            status = "closed"
        elif delivered is not None and delivered <= now:
            status, closed, resolution = "delivered", None, None
        elif answered is not None and answered <= now:
            status, closed, resolution, delivered = "under_review", None, None, None
        elif reopen_at is not None and reopen_at <= now:
            status, answered, delivered, closed, resolution = "reopened", None, None, None, None
        else:
            status = ("interim_answer" if rng.random() < 0.1 else "in_work") if first <= now else "assigned"
            answered = delivered = closed = None
            resolution = None
        if first > now:
            first = None  # type: ignore[assignment]

        if rng.random() < 0.05 and organisation_id is not None:
            wrong = rng.choice([o for o in self.org_ids if o != organisation_id] or [organisation_id])
            at = registered + rng.uniform(600, 6 * HOUR)
            if at <= now:
                events.append(self._event(item_id, at, "status", "staff", "status", "assigned", "redirected"))
                events.append(self._event(item_id, at, "route", "staff", "organisation", str(wrong),
                                          str(organisation_id)))
        if rng.random() < 0.04:
            at = registered + rng.uniform(60, 2 * HOUR)
            if at <= now:
                other = rng.choice(list(d.topics.values()))
                events.append(self._event(item_id, at, "reclassified", "staff", "topic", str(other),
                                          str(d.topics[topic])))
        if returned and answered is not None and first is not None:
            at = first + (answered - first) * rng.uniform(0.3, 0.9)
            if at <= now:
                events.append(self._event(item_id, at, "review", "staff", None, None, "returned"))
        row = self._row(item_id, number, kind, channel, status, resolution, priority, citizen_id, topic, theme_id,
                        settlement_id, address, text_, organisation_id, repeat_of, received, registered, first,
                        answered, delivered, closed, due, extended)
        if citizen_id is not None and channel in ("bot", "pos"):
            info = {"id": item_id, "topic": topic, "theme_id": theme_id, "settlement_id": settlement_id,
                    "address": address, "citizen_id": citizen_id, "channel": channel}
            if len(self.recent) < 5000:
                self.recent.append(info)
            else:
                self.recent[rng.randrange(5000)] = info
        return row, surveys, events

    def _event(self, item_id: int, at: float, action: str, actor: str, field: str | None, old: str | None,
               new: str | None) -> dict[str, Any]:
        self.event_id += 1
        return {"id": self.event_id, "item_id": item_id, "at": _dt(at), "action": action, "actor_kind": actor,
                "actor_citizen_id": None, "actor_staff_id": None, "field": field, "old_value": old,
                "new_value": new, "comment": None}

    def _row(self, item_id: int, number: str, kind: str, channel: str, status: str, resolution: str | None,
             priority: int, citizen_id: int | None, topic: str, theme_id: int | None, settlement_id: int | None,
             address: str | None, text_: str, organisation_id: int | None, repeat_of: int | None, received: float,
             registered: float | None, first: float | None, answered: float | None, delivered: float | None,
             closed: float | None, due: float | None, extended: bool) -> dict[str, Any]:
        rec = _dt(received)
        return {
            "id": item_id, "number": number, "kind": kind, "channel": channel,
            "external_id": f"{channel.upper()}-{item_id}" if channel in ("pos", "im") else None,
            "status": status, "resolution": resolution, "priority": priority, "citizen_id": citizen_id,
            "topic_id": self.d.topics[topic], "theme_id": theme_id, "settlement_id": settlement_id,
            "address": address, "text": text_, "organisation_id": organisation_id, "repeat_of_id": repeat_of,
            "received_at": rec, "registered_at": _dt(registered), "first_reaction_at": _dt(first),
            "answered_at": _dt(answered), "delivered_at": _dt(delivered), "closed_at": _dt(closed),
            "due_registration_at": None if registered is None else _dt(received + 3 * DAY),
            "due_answer_at": _dt(due), "extended": extended, "created_at": rec, "updated_at": rec,
        }


async def _citizens(maker: Any, bot: int, other: int, rng: random.Random, now: datetime) -> None:
    consent = now - timedelta(days=800)
    for start in range(0, bot + other, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, bot + other)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if first.endswith(("а", "я")):
                last += "а"
            rows.append({"id": n + 1, "telegram_id": 5_000_000_000 + n if n < bot else None,
                         "first_name": first, "last_name": last, "full_name": f"{last} {first}",
                         "phone": f"+7910{rng.randrange(10**7):07d}", "language": "ru",
                         "consent_at": consent, "consent_version": "1", "created_at": consent,
                         "updated_at": consent})
        async with maker() as session, session.begin():
            await session.execute(insert(Citizen.__table__), rows)


async def generate(url: str, items: int, *, seed: int = 1, months: int = 24, now: datetime | None = None) -> None:
    """Fill an empty database at `url` with `items` items and everything around them."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    await upgrade(url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    try:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            async with engine.connect() as conn:  # the one pooled connection keeps these
                await conn.execute(text("PRAGMA synchronous=OFF"))
                await conn.execute(text("PRAGMA cache_size=-262144"))
                await conn.execute(text("PRAGMA temp_store=MEMORY"))
        async with maker() as session:
            if await session.scalar(select(func.count()).select_from(Item)):
                raise ValueError("the database already holds items; generate into an empty one")
        started = time.perf_counter()
        directory = await _prepare(maker, now)
        bot_citizens, other_citizens = max(10, items // 4), max(10, items // 8)
        await _citizens(maker, bot_citizens, other_citizens, rng, now)
        generator = Generator(rng, directory, now.timestamp(), bot_citizens, other_citizens)
        moments = _times(rng, items, now.timestamp(), months)
        surveys_total = events_total = 0
        for start in range(0, items, BATCH):
            rows, surveys, events = [], [], []
            for n in range(start, min(start + BATCH, items)):
                row, s, e = generator.item(n + 1, moments[n])
                rows.append(row)
                surveys += s
                events += e
            async with maker() as session, session.begin():
                await session.execute(insert(Item.__table__), rows)
                if surveys:
                    await session.execute(insert(Survey.__table__), surveys)
                if events:
                    await session.execute(insert(ItemEvent.__table__), events)
            surveys_total += len(surveys)
            events_total += len(events)
            done = min(start + BATCH, items)
            print(f"\r  {done:,} / {items:,} items, {surveys_total:,} surveys, {events_total:,} events "
                  f"({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        async with maker() as session, session.begin():
            for year, value in generator.numbers.items():
                await session.merge(Counter(name=f"item-number-{year}", value=value))
            if not sqlite:
                for table in ("citizens", "items", "surveys", "item_events"):
                    await session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        # Statistics for the planner; on PostgreSQL VACUUM also marks the pages all-visible, so index-only
        # scans need not visit the rows (what autovacuum does to a database in use).
        async with engine.connect() as conn:
            if sqlite:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
            else:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        asyncio.run(generate(args.url, args.items, seed=args.seed, months=args.months))
    except ValueError as error:
        print(f"datagen: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"generated {args.items:,} items in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
