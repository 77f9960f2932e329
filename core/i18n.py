"""Texts that core/ writes into the outbox, in the reader's language, from the same catalogs
as the bot and the admin (locales/). Russian is the source language."""
from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES, languages=[language], fallback=True)


def gettext_for(language: str | None) -> Callable[[str], str]:
    """`_ = gettext_for(staff.language)`; unknown or empty languages read Russian.

    The same function object comes back for a language, so `language_of(_)` can tell which it is.
    """
    return _gettext(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@lru_cache(maxsize=len(LANGUAGES))
def _gettext(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def language_of(gettext: Callable[[str], str]) -> str:
    return next((lang for lang in LANGUAGES if _gettext(lang) is gettext), DEFAULT_LANGUAGE)


class LocalizedError(ValueError):
    """A refusal explained in words: the message is a catalog msgid with `{values}`; `str()` is
    Russian, `localized(_)` the reader's language. Subclasses translate values that are
    themselves catalog texts by overriding `localized_values`."""

    def __init__(self, message: str, **values: object) -> None:
        self.message = message
        self.values = values
        super().__init__(self.localized(gettext_for(DEFAULT_LANGUAGE)))

    def localized_values(self, _: Callable[[str], str]) -> dict[str, object]:
        return dict(self.values)

    def localized(self, _: Callable[[str], str]) -> str:
        return _(self.message).format(**self.localized_values(_))


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated where it is shown."""
    return message
