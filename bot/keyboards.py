"""Inline keyboards."""
from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ConsentCb, LangCb


def consent_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Согласен(на)"), callback_data=ConsentCb(agree=True))
    kb.button(text=_("Не согласен(на)"), callback_data=ConsentCb(agree=False))
    kb.adjust(2)
    return kb.as_markup()


def language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="Русский", callback_data=LangCb(code="ru"))
    kb.button(text="English", callback_data=LangCb(code="en"))
    kb.adjust(2)
    return kb.as_markup()
