"""/healthz for monitors and the front page with the service status (no personal data)."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import text

from admin.keys import SANDBOX_URL, SESSIONMAKER, SETTINGS


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[SESSIONMAKER]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # a monitor needs an answer, not a traceback
        return web.json_response({"status": "error", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "database": "ok", "sandbox": bool(request.app[SANDBOX_URL])})


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict[str, object]:
    settings = request.app[SETTINGS]
    return {"timezone": settings.timezone}


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
