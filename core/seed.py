"""Reference data every installation needs: the decree's topics and the «Инцидент менеджмент» themes.

Idempotent: run after every migration; staff edits (names, activity) are kept.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Theme, Topic

TAXONOMY = Path(__file__).resolve().parents[1] / "db" / "seed" / "im_taxonomy.tsv"


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
