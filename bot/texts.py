"""Texts of the bot; all through gettext (locales/), the Russian text is the msgid."""
from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from db.models import Item, Status


def status_label(status: str) -> str:
    labels = {
        Status.received: _("ждёт вашего подтверждения"),
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


# --- the intake dialogue ---------------------------------------------------------------------------


def draft_saved(number: str, text: str) -> str:
    head = _("Сохранили ваше сообщение под номером <b>№ {number}</b>.").format(number=escape(number))
    if text:
        head += "\n«" + excerpt(text) + "»"
    return head + "\n\n" + _("Ответьте на несколько коротких вопросов — так мы быстрее передадим его тем, "
                              "кто решит проблему.")


def kind_prompt() -> str:
    return "\n".join([
        _("<b>Как подать?</b>"),
        _("• <b>Сообщение</b> — быстро и без формальностей: передадим ответственным, ответ придёт сюда, в бот."),
        _("• <b>Обращение по 59-ФЗ</b> — официальный письменный ответ в течение 30 дней; нужны ваши "
          "фамилия, имя и почтовый адрес или e-mail."),
    ])


def full_name_prompt() -> str:
    return _("Напишите, пожалуйста, фамилию, имя и отчество (если есть). По 59-ФЗ на обращение "
             "без имени ответ не даётся.")


def full_name_error(reason: str) -> str:
    return {
        "empty": _("Напишите фамилию, имя и отчество буквами."),
        "short": _("Нужны хотя бы фамилия и имя — два слова."),
        "symbols": _("В ФИО могут быть только буквы, дефис и апостроф."),
        "long": _("Это слишком длинно для ФИО: напишите только фамилию, имя и отчество."),
    }.get(reason, _("Не получилось прочитать ФИО."))


def reply_address_prompt() -> str:
    return _("Куда направить ответ? Напишите почтовый адрес (индекс, населённый пункт, улица, дом, "
             "квартира) или адрес электронной почты.")


def reply_address_error(reason: str) -> str:
    return {
        "empty": _("Здесь нужен текст: почтовый адрес или e-mail."),
        "email": _("Это не похоже на адрес электронной почты: нужен вид name@example.ru. Проверьте и "
                   "напишите ещё раз."),
        "postal": _("Почтовый адрес слишком короткий: нужны населённый пункт, улица и дом, например: "
                    "«с. Ивановка, ул. Лесная, д. 3»."),
        "long": _("Адрес слишком длинный: напишите только адрес, без описания проблемы."),
    }.get(reason, _("Не получилось прочитать адрес."))


def topic_suggestion(topic: str) -> str:
    return _("Похоже, это тема «{topic}». Верно?").format(topic=escape(topic))


def topic_list_prompt() -> str:
    return _("Выберите тему:")


def settlement_prompt(page: int, pages: int, can_skip: bool) -> str:
    text = _("Где это? Выберите населённый пункт или напишите его название.")
    if pages > 1:
        text += "\n" + _("Страница {page} из {pages}.").format(page=page + 1, pages=pages)
    if can_skip:
        text += "\n" + _("Если место не важно, нажмите «Пропустить».")
    return text


def no_settlements_prompt(can_skip: bool) -> str:
    text = _("Где это? Напишите адрес: населённый пункт, улицу, дом или ориентир.")
    if can_skip:
        text += "\n" + _("Если место не важно, нажмите «Пропустить».")
    return text


def location_hint() -> str:
    return _("Если вы на месте, нажмите внизу «📍 Отправить геопозицию» — так место найдут точнее.")


def settlement_not_found(query: str) -> str:
    return _("Не нашли «{query}» среди населённых пунктов района. Выберите из списка или напишите "
             "название иначе.").format(query=escape(query[:60]))


def settlement_choices() -> str:
    return _("Нашлось несколько. Выберите нужный:")


def address_prompt() -> str:
    return _("Уточните адрес или ориентир: улица, дом, что рядом (например: «ул. Лесная, 3, у магазина»). "
             "Или нажмите «Пропустить».")


def address_too_long() -> str:
    return _("Это длинный текст — добавили его к описанию. Адрес напишите коротко: улица, дом или ориентир.")


def files_prompt() -> str:
    return _("Если есть фото, документы или голосовое сообщение — пришлите их сейчас. Когда закончите, "
             "нажмите «Готово».")


def files_added(count: int) -> str:
    return _("Добавлено. Всего вложений: {count}. Пришлите ещё или нажмите «Готово».").format(count=count)


def text_added() -> str:
    return _("Добавили этот текст к описанию.")


def file_too_big(names: list[str]) -> str:
    return _("Файл {names} больше 20 МБ — бот не может принять такой. Сожмите его, разделите на части "
             "или принесите в администрацию.").format(names=", ".join(f"«{escape(n)}»" for n in names))


def phone_prompt() -> str:
    return _("Оставьте, пожалуйста, телефон: по нему с вами свяжутся, если нужно что-то уточнить. "
             "Нажмите внизу «📱 Отправить номер» или напишите номер.")


def phone_skip_prompt() -> str:
    return _("Если не хотите оставлять телефон, нажмите «Пропустить».")


def phone_saved() -> str:
    return _("Телефон сохранён.")


def phone_foreign() -> str:
    return _("Пришлите, пожалуйста, свой номер телефона, а не чужой контакт.")


def skipped() -> str:
    return _("Хорошо, пропустим.")


def added_and_repeat() -> str:
    return _("Добавили это к вашему сообщению. Ответьте, пожалуйста, на вопрос:")


def unsupported_content() -> str:
    return _("Такое сообщение мы не можем принять. Пришлите, пожалуйста, текст, фото, документ, "
             "голосовое сообщение или геопозицию.")


def dialogue_cancelled(number: str) -> str:
    return _("Отменили. Сообщение № {number} не будет передано в работу. Если понадобится, просто "
             "напишите снова.").format(number=escape(number))


def draft_gone() -> str:
    return _("Это сообщение уже оформлено или отменено. Статус — /my.")


def resume_prompt(number: str, text: str) -> str:
    head = _("Вы не закончили оформлять сообщение <b>№ {number}</b>").format(number=escape(number))
    if text:
        head += " «" + excerpt(text, 60) + "»"
    return head + ".\n" + _("Продолжить с того места, где остановились, или начать заново?")


def resume_continued(number: str) -> str:
    return _("Продолжаем оформлять № {number}.").format(number=escape(number))


def started_over(number: str) -> str:
    return _("Сообщение № {number} отменено.").format(number=escape(number))


def describe_problem() -> str:
    return _("Опишите, что случилось, — одним сообщением.")


def place_line(settlement: str | None, address: str | None, has_point: bool) -> str:
    parts = [escape(p) for p in (settlement, address) if p]
    if has_point:
        parts.append(_("геопозиция"))
    return ", ".join(parts) or _("не указано")


def summary(*, number: str, kind: str, topic: str | None, place: str, text: str, files: int,
            applicant: str | None, reply_address: str | None, phone: str | None) -> str:
    lines = [
        _("<b>Проверьте, пожалуйста:</b>"),
        _("Номер: № {number}").format(number=escape(number)),
        _("Вид: {kind}").format(kind=kind),
        _("Тема: {topic}").format(topic=escape(topic) if topic else _("не выбрана")),
        _("Место: {place}").format(place=place),
    ]
    if applicant:
        lines.append(_("Заявитель: {name}").format(name=escape(applicant)))
    if reply_address:
        lines.append(_("Адрес для ответа: {address}").format(address=escape(reply_address)))
    if phone:
        lines.append(_("Телефон: {phone}").format(phone=escape(phone)))
    lines.append(_("Вложений: {count}").format(count=files))
    lines.append("")
    lines.append("«" + excerpt(text, 300) + "»" if text else _("(без текста)"))
    lines.append("")
    lines.append(_("Если всё верно, нажмите «Подтвердить»."))
    return "\n".join(lines)


def registered(number: str, appeal: bool, due: str | None, reply_address: str | None) -> str:
    if appeal:
        lines = [_("Обращение по 59-ФЗ зарегистрировано под номером <b>№ {number}</b>.").format(
            number=escape(number))]
    else:
        lines = [_("Сообщение зарегистрировано под номером <b>№ {number}</b>.").format(number=escape(number))]
    lines.append("")
    lines.append(_("<b>Что дальше.</b> Мы передадим его ответственным и проследим за сроком."))
    if due:
        lines.append(_("Ответ придёт сюда, в бот, не позднее {date}.").format(date=due))
    if appeal and reply_address:
        lines.append(_("Адрес для ответа: {address}.").format(address=escape(reply_address)))
    lines.append(_("Если понадобится уточнение, мы напишем вам здесь. Статус — /my."))
    return "\n".join(lines)


# --- /my: additions and withdrawal -------------------------------------------------------------------


def addition_prompt(number: str) -> str:
    return _("Напишите, что добавить к № {number}: текст, фото, документ, голосовое сообщение или "
             "геопозицию.").format(number=escape(number))


def addition_saved(number: str) -> str:
    return _("Добавили к № {number}. Исполнитель увидит это в карточке.").format(number=escape(number))


def item_closed_new_draft(number: str) -> str:
    return _("№ {number} уже закрыт, поэтому ваше сообщение оформим как новое.").format(number=escape(number))


def withdraw_question(number: str) -> str:
    return _("Отозвать № {number}? Работа по нему будет прекращена.").format(number=escape(number))


def withdrawn(number: str) -> str:
    return _("№ {number} отозван. Спасибо, что сообщили.").format(number=escape(number))


def not_yours() -> str:
    return _("Эта кнопка относится не к вашему сообщению.")
