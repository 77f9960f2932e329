"""Page texts through the same gettext catalogs as the bot (locales/), Russian first."""
from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from aiohttp import web

LOCALES = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES = ("ru", "en")


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES, languages=[language], fallback=True)


def request_language(request: web.Request, default: str) -> str:
    chosen = request.query.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return default


async def context_processor(request: web.Request) -> dict[str, object]:
    from admin.keys import SANDBOX_URL, SETTINGS

    language = request_language(request, request.app[SETTINGS].default_language)
    return {"_": translations(language).gettext, "lang": language, "sandbox": bool(request.app[SANDBOX_URL])}
