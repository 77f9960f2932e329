"""A first guess at the topic of a citizen's text, so the bot can ask «Похоже, это …. Верно?».

Rule-based on purpose: a few hundred keyword lemmas per decree topic are easy for the centre to
read and correct, need no training data and explain themselves. Words are reduced to lemmas with
pymorphy3; every lemma a word may have counts (pymorphy's first guess for «ямы» is «ям»), so a
keyword is found whatever its case or number. The citizen always confirms or picks another topic.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import pymorphy3

# Topic codes as in core/seed.py. Keywords are written as lemmas (as pymorphy3 normalises them);
# a keyword of several words is a phrase of consecutive words. Words that belong to two topics
# ("проезд": a road or a fare, "счётчик": water or power) are left out rather than guessed.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "health": (
        "больница", "врач", "поликлиника", "лекарство", "медицина", "медицинский", "фельдшер", "фап",
        "амбулатория", "скорая", "терапевт", "педиатр", "стоматолог", "аптека", "медпункт", "медсестра",
        "рецепт", "прививка", "вакцинация", "диспансеризация", "лечение", "госпитализация", "запись к врач",
        "рентген", "узи", "роддом", "хирург", "здравоохранение",
    ),
    "education": (
        "школа", "детсад", "садик", "детский сад", "учитель", "ученик", "урок", "директор школа",
        "воспитатель", "образование", "колледж", "техникум", "экзамен", "огэ", "егэ", "кружок",
        "школьный", "школьник", "учёба", "обучение", "ясли", "педагог", "выпускник", "дошкольный",
    ),
    "social": (
        "пенсия", "пособие", "соцзащита", "социальный", "инвалид", "инвалидность", "субсидия", "льгота",
        "многодетный", "малоимущий", "опека", "сирота", "пенсионер", "выплата", "материнский капитал",
        "соцработник", "ветеран", "участник сво", "мобилизованный", "компенсация", "сфр", "опекун",
    ),
    "housing": (
        "вода", "водопровод", "канализация", "отопление", "труба", "подъезд", "жкх", "управляющая компания",
        "водоканал", "крыша", "кровля", "протечка", "течь", "батарея", "радиатор", "стояк",
        "капремонт", "капитальный ремонт", "лифт", "квитанция", "коммунальный", "горячий вода",
        "холодный вода", "колодец", "двор", "детский площадка", "благоустройство", "тсж", "подвал",
        "затопить", "прорвать", "кладбище", "котельная", "плесень", "аварийный",
    ),
    "waste": (
        "мусор", "контейнер", "свалка", "тко", "отход", "мусоровоз", "контейнерный площадка",
        "вывоз", "вывозить", "бак", "мусорный", "региональный оператор", "регоператор", "навал",
        "помойка", "крупногабаритный",
    ),
    "roads": (
        "яма", "асфальт", "дорога", "тротуар", "выбоина", "колея", "обочина", "грейдер", "грейдирование",
        "щебень", "гололёд", "гололедица", "снег", "сугроб", "расчистка", "чистить", "посыпать",
        "дорожный", "мост", "пешеходный переход", "разметка", "светофор", "дорожный знак",
        "ямочный ремонт", "лежачий полицейский", "трасса", "бордюр", "ливнёвка",
    ),
    "transport": (
        "автобус", "маршрут", "остановка", "расписание", "рейс", "маршрутка", "перевозчик", "водитель",
        "проезд", "билет", "электричка", "поезд", "транспорт", "такси", "пассажир", "автовокзал",
        "школьный автобус", "кондуктор",
    ),
    "energy": (
        "свет", "электричество", "газ", "фонарь", "освещение", "электроэнергия", "электросеть",
        "россети", "провод", "столб", "лэп", "трансформатор", "подстанция", "напряжение",
        "газопровод", "газификация", "газовый", "баллон", "дрова", "уголь", "топливо", "электрик",
        "уличный освещение", "электроснабжение",
    ),
}

_WORD = re.compile(r"[а-яёa-z]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    # Loading the dictionaries takes a noticeable fraction of a second: once per process.
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=50_000)
def lemmas(word: str) -> frozenset[str]:
    """Every normal form the word may have, lower-case, «ё» read as «е»."""
    word = word.lower().replace("ё", "е")
    forms = {p.normal_form.replace("ё", "е") for p in _morph().parse(word)}
    forms.add(word)
    return frozenset(forms)


def _phrase_index() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """First lemma of each keyword → (topic, the keyword's lemmas)."""
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for topic, words in KEYWORDS.items():
        for keyword in words:
            parts = tuple(w.replace("ё", "е") for w in keyword.split())
            index.setdefault(parts[0], []).append((topic, parts))
    return index


_INDEX = _phrase_index()


def topic_scores(text: str) -> Counter[str]:
    """How many keyword hits each topic has in the text (a phrase counts once, as one hit)."""
    words = [lemmas(w) for w in _WORD.findall(text or "")]
    scores: Counter[str] = Counter()
    for i, forms in enumerate(words):
        seen: set[str] = set()
        for form in forms:
            for topic, parts in _INDEX.get(form, ()):
                if topic in seen:
                    continue
                tail = parts[1:]
                if all(i + k + 1 < len(words) and p in words[i + k + 1] for k, p in enumerate(tail)):
                    # A phrase is more telling than its words alone.
                    scores[topic] += len(parts)
                    seen.add(topic)
    return scores


def suggest_topic(text: str) -> str | None:
    """The topic code with the most hits, or None when nothing matches or two topics tie."""
    ranked = topic_scores(text).most_common(2)
    if not ranked:
        return None
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]
