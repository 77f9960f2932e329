"""The admin application factory."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import ClientSession, ClientTimeout, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.i18n import context_processor
from admin.keys import HTTP, SANDBOX_URL, SESSIONMAKER, SETTINGS
from admin.views import health, sandbox_chat
from core.settings import Settings

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
    return response


def create_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    sandbox_url: str | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_headers], client_max_size=60 * 1024 * 1024)
    app[SETTINGS] = settings
    app[SESSIONMAKER] = sessionmaker
    app[SANDBOX_URL] = sandbox_url
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[context_processor, aiohttp_jinja2.request_processor],
    )
    app.router.add_static("/static", HERE / "static", name="static")
    health.setup(app)
    if sandbox_url:
        sandbox_chat.setup(app)

    async def http_client(app: web.Application):  # type: ignore[no-untyped-def]
        async with ClientSession(timeout=ClientTimeout(total=60)) as client:
            app[HTTP] = client
            yield

    app.cleanup_ctx.append(http_client)
    return app
