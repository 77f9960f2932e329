"""Steps of the citizen's intake dialogue, for the bot tests: send or press, then wait for the bot's
message that shows the expected text."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import update

from db.models import Settlement
from tests.bot.conftest import Harness

# Twelve settlements: more than one page of ten; two start alike; one has «ё».
SETTLEMENTS = ("Ивановка", "Петровское", "Ёлкино", "Берёзовка", "Берёзки", "Сосновка", "Дубки", "Липецы",
               "Ключи", "Озёрное", "Родники", "Яблоновка")
IVANOVKA = (55.70, 34.30)


async def own_settlements(h: Harness) -> dict[str, int]:
    """The test's settlements replace the seeded ones (those are retired, not deleted)."""
    async with h.sessionmaker() as session, session.begin():
        await session.execute(update(Settlement).values(is_active=False))
        rows = []
        for name in SETTLEMENTS:
            lat, lon = IVANOVKA if name == "Ивановка" else (None, None)
            rows.append(Settlement(name=name, kind="село", latitude=lat, longitude=lon))
        session.add_all(rows)
        await session.flush()
        return {s.name: s.id for s in rows}


async def expect(h: Harness, user: int, after: int, contains: str, timeout: float = 10) -> dict[str, Any]:
    return await h.sb.wait_bot_message(user, after=after, timeout=timeout,
                                       predicate=lambda m: contains in (m.get("text") or ""))


async def act(h: Harness, user: int, do: Callable[[], Awaitable[Any]], contains: str) -> dict[str, Any]:
    """Do something as the user and return the bot's first later message containing `contains`."""
    after = await h.last_id(user)
    h.throttle_clock.value += 5  # a person, not a flood
    await do()
    return await expect(h, user, after, contains)


async def say(h: Harness, user: int, text: str, contains: str) -> dict[str, Any]:
    return await act(h, user, lambda: h.sb.send_text(user, text), contains)


def button(message: dict[str, Any], text_contains: str) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    matches = [b["callback_data"] for row in rows for b in row if text_contains in b["text"]]
    assert matches, f"no button with {text_contains!r} in {rows}"
    return matches[0]


def buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def press(h: Harness, user: int, message: dict[str, Any], text_contains: str,
                contains: str) -> dict[str, Any]:
    data = button(message, text_contains)
    return await act(h, user, lambda: h.sb.press(user, message["message_id"], data), contains)


async def begin(h: Harness, user: int, text: str) -> dict[str, Any]:
    """A consented citizen's first message: the draft's number and the kind question."""
    return await say(h, user, text, "Как подать?")


async def to_settlement(h: Harness, user: int, text: str = "На дороге огромная яма, асфальт разбит") -> dict[str, Any]:
    kind = await begin(h, user, text)
    topic = await press(h, user, kind, "Сообщение", "Похоже, это тема «Дороги»")
    return await press(h, user, topic, "Да", "Где это?")


async def to_files(h: Harness, user: int, text: str = "На дороге огромная яма, асфальт разбит") -> dict[str, Any]:
    places = await to_settlement(h, user, text)
    address = await press(h, user, places, "Ивановка", "Уточните адрес")
    return await press(h, user, address, "Пропустить", "Если есть фото")


async def to_summary(h: Harness, user: int, text: str = "На дороге огромная яма, асфальт разбит") -> dict[str, Any]:
    files = await to_files(h, user, text)
    phone = await press(h, user, files, "Готово", "Если не хотите оставлять телефон")
    return await press(h, user, phone, "Пропустить", "Проверьте, пожалуйста")
