"""The control API as a chat UI or a benchmark would use it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot

from sandbox_helpers import USER
from sandbox import SandboxClient, SandboxError, SandboxServer

pytestmark = pytest.mark.asyncio


async def test_users_groups_and_history(bot: Bot, sb: SandboxClient) -> None:
    await sb.add_user(2002, "Мария", last_name="Петрова", username="maria")
    assert {u["id"] for u in await sb.users()} == {USER, 2002}
    await sb.add_group(-42, "Диспетчерская", members=[USER])
    await sb.add_member(-42, 2002)
    sent = await sb.send_text(2002, "В группе", chat_id=-42)
    assert sent["message"]["chat"] == {"id": -42, "type": "group", "title": "Диспетчерская"}
    await bot.send_message(-42, "Принято", reply_to_message_id=sent["message"]["message_id"])
    history = await sb.messages(-42)
    assert [(m["from_bot"], m["text"]) for m in history] == [(False, "В группе"), (True, "Принято")]
    assert history[1]["reply_to_message_id"] == history[0]["message_id"]
    assert await sb.messages(-42, after=history[0]["message_id"]) == history[1:]
    with pytest.raises(SandboxError) as info:
        await sb.send_text(USER, "x", chat_id=-999)
    assert info.value.status == 404


async def test_wait_returns_as_soon_as_the_bot_answers(bot: Bot, sb: SandboxClient) -> None:
    async def answer_later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(USER, "готово")

    task = asyncio.create_task(answer_later())
    message = await sb.wait_bot_message(USER, timeout=3)
    await task
    assert message["text"] == "готово"
    follow = await bot.send_message(USER, "второе")
    found = await sb.wait_bot_message(USER, timeout=1, predicate=lambda m: m["text"] == "второе")
    assert found["message_id"] == follow.message_id
    with pytest.raises(TimeoutError):
        await sb.wait_bot_message(USER, after=follow.message_id, timeout=0.2)


async def test_actions_bots_stats_reset(bot: Bot, sb: SandboxClient, server: SandboxServer) -> None:
    await bot.send_chat_action(USER, "upload_photo")
    assert [a["action"] for a in await sb.actions(USER)] == ["upload_photo"]
    await sb.send_text(USER, "pending")
    [info] = await sb.bots()
    assert info["id"] == 123456 and info["pending_update_count"] == 1 and info["webhook"] is None
    stats = await sb.stats()
    assert stats["calls"]["sendChatAction"] == 1 and stats["updates_queued"] == 1
    await sb.reset()
    assert await sb.users() == [] and (await sb.stats())["calls"] == {}
    assert (await sb.bots())[0]["pending_update_count"] == 0


async def test_control_api_errors_and_cors(server: SandboxServer, sb: SandboxClient) -> None:
    with pytest.raises(SandboxError, match="exactly one"):
        await sb.send(USER)
    with pytest.raises(SandboxError, match="kind must be"):
        await sb.faults("teapot")
    with pytest.raises(SandboxError, match="unknown limit option"):
        await sb.limits(per_fortnight=3)
    with pytest.raises(SandboxError) as info:  # malformed payloads are 400s, not 500s
        await sb.send(USER, location={"latitude": 55.7})
    assert info.value.status == 400
    async with aiohttp.ClientSession() as http:
        async with http.options(f"{server.url}/sandbox/users") as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
        async with http.get(f"{server.url}/sandbox/") as resp:
            assert "POST /sandbox/send" in (await resp.json())["routes"]
