"""The language of the answer: the citizen's choice (/lang), else the Telegram profile, else Russian."""
from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from db.models import Citizen, Staff


def pick_locale(chosen: str | None, profile: str | None, available: tuple[str, ...], default: str) -> str:
    if chosen in available:
        return chosen  # type: ignore[return-value]
    if profile:
        short = profile.split("-")[0].lower()
        if short in available:
            return short
    return default


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        staff: Staff | None = data.get("staff")
        citizen: Citizen | None = data.get("citizen")
        user: User | None = data.get("event_from_user")
        chosen = (staff.language if staff else None) or (citizen.language if citizen else None)
        return pick_locale(
            chosen, user.language_code if user else None, self.i18n.available_locales, self.i18n.default_locale
        )
