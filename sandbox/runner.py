"""Run the sandbox in-process (tests, the app's CLI) on a free or given port."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Iterable

from aiohttp import web

from .botapi import TOKEN
from .server import create_app
from .state import World


@dataclass
class SandboxServer:
    url: str  # base URL for TelegramAPIServer.from_base and SandboxClient
    state: World
    app: web.Application
    runner: web.AppRunner

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> SandboxServer:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    tokens: Iterable[str] = (),
    world: World | None = None,
    **opts: Any,
) -> SandboxServer:
    """Start serving; ``port=0`` picks a free port (read it from ``.url``).

    ``tokens`` pre-registers bots so user messages sent before the bot's first
    call are queued for it; ``opts`` go to :class:`World` (clock, wall_clock,
    limits, seed, bot_username, bot_first_name, webhook_retry, webhook_timeout,
    upload_limit, download_limit).
    """
    world = world or World(**opts)
    for token in tokens:
        if not TOKEN.match(token):
            raise ValueError(f"not a bot token: {token!r} (expected 123456:ABC-def)")
        world.bot(token)
    app = create_app(world)
    # handler_cancellation: a client that gives up on a long poll (aiogram
    # cancelling its polling task) must not leave a zombie handler behind.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    sock = _bind(host, port)
    site = web.SockSite(runner, sock)
    await site.start()
    bound_port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    return SandboxServer(f"http://{url_host}:{bound_port}", world, app, runner)
