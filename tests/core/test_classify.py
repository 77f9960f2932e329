"""Topic suggestion from the citizen's words (pymorphy3 lemmas against keyword lists)."""
from __future__ import annotations

import pytest

from core import classify
from core.classify import KEYWORDS, lemmas, suggest_topic, topic_scores
from core.seed import TOPICS


@pytest.mark.parametrize(("text", "topic"), [
    ("На улице Ленина огромные ямы, асфальт разбит, машины ломают подвески", "roads"),
    ("Тротуар у школы не чистят, гололёд, люди падают", "roads"),
    ("Не вывозят мусор уже неделю, контейнеры переполнены", "waste"),
    ("За гаражами стихийная свалка, региональный оператор не реагирует", "waste"),
    ("Третий день нет горячей воды, в подвале течёт труба", "housing"),
    ("В подъезде не работает отопление, батареи холодные", "housing"),
    ("На нашей улице не горят фонари, освещения нет с осени", "energy"),
    ("Отключили электричество на всей улице, Россети не отвечают", "energy"),
    ("Автобус по маршруту № 5 не ходит по расписанию, на остановке ждём час", "transport"),
    ("В школе нет учителя математики, дети без уроков", "education"),
    ("Не можем попасть в детский сад, очередь не движется", "education"),
    ("В поликлинике нет записи к врачу на две недели", "health"),
    ("В аптеке ФАПа нет лекарств, фельдшер приезжает раз в неделю", "health"),
    ("Не пришла пенсия по инвалидности, в соцзащите не отвечают", "social"),
    ("Многодетной семье не выплатили пособие", "social"),
])
def test_real_sentences_get_their_topic(text, topic):
    assert suggest_topic(text) == topic


def test_nothing_telling_gives_none():
    assert suggest_topic("Добрый день, помогите, пожалуйста") is None
    assert suggest_topic("") is None
    assert suggest_topic("12345 !!!") is None


def test_a_tie_gives_none_rather_than_a_guess():
    # One word for energy (фонарь), one for transport (остановка).
    assert topic_scores("Не горит фонарь у остановки") == {"energy": 1, "transport": 1}
    assert suggest_topic("Не горит фонарь у остановки") is None


def test_the_stronger_topic_wins():
    text = "Во дворе яма, и не вывозят мусор из контейнеров"
    scores = topic_scores(text)
    assert scores["waste"] > scores["roads"] and suggest_topic(text) == "waste"


def test_case_inflection_and_yo_do_not_matter():
    assert suggest_topic("ЯМЫ! ЯМЫ ВЕЗДЕ!") == "roads"
    assert suggest_topic("гололед на трассе") == suggest_topic("Гололёд на трассе") == "roads"
    assert "яма" in lemmas("ямами") and "гололед" in lemmas("Гололёдом")


def test_a_phrase_counts_more_than_its_words():
    # «горячей воды» is the phrase "горячий вода" (2) plus the word "вода" (1).
    assert topic_scores("нет горячей воды")["housing"] == 3
    assert topic_scores("горячий чай")["housing"] == 0


def test_keywords_use_known_topic_codes_and_lemmas():
    codes = {t.code for t in TOPICS}
    assert set(KEYWORDS) <= codes and "other" not in KEYWORDS
    for topic, words in KEYWORDS.items():
        for keyword in words:
            for word in keyword.split():
                # Written as lemmas, so the text's lemma sets can contain them.
                assert word.replace("ё", "е") in lemmas(word), (topic, keyword)


def test_the_analyser_is_made_once():
    assert classify._morph() is classify._morph()
