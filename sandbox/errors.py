"""Telegram-shaped API errors.

Handlers raise :class:`ApiError`; the HTTP layer turns it into the exact JSON
body Telegram would send, so aiogram maps it onto the same exception class it
would raise in production (400 → TelegramBadRequest, 429 → TelegramRetryAfter…).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == ``error_code``."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix (aiogram shows the whole text)."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def conflict(reason: str) -> ApiError:
    return ApiError(409, f"Conflict: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    # Telegram always sends an integer number of seconds, never 0.
    seconds = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")
