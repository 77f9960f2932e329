"""Button payloads (≤ 64 bytes, aiogram CallbackData); every press is re-checked by its handler."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ConsentCb(CallbackData, prefix="consent"):
    agree: bool


class LangCb(CallbackData, prefix="lang"):
    code: str
