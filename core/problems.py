"""Problems, a first step: many reports of one trouble are one problem.

Items received in the period are grouped by theme (the topic when no theme was set) × settlement
× street; the street is read from the free-text address by `street_of` («ул. Ленина, д. 5»,
«улица Ленина 5», «Ленина ул» → «Ленина»). A group of at least `MIN_REPORTS` items is a problem;
the largest come first, each with its count in the previous period (the trend) and the numbers
of its newest items. Streets are told apart by name only: «ул. Садовая» and «пер. Садовый» are
two problems, «ул. Садовая» and «Садовая ул.» one.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.report_model import Period, Problem, Scope
from core.report_sql import fetch, fetch_plain, scope_filters
from db.models import Item

if TYPE_CHECKING:
    from core.reports import Directory

Gettext = Callable[[str], str]
MIN_REPORTS = 2
LIMIT = 10
NUMBERS = 5

# Street kinds as people write them (the dot and the case do not matter).
_STREET_KINDS = frozenset({
    "ул", "улица", "улице", "улицу", "улицы", "улицей", "пр", "пр-т", "пр-кт", "просп", "проспект", "пер", "переулок", "переулке", "пл", "площадь", "площади", "ш", "шоссе",
    "бул", "б-р", "бульвар", "пр-д", "проезд", "наб", "набережная", "мкр", "мкр-н", "микрорайон", "туп", "тупик",
    "аллея", "тракт", "линия", "кв-л", "квартал", "спуск", "тер", "территория",
})
# A part of the address that names a settlement or a region, not a street.
_PLACE_KINDS = frozenset({
    "г", "город", "с", "село", "д", "дер", "деревня", "п", "пос", "поселок", "пгт", "х", "хутор", "ст", "станция",
    "р-н", "район", "обл", "область", "округ", "мо", "край", "респ", "республика",
})
# What follows the street: the house, building, flat …
_HOUSE_WORDS = frozenset({
    "д", "дом", "домом", "дома", "к", "корп", "корпус", "стр", "строение", "кв", "квартира", "оф", "офис", "под",
    "подъезд", "эт", "этаж", "лит", "литер", "вл", "влад", "владение", "уч", "участок",
})
# Words before a street name that are not part of it («яма на Ленина ул»).
_STOP_WORDS = frozenset({"на", "по", "у", "возле", "около", "в", "во", "напротив", "рядом", "с", "со", "за", "и",
                         "между", "от", "до", "перед", "угол", "улиц", "районе"})
_NUMBER = re.compile(r"^\d+[а-я]?(?:[/-]\d+[а-я]?)?$")  # 5, 5а, 5/2, 12-1
_TOKEN = re.compile(r"[0-9a-zа-я]+(?:[-/][0-9a-zа-я]+)*")
_MAX_WORDS = 3


def _format(words: list[str]) -> str:
    def one(word: str) -> str:
        if word[0].isdigit():
            return word
        return "-".join(p[:1].upper() + p[1:] for p in word.split("-"))

    return " ".join(one(w) for w in words)


def _words_after(tokens: list[str], start: int) -> list[str]:
    words: list[str] = []
    for token in tokens[start:]:
        if token in _HOUSE_WORDS or token in _STREET_KINDS or token in _STOP_WORDS:
            break
        if _NUMBER.match(token) and any(not w[0].isdigit() for w in words):
            break  # the house number after the name
        words.append(token)
        if len(words) == _MAX_WORDS:
            break
    while words and words[-1][0].isdigit():
        words.pop()
    return words


def _words_before(tokens: list[str], end: int) -> list[str]:
    words: list[str] = []
    for token in reversed(tokens[:end]):
        if token in _STOP_WORDS or token in _HOUSE_WORDS or token in _PLACE_KINDS or token in _STREET_KINDS:
            break
        if _NUMBER.match(token) and not words:
            break
        words.insert(0, token)
        if len(words) == _MAX_WORDS:
            break
    return words


@lru_cache(maxsize=65536)
def street_of(address: str | None) -> str | None:
    """The street's name in a free-text address, or None when there is none to find."""
    if not address:
        return None
    parts = [_TOKEN.findall(part) for part in re.split(r"[,;\n]", address.lower().replace("ё", "е"))]
    parts = [tokens for tokens in parts if tokens]
    # A part with a street kind in it: the words after the kind («ул. Ленина 5»), else before it
    # («Ленина ул.»).
    for tokens in parts:
        for index, token in enumerate(tokens):
            if token in _STREET_KINDS:
                words = _words_after(tokens, index + 1) or _words_before(tokens, index)
                if words:
                    return _format(words)
    # No kind written: a part that is a name and a house number («Новодугино, Ленина 5»).
    for tokens in parts:
        if tokens[0] in _PLACE_KINDS and len(tokens) > 1 and not _NUMBER.match(tokens[1]):
            continue  # «д. Высокое», «с. Днепровское»
        for index, token in enumerate(tokens):
            if _NUMBER.match(token) and index > 0:
                words = _words_before(tokens, index)
                if words and words[-1] in _HOUSE_WORDS:
                    words = words[:-1]
                if words:
                    return _format(words)
                break
    return None


Key = tuple[str, int | None, int | None, str | None]  # ('theme'|'topic'|'none', id), settlement, street


class _Keys:
    """The problem an item belongs to; the street read once per distinct address."""

    def __init__(self) -> None:
        self.streets: dict[str | None, str | None] = {}  # address → the street's key (lower case)
        self.labels: dict[str, str] = {}  # street key → the street as first written

    def __call__(self, theme_id: int | None, topic_id: int | None, settlement_id: int | None,
                 address: str | None) -> Key:
        try:
            street = self.streets[address]
        except KeyError:
            name = street_of(address)
            street = self.streets[address] = name.lower() if name else None
            if name and street not in self.labels:
                self.labels[street] = name
        if theme_id is not None:
            return "theme", theme_id, settlement_id, street
        if topic_id is not None:
            return "topic", topic_id, settlement_id, street
        return "none", None, settlement_id, street


def _matching(keys: Iterable[Key]) -> list[Any]:
    """WHERE terms that find the items of these problems (and a few more, sorted out in Python)."""
    themes = {k[1] for k in keys if k[0] == "theme"}
    topics = {k[1] for k in keys if k[0] == "topic"}
    kinds: list[Any] = []
    if themes:
        kinds.append(Item.theme_id.in_(themes))
    if topics:
        kinds.append(and_(Item.theme_id.is_(None), Item.topic_id.in_(topics)))
    if any(k[0] == "none" for k in keys):
        kinds.append(and_(Item.theme_id.is_(None), Item.topic_id.is_(None)))
    settlements = {k[2] for k in keys if k[2] is not None}
    places = [Item.settlement_id.in_(settlements)] if settlements else []
    if any(k[2] is None for k in keys):
        places.append(Item.settlement_id.is_(None))
    return [or_(*kinds), or_(*places)]


async def find_problems(session: AsyncSession, period: Period, scope: Scope, directory: Directory,
                        _: Gettext, *, limit: int = LIMIT) -> list[Problem]:
    where = [Item.registered_at.is_not(None), *scope_filters(scope)]
    key_of = _Keys()
    current: Counter[Key] = Counter()
    ids: dict[Key, list[int]] = defaultdict(list)
    # One pass over the period (on SQLite a covering index holds all five columns).
    for item_id, theme_id, topic_id, settlement_id, address in await fetch_plain(
            session, select(Item.id, Item.theme_id, Item.topic_id, Item.settlement_id, Item.address)
            .where(Item.received_at >= period.start_utc, Item.received_at < period.end_utc, *where)):
        key = key_of(theme_id, topic_id, settlement_id, address)
        current[key] += 1
        ids[key].append(item_id)
    chosen = sorted((k for k, n in current.items() if n >= MIN_REPORTS),
                    key=lambda k: (-current[k], k[0], k[1] or 0, k[2] or 0, k[3] or ""))[:limit]
    if not chosen:
        return []
    wanted = set(chosen)

    before = period.previous()
    previous: Counter[Key] = Counter()
    for theme_id, topic_id, settlement_id, address, count in await fetch(
            session, select(Item.theme_id, Item.topic_id, Item.settlement_id, Item.address, func.count())
            .where(Item.received_at >= before.start_utc, Item.received_at < before.end_utc, *where,
                   *_matching(chosen))
            .group_by(Item.theme_id, Item.topic_id, Item.settlement_id, Item.address)):
        key = key_of(theme_id, topic_id, settlement_id, address)
        if key in wanted:
            previous[key] += count

    newest = {k: sorted(ids[k], reverse=True)[:NUMBERS] for k in chosen}  # ids grow with registration
    numbers = dict(await fetch(session, select(Item.id, Item.number).where(
        Item.id.in_([i for group in newest.values() for i in group]))))
    unknown = _("не указано")

    def theme_label(key: Key) -> str:
        if key[0] == "theme":
            return directory.themes.get(key[1] or 0, unknown)
        if key[0] == "topic":
            return directory.topics.get(key[1] or 0, ("", unknown))[1]
        return unknown

    return [Problem(
        theme=theme_label(k),
        settlement=directory.settlements.get(k[2], unknown) if k[2] is not None else unknown,
        street=key_of.labels.get(k[3]) if k[3] is not None else None,
        count=current[k], previous=previous[k], numbers=[numbers[i] for i in newest[k] if i in numbers],
    ) for k in chosen]
