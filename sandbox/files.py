"""In-memory file storage with Telegram-like ``file_id`` / ``file_unique_id``.

A photo becomes a *group* of two PhotoSize entries (thumbnail + full size) that
share the bytes but have their own ids, as in Telegram; re-sending any size's
``file_id`` re-uses the whole group.
"""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
from dataclasses import dataclass, field
from typing import Any

from .imagesize import fit, image_mime, image_size

# Real file_ids start with a per-type prefix; keeping it makes ids readable in logs.
_PREFIX = {
    "photo": "AgACAgIAAxk", "document": "BQACAgIAAxk", "voice": "AwACAgIAAxk",
    "audio": "CQACAgIAAxk", "video": "BAACAgIAAxk", "animation": "CgACAgIAAxk",
    "sticker": "CAACAgIAAxk", "video_note": "DQACAgIAAxk",
}
_FOLDER = {
    "photo": "photos", "document": "documents", "voice": "voice", "audio": "music",
    "video": "videos", "animation": "animations", "sticker": "stickers", "video_note": "video_notes",
}
THUMB_BOX = 320  # Telegram's "m" size
FULL_BOX = 1280  # Telegram's largest regular photo size


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    emoji: str | None = None  # stickers only
    # For photos: all sizes of the same picture, smallest first.
    group: list[StoredFile] = field(default_factory=list, repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }


class FileStore:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def clear(self) -> None:
        self.by_id.clear()
        self.by_path.clear()

    def get(self, file_id: str) -> StoredFile | None:
        return self.by_id.get(file_id)

    def _new(self, kind: str, data: bytes, tag: str, **meta: Any) -> StoredFile:
        self._counter += 1
        # Same bytes (and size variant) → same unique id, as Telegram dedups by content.
        unique = "AQAD" + hashlib.sha256(data + tag.encode()).hexdigest()[:12]
        file_id = f"{_PREFIX.get(kind, 'BQACAgIAAxk')}{secrets.token_urlsafe(24)}"
        name = meta.get("file_name")
        ext = ""
        if name and "." in name:
            ext = "." + name.rsplit(".", 1)[1]
        elif meta.get("mime_type"):
            ext = mimetypes.guess_extension(meta["mime_type"]) or ""
        elif kind == "photo":
            ext = ".jpg"
        path = f"{_FOLDER.get(kind, 'documents')}/file_{self._counter}{ext}"
        stored = StoredFile(file_id, unique, kind, data, path, **meta)
        self.by_id[file_id] = stored
        self.by_path[path] = stored
        return stored

    def add_photo(self, data: bytes, file_name: str | None = None) -> StoredFile:
        """Store a photo; returns the largest size (its ``group`` holds both)."""
        width, height = image_size(data)
        thumb_w, thumb_h = fit(width, height, THUMB_BOX)
        full_w, full_h = fit(width, height, FULL_BOX)
        # The thumbnail is not really re-encoded (no imaging library): it reuses
        # the bytes, which is fine for a sandbox — only dimensions are shown.
        mime = image_mime(data)
        thumb = self._new("photo", data, f"{thumb_w}x{thumb_h}", width=thumb_w, height=thumb_h, mime_type=mime)
        full = self._new("photo", data, f"{full_w}x{full_h}", width=full_w, height=full_h,
                         file_name=file_name, mime_type=mime)
        thumb.group = full.group = [thumb, full]
        return full

    def add(self, kind: str, data: bytes, **meta: Any) -> StoredFile:
        if kind == "photo":
            return self.add_photo(data, meta.get("file_name"))
        return self._new(kind, data, kind, **meta)


def media_object(stored: StoredFile) -> Any:
    """The value of the Message field named ``stored.kind`` (``photo`` is a list)."""
    if stored.kind == "photo":
        return [size.photo_size() for size in (stored.group or [stored])]
    obj: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.kind in ("document", "audio", "video", "animation"):
        obj.update(file_name=stored.file_name, mime_type=stored.mime_type)
    if stored.kind in ("voice", "audio", "video", "animation", "video_note"):
        obj["duration"] = stored.duration or 0
    if stored.kind == "voice":
        obj["mime_type"] = stored.mime_type or "audio/ogg"
    if stored.kind in ("video", "animation", "sticker"):
        obj.update(width=stored.width or 512, height=stored.height or 512)
    if stored.kind == "video_note":
        obj["length"] = stored.width or 240
    if stored.kind == "sticker":
        obj.update(type="regular", is_animated=False, is_video=False)
        if stored.emoji:
            obj["emoji"] = stored.emoji
    return {k: v for k, v in obj.items() if v is not None}
