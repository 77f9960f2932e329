"""The district's settlements as a citizen names them: search by part of the name, nearest to a point."""
from __future__ import annotations

import math
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Settlement

# A shared location farther than this from every settlement names none of them.
NEAREST_LIMIT_KM = 10.0


# «с. Новодугино», «деревня Ивино» and «Новодугино» are the same place.
_SETTLEMENT_TYPE = re.compile(
    r"^(?:г|город|с|село|д|дер|деревня|п|пос|поселок|пгт|рп|х|хутор|ст|станция|сл|слобода|ж д ст)\s+"
)


def fold(text: str) -> str:
    """Case and «ё» do not matter to a person typing a village's name."""
    return " ".join(text.lower().replace("ё", "е").split())


def name_key(text: object) -> str:
    """Case-, ё- and punctuation-insensitive form of a directory name."""
    return " ".join(re.sub(r"[\W_]+", " ", str(text or "").lower().replace("ё", "е")).split())


def settlement_key(text: object) -> str:
    """A settlement's name without its kind («с.», «деревня», «пгт» …), for matching typed names."""
    return _SETTLEMENT_TYPE.sub("", name_key(text))


async def active_settlements(session: AsyncSession) -> list[Settlement]:
    return list((await session.scalars(
        select(Settlement).where(Settlement.is_active.is_(True)).order_by(Settlement.name))).all())


def match_settlements(settlements: list[Settlement], query: str) -> list[Settlement]:
    """An exact name wins; else names that start with the query; else names that contain it.

    The district has tens of settlements, so this runs over the loaded list (SQLite's lower() does
    not fold Cyrillic, and the «ё» rule has to be applied to both sides anyway).
    """
    wanted = fold(query.strip(" .,;!?\"«»"))
    for prefix in ("с.", "д.", "п.", "пос.", "село ", "деревня ", "поселок ", "г. ", "город "):
        if wanted.startswith(prefix) and len(wanted) > len(prefix):
            wanted = wanted[len(prefix):].strip()
    if not wanted:
        return []
    names = [(fold(s.name), s) for s in settlements]
    exact = [s for name, s in names if name == wanted]
    if exact:
        return exact
    starts = [s for name, s in names if name.startswith(wanted)]
    if starts:
        return starts
    return [s for name, s in names if wanted in name]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def nearest_settlement(settlements: list[Settlement], latitude: float, longitude: float,
                       limit_km: float = NEAREST_LIMIT_KM) -> Settlement | None:
    placed = [(s, _km(latitude, longitude, s.latitude, s.longitude)) for s in settlements
              if s.latitude is not None and s.longitude is not None]
    if not placed:
        return None
    best, distance = min(placed, key=lambda pair: pair[1])
    return best if distance <= limit_km else None
