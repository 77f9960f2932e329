"""Texts that several handlers share; all through gettext (locales/)."""
from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from db.models import Item, Status


def status_label(status: str) -> str:
    labels = {
        Status.received: _("получено"),
        Status.registered: _("зарегистрировано"),
        Status.assigned: _("передано исполнителю"),
        Status.in_work: _("в работе"),
        Status.interim_answer: _("дан промежуточный ответ"),
        Status.answered: _("подготовлен ответ"),
        Status.under_review: _("ответ на проверке"),
        Status.returned: _("ответ на доработке"),
        Status.delivered: _("ответ отправлен вам"),
        Status.closed: _("закрыто"),
        Status.redirected: _("перенаправлено"),
        Status.reopened: _("возобновлено"),
        Status.withdrawn: _("отозвано вами"),
        Status.rejected: _("отклонено"),
    }
    return labels.get(Status(status), status)


def excerpt(text: str, limit: int = 80) -> str:
    """A short, HTML-safe preview of citizen text for a reply."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return escape(flat)


def item_line(item: Item, date_text: str) -> str:
    preview = excerpt(item.text, 60) if item.text else _("(вложение)")
    return _("<b>№ {number}</b> от {date} — {status}\n{preview}").format(
        number=escape(item.number), date=date_text, status=status_label(item.status), preview=preview
    )
