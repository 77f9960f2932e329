"""HTTP face of the Bot API: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from typing import Any

from aiohttp import web

from .api import Described, call, canonical
from .errors import ApiError, unauthorized
from .faults import FaultRule
from .params import read_params
from .state import World

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
WORLD: web.AppKey[World] = web.AppKey("sandbox_world", World)


# ensure_ascii=False: Cyrillic stays readable when debugging with curl.
dumps = functools.partial(json.dumps, ensure_ascii=False)


def _answer(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=dumps)


def _error(world: World, exc: ApiError) -> web.Response:
    world.stats.errors[exc.code] += 1
    return _answer(exc.payload(), exc.code)


async def _apply(fault: FaultRule) -> None:
    """Raise the injected error, or sleep for a "delay" fault."""
    error = fault.error()
    if error is not None:
        raise error
    await asyncio.sleep(fault.delay)


async def handle_method(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    token, name = request.match_info["token"], request.match_info["method"]
    if not TOKEN.match(token):
        return _error(world, unauthorized())
    bot = world.bot(token)
    world.stats.calls[canonical(name) or name] += 1
    fault = world.faults.pick(name) if canonical(name) else None
    try:
        if fault is not None and not fault.after:
            await _apply(fault)
        params = await read_params(request)
        result = await call(world, bot, name, params)
        if fault is not None and fault.after:
            await _apply(fault)
    except ApiError as exc:
        return _error(world, exc)
    except (KeyError, TypeError, ValueError) as exc:
        # Almost always an ill-typed parameter (e.g. a non-numeric id inside a JSON
        # object); logged with a traceback in case it is a sandbox bug after all.
        log.warning("bad parameters for %s", name, exc_info=True)
        return _error(world, ApiError(400, f"Bad Request: invalid parameters: {exc}"))
    except Exception:  # a sandbox bug must still look like Telegram to the client
        log.exception("sandbox failed on %s", name)
        return _error(world, ApiError(500, "Internal Server Error"))
    if isinstance(result, Described):
        return _answer({"ok": True, "result": result.result, "description": result.description})
    return _answer({"ok": True, "result": result})


async def handle_file(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD]
    if not TOKEN.match(request.match_info["token"]):
        return _error(world, unauthorized())
    stored = world.files.by_path.get(request.match_info["path"])
    if stored is None:
        return _answer({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
