"""Bot API method registry: name → handler, looked up case-insensitively."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from ..errors import not_found
from ..params import Params
from ..models import BotAccount
from ..state import World


@dataclass
class Ctx:
    """Everything a method handler needs for one call."""

    world: World
    bot: BotAccount
    params: Params
    method: str


@dataclass
class Described:
    """A result with Telegram's optional top-level ``description`` (setWebhook does that)."""

    result: Any
    description: str


Handler = Callable[[Ctx], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}  # lower-case name → (canonical name, handler)


H = TypeVar("H", bound=Handler)


def method(*names: str) -> Callable[[H], H]:
    def register(handler: H) -> H:
        for name in names:
            METHODS[name.lower()] = (name, handler)
        return handler

    return register


def canonical(name: str) -> str | None:
    entry = METHODS.get(name.lower())
    return entry[0] if entry else None


async def call(world: World, bot: BotAccount, name: str, params: Params) -> Any:
    """Run a method; raises ``ApiError`` (404 for unknown methods, like Telegram)."""
    entry = METHODS.get(name.lower())
    if entry is None:
        raise not_found()
    canonical_name, handler = entry
    return await handler(Ctx(world, bot, params, canonical_name))
