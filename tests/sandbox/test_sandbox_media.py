"""Uploads, file_id reuse, getFile + download, albums, polls, user media."""

from __future__ import annotations

import struct
import zlib

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto

from sandbox_helpers import USER, make_bot
from sandbox import SandboxClient, start_sandbox

pytestmark = pytest.mark.asyncio


def png(width: int, height: int) -> bytes:
    """A valid (tiny) PNG so the sandbox can read real dimensions."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


async def test_photo_upload_get_file_and_download(bot: Bot, sb: SandboxClient) -> None:
    data = png(2000, 1000)
    msg = await bot.send_photo(USER, BufferedInputFile(data, "incident.png"), caption="<b>Фото</b>", parse_mode="HTML")
    assert msg.photo and [(p.width, p.height) for p in msg.photo] == [(320, 160), (1280, 640)]
    assert msg.caption == "Фото" and msg.caption_entities
    file = await bot.get_file(msg.photo[-1].file_id)
    assert file.file_path and file.file_size == len(data)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == data
    assert await sb.file_bytes(msg.photo[-1].file_id) == data  # what a chat UI would load
    # Re-sending by file_id reuses the stored file (same unique id, no new upload).
    again = await bot.send_photo(USER, msg.photo[0].file_id)
    assert again.photo and again.photo[-1].file_unique_id == msg.photo[-1].file_unique_id


async def test_bad_file_references(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
        await bot.send_photo(USER, "https://example.org/a.jpg")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(USER, "no-such-file-id")
    doc = await bot.send_document(USER, BufferedInputFile(b"%PDF-1.4", "act.pdf"))
    assert doc.document and doc.document.file_name == "act.pdf" and doc.document.mime_type == "application/pdf"
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(USER, doc.document.file_id)


async def test_download_limit() -> None:
    server = await start_sandbox(download_limit=10)
    server.state.upsert_user(USER, "Иван")
    bot = make_bot(server.url)
    try:
        doc = await bot.send_document(USER, BufferedInputFile(b"x" * 11, "big.bin"))
        assert doc.document
        with pytest.raises(TelegramBadRequest, match="file is too big"):
            await bot.get_file(doc.document.file_id)
    finally:
        await bot.session.close()
        await server.stop()


async def test_media_group(bot: Bot, sb: SandboxClient) -> None:
    first = await bot.send_photo(USER, BufferedInputFile(png(10, 10), "a.png"))
    assert first.photo
    album = await bot.send_media_group(USER, [
        InputMediaPhoto(media=BufferedInputFile(png(30, 20), "b.png"), caption="<i>1</i>", parse_mode="HTML"),
        InputMediaPhoto(media=first.photo[-1].file_id),
    ])
    assert len(album) == 2 and album[0].media_group_id and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "1" and album[0].photo and album[0].photo[-1].width == 30
    views = await sb.bot_messages(USER)
    assert [v["media"]["type"] for v in views] == ["photo", "photo", "photo"]
    with pytest.raises(TelegramBadRequest, match="2-10"):
        await bot.send_media_group(USER, [InputMediaPhoto(media=first.photo[-1].file_id)])
    with pytest.raises(TelegramBadRequest, match="can't be mixed"):
        await bot.send_media_group(USER, [
            InputMediaPhoto(media=first.photo[-1].file_id),
            InputMediaDocument(media=BufferedInputFile(b"doc", "d.txt")),
        ])


async def test_poll(bot: Bot, sb: SandboxClient) -> None:
    msg = await bot.send_poll(USER, "Как вы оцениваете работу?", ["Хорошо", "Плохо"], is_anonymous=False)
    assert msg.poll and [o.text for o in msg.poll.options] == ["Хорошо", "Плохо"] and not msg.poll.is_anonymous
    quiz = await bot.send_poll(USER, "2+2?", ["3", "4"], type="quiz", correct_option_id=1)
    assert quiz.poll and quiz.poll.correct_option_id == 1
    with pytest.raises(TelegramBadRequest, match="at least 2 option"):
        await bot.send_poll(USER, "?", ["один"])
    [view, _] = await sb.bot_messages(USER)
    assert view["poll"]["question"] == "Как вы оцениваете работу?"


async def test_user_media_reaches_the_bot(bot: Bot, sb: SandboxClient) -> None:
    photo = await sb.send_photo(USER, png(640, 480), caption="Яма на дороге")
    document = await sb.send_document(USER, b"report", "report.txt", "text/plain")
    await sb.send_voice(USER, b"OggS", duration=3)
    await sb.send_video_note(USER, b"mp4", duration=2)
    await sb.send_sticker(USER, "👍")
    await sb.send_contact(USER, "+79990001122")
    await sb.send_location(USER, 55.75, 37.62)
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert len(messages) == 7
    p, d, v, n, s, c, loc = messages
    assert p.photo and p.photo[-1].width == 640 and p.caption == "Яма на дороге"
    assert photo["message"]["photo"][-1]["file_id"] == p.photo[-1].file_id
    assert d.document and d.document.file_name == "report.txt"
    assert document["message"]["document"]["mime_type"] == "text/plain"
    file = await bot.get_file(d.document.file_id)
    assert file.file_path
    got = await bot.download_file(file.file_path)
    assert got is not None and got.read() == b"report"
    assert v.voice and v.voice.duration == 3
    assert n.video_note and n.video_note.length == 240
    assert s.sticker and s.sticker.emoji == "👍"
    assert c.contact and c.contact.first_name == "Иван"
    assert loc.location and loc.location.latitude == 55.75
