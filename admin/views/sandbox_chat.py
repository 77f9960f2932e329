"""In sandbox mode: a chat page where staff talk to the bot as any made-up user (for training).

The page's script calls /sandbox/api/…, which this view forwards to the sandbox's control API,
so the browser needs one origin only and the sandbox stays on loopback.
"""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import ClientError, web

from admin.keys import HTTP, SANDBOX_URL

FORWARDED_HEADERS = ("Content-Type",)


@aiohttp_jinja2.template("sandbox.html")
async def chat_page(request: web.Request) -> dict[str, object]:
    return {}


async def control_proxy(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"]
    target = f"{request.app[SANDBOX_URL]}/sandbox/{tail}"
    body = await request.read()
    headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
    try:
        async with request.app[HTTP].request(
            request.method, target, params=request.query, data=body or None, headers=headers
        ) as upstream:
            payload = await upstream.read()
            return web.Response(
                body=payload, status=upstream.status, content_type=upstream.content_type
            )
    except ClientError:
        return web.json_response({"ok": False, "description": "sandbox is not reachable"}, status=502)


def setup(app: web.Application) -> None:
    app.router.add_get("/sandbox", chat_page, name="sandbox_chat")
    app.router.add_route("*", "/sandbox/api/{tail:.*}", control_proxy)
