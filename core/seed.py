"""Reference data every installation needs: the decree's topics, the «Инцидент менеджмент» themes,
the district's settlements and the default deadline policies.

Idempotent: run after every migration; staff edits (names, activity) are kept.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeadlinePolicy, Settlement, Theme, Topic

SEED_DIR = Path(__file__).resolve().parents[1] / "db" / "seed"
TAXONOMY = SEED_DIR / "im_taxonomy.tsv"
# Новодугинский муниципальный округ: the centre and the former rural settlements' centres.
SETTLEMENTS = SEED_DIR / "settlements.tsv"


@dataclass(frozen=True)
class TopicSeed:
    code: str
    name_ru: str
    name_en: str


# Decree §1: the eight socially significant topics, then «прочее».
TOPICS = (
    TopicSeed("health", "Здравоохранение", "Healthcare"),
    TopicSeed("education", "Образование", "Education"),
    TopicSeed("social", "Социальная защита", "Social protection"),
    TopicSeed("housing", "ЖКХ", "Housing and utilities"),
    TopicSeed("waste", "ТКО", "Solid municipal waste"),
    TopicSeed("roads", "Дороги", "Roads"),
    TopicSeed("transport", "Транспорт", "Transport"),
    TopicSeed("energy", "Энергетика", "Energy"),
    TopicSeed("other", "Прочее", "Other"),
)

# «Инцидент менеджмент» groups → decree topics. Energy = electricity + gas and fuel (domain.md);
# improvement of yards and streets is the municipal housing-and-utilities service.
GROUP_TOPIC = {
    "Здравоохранение/Медицина": "health",
    "Коронавирус": "health",
    "Роспотребнадзор": "health",
    "Образование": "education",
    "Социальное обслуживание и защита": "social",
    "Мобилизация": "social",
    "ЖКХ": "housing",
    "Благоустройство": "housing",
    "Погребение и похоронное дело": "housing",
    "Мусор/Свалки/ТКО": "waste",
    "Дороги": "roads",
    "Общественный транспорт": "transport",
    "Электроснабжение": "energy",
    "Газ и топливо": "energy",
}


@dataclass(frozen=True)
class PolicySeed:
    channel: str | None = None
    kind: str | None = None
    priority: int | None = None
    registration: str | None = None
    first_reaction: str | None = None
    answer: str | None = None
    review: str | None = None
    extension: str | None = None
    note: str | None = None


# domain.md "Deadlines". Inserted in this order, so on equal specificity (core/deadlines.py: lowest
# id wins) a 59-ФЗ appeal keeps its legal 30 days even when it arrives through ПОС or ИМ.
DEFAULT_POLICIES = (
    PolicySeed(registration="3d", answer="30d", review="2wd",
               note="Общее правило: регистрация 3 дня, ответ 30 дней, проверка ответа МЦУ 2 рабочих дня"),
    PolicySeed(kind="appeal", registration="3d", first_reaction="7d", answer="30d", extension="30d",
               note="59-ФЗ: регистрация 3 дня (ст. 8 ч. 2), переадресация 7 дней (ст. 8 ч. 3), "
                    "ответ 30 дней (ст. 12 ч. 1), продление на 30 дней один раз (ст. 12 ч. 2)"),
    PolicySeed(channel="im", first_reaction="3wh", answer="8wh",
               note="«Инцидент менеджмент»: первая реакция 3 рабочих часа, ответ 8 рабочих часов"),
    PolicySeed(channel="im", priority=1, answer="4wh",
               note="«Инцидент менеджмент», высокая важность: ответ 4 рабочих часа"),
    PolicySeed(channel="pos", answer="10wd", note="ПОС: ответ 10 рабочих дней (уточните по региону)"),
    PolicySeed(channel="bot", kind="message", answer="10wd", note="Сообщение через бот: ответ 10 рабочих дней"),
)


def read_taxonomy(path: Path = TAXONOMY) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["group"].strip(), row["theme"].strip()) for row in rows if row.get("theme")]


async def seed_reference(session: AsyncSession) -> None:
    topics = {t.code: t for t in (await session.scalars(select(Topic))).all()}
    for sort, seed in enumerate(TOPICS):
        if seed.code not in topics:
            topic = Topic(code=seed.code, name_ru=seed.name_ru, name_en=seed.name_en, sort=sort)
            session.add(topic)
            topics[seed.code] = topic
    await session.flush()
    known = {tuple(row) for row in await session.execute(select(Theme.group_name, Theme.name))}
    for group, name in read_taxonomy():
        if (group, name) not in known:
            topic = topics[GROUP_TOPIC.get(group, "other")]
            session.add(Theme(topic_id=topic.id, group_name=group, name=name))
    await session.flush()
    await seed_settlements(session)
    await seed_deadline_policies(session)


def read_settlements(path: Path = SETTLEMENTS) -> list[tuple[str, str | None]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["name"].strip(), (row.get("kind") or "").strip() or None) for row in rows
                if (row.get("name") or "").strip()]


async def seed_settlements(session: AsyncSession) -> None:
    """Only into an empty table: once staff add, rename or retire settlements, theirs are kept."""
    if await session.scalar(select(Settlement.id).limit(1)) is not None:
        return
    for name, kind in read_settlements():
        session.add(Settlement(name=name, kind=kind))
    await session.flush()


async def seed_deadline_policies(session: AsyncSession) -> None:
    """The defaults go in only into an empty table: once staff edit the policies, theirs are kept."""
    if await session.scalar(select(DeadlinePolicy.id).limit(1)) is not None:
        return
    for seed in DEFAULT_POLICIES:
        # One flush per row keeps the ids in the order above (the tie-break of the lookup).
        session.add(DeadlinePolicy(**vars(seed)))
        await session.flush()
