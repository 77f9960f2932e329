"""aiohttp application factory: Bot API routes + control API under ``/sandbox/``."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import web

from . import botapi, control, inbox, views
from .botapi import WORLD
from .state import MB, World

_CORS = {
    # The chat web page may be served by the admin app on another port.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def control_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    if not request.path.startswith("/sandbox"):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(headers=_CORS)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_CORS)
        raise
    except (KeyError, TypeError, ValueError) as exc:
        # A malformed control request (missing/ill-typed field) is the caller's
        # mistake: say so as JSON instead of a bare 500.
        response = web.json_response({"ok": False, "error": f"bad request: {exc!r}"}, status=400)
    response.headers.update(_CORS)
    return response


def create_app(world: World | None = None, **options: Any) -> web.Application:
    """Build the app; ``options`` go to :class:`World` when ``world`` is not given."""
    world = world or World(**options)
    # Room for a maximal upload plus multipart overhead; bigger bodies get Telegram's 413.
    app = web.Application(client_max_size=world.upload_limit + 2 * MB, middlewares=[control_middleware])
    app[WORLD] = world
    botapi.add_routes(app)
    control.add_routes(app)
    inbox.add_routes(app)
    views.add_routes(app)

    async def on_shutdown(_: web.Application) -> None:
        world.close()  # wake long polls so shutdown does not wait for their timeouts

    app.on_shutdown.append(on_shutdown)
    return app
