"""Page texts through the same gettext catalogs as the bot (locales/), Russian first."""
from __future__ import annotations

from aiohttp import web

from core.i18n import LANGUAGES, translations


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
