"""Page texts through the same gettext catalogs as the bot (locales/), Russian first.

The language: `?lang=` (the switch in the header, remembered in a cookie), else that cookie, else the
staff member's own language, else the browser's Accept-Language, else MCU_DEFAULT_LANGUAGE.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from core.i18n import LANGUAGES, translations

LANG_COOKIE = "lang"


def request_language(request: web.Request, default: str) -> str:
    chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    staff = request.get("staff")
    if staff is not None and staff.language in LANGUAGES:
        return staff.language  # type: ignore[no-any-return]
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return default


def page_language(request: web.Request) -> str:
    from admin.keys import SETTINGS

    return request_language(request, request.app[SETTINGS].default_language)


def page_gettext(request: web.Request) -> Callable[[str], str]:
    return translations(page_language(request)).gettext


@web.middleware
async def language_cookie(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Remember the language chosen with ?lang= for the next pages."""
    response = await handler(request)
    chosen = request.query.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen and not response.prepared:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="Lax",
                            httponly=True)
    return response


async def context_processor(request: web.Request) -> dict[str, object]:
    from admin.keys import SANDBOX_URL

    language = page_language(request)
    return {"_": translations(language).gettext, "lang": language, "sandbox": bool(request.app[SANDBOX_URL])}
