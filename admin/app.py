"""The admin application factory."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import ClientSession, ClientTimeout, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import auth
from admin.i18n import context_processor, language_cookie
from admin.keys import CLOCK, HTTP, SANDBOX_URL, SESSIONMAKER, SETTINGS, THROTTLE
from admin.views import (
    audit,
    charts,
    dashboard,
    directories,
    health,
    item,
    items,
    login,
    reports,
    sandbox_chat,
    settings_page,
    staff,
)
from core.clock import Clock, system_clock
from core.settings import Settings
from core.staff_auth import IpThrottle

HERE = Path(__file__).resolve().parent


@web.middleware
async def security_headers(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
    response = await handler(request)
    # No inline scripts anywhere: every script is a file under /static.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        # Pages carry personal data and CSRF tokens: no shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def create_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    sandbox_url: str | None = None,
    clock: Clock = system_clock,
) -> web.Application:
    app = web.Application(middlewares=[security_headers, language_cookie], client_max_size=60 * 1024 * 1024)
    app[SETTINGS] = settings
    app[SESSIONMAKER] = sessionmaker
    app[SANDBOX_URL] = sandbox_url
    app[CLOCK] = clock
    app[THROTTLE] = IpThrottle()
    # Before jinja's context processors: they read the signed-in staff member and the cookie.
    auth.setup(app)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[context_processor, auth.context_processor, aiohttp_jinja2.request_processor],
    )
    app.router.add_static("/static", HERE / "static", name="static")
    # Items (H4): the dashboard is the front page, registered before health's placeholder index.
    for module in (dashboard, charts, items, item):
        module.setup(app)
    health.setup(app)
    login.setup(app)
    staff.setup(app)
    audit.setup(app)
    for module in (directories, settings_page, reports):  # H5: directories, settings, reports
        module.setup(app)
    if sandbox_url:
        sandbox_chat.setup(app)

    async def http_client(app: web.Application):  # type: ignore[no-untyped-def]
        async with ClientSession(timeout=ClientTimeout(total=60)) as client:
            app[HTTP] = client
            yield

    app.cleanup_ctx.append(http_client)
    return app
