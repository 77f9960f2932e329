"""Bot API request parameters, whatever the encoding.

Telegram accepts query strings, JSON, urlencoded forms and multipart forms.
aiogram sends a urlencoded form normally and multipart when uploading; every
value arrives as a string there (ints as ``"123"``, bools as ``"true"``, and
objects such as ``reply_markup`` as JSON text), so accessors coerce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from .errors import ApiError, bad_request


@dataclass
class Upload:
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes", "on")
        return bool(value)

    def json(self, name: str, what: str | None = None) -> Any:
        """Decode a JSON-serialized field (already decoded in a JSON body)."""
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def upload(self, value: Any, name: str) -> Upload | None:
        """The uploaded file for ``name``: a direct multipart part or ``attach://x``."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"wrong HTTP URL specified: file {value[9:]!r} not found in the request")
            return upload
        return self.uploads.get(name) if value in (None, "") else None


async def read_params(request: web.Request) -> Params:
    params = Params(values=dict(request.query))
    if not request.body_exists:
        return params
    try:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("JSON object expected as request body")
            params.values.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    data = value.file.read()
                    params.uploads[key] = Upload(value.filename or key, value.content_type, data)
                else:
                    params.values[key] = value
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    except ValueError:
        raise bad_request("can't parse request body") from None
    return params
