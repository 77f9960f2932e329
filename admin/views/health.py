"""/healthz for monitors (no personal data)."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from admin.keys import SANDBOX_URL, SESSIONMAKER


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[SESSIONMAKER]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # a monitor needs an answer, not a traceback
        return web.json_response({"status": "error", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "database": "ok", "sandbox": bool(request.app[SANDBOX_URL])})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
