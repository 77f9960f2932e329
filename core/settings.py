"""Typed configuration, read from ``MCU_*`` environment variables or ``.env``.

The names are a contract other tools rely on (design.md); add, never rename.
"""
from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.mail import parse_smtp_url

DEFAULT_DATA_DIR = Path("data")
SANDBOX_TOKEN = "123456789:SANDBOX-mcu-local-token"
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{5,}$")
_DB_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class ConfigError(Exception):
    """A bad setting, explained in one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MCU_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = ""
    redis_url: str | None = None
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(8080, ge=0, le=65535)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8081, ge=0, le=65535)
    smtp_url: str | None = None
    smtp_from: str = "mcu@localhost"
    # Where staff open the admin; links in e-mails point here. Empty: http://ADMIN_HOST:ADMIN_PORT.
    admin_url: str = ""
    # Encrypts the admin's session cookie (any long random string; the key is derived from it). Empty:
    # a key is generated once and kept in DATA_DIR/admin_secret.key.
    admin_secret: SecretStr | None = None
    timezone: str = "Europe/Moscow"

    data_dir: Path = DEFAULT_DATA_DIR
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(8090, ge=0, le=65535)
    default_language: str = "ru"
    log_level: str = "INFO"
    # Direct replies per citizen: a burst, then one per `throttle_interval` seconds.
    throttle_burst: int = Field(2, ge=1)
    throttle_interval: float = Field(1.5, gt=0)

    @field_validator("bot_token", "webhook_secret", "redis_url", "webhook_url", "smtp_url", "admin_secret",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("expected the form 123456:ABC-DEF… issued by @BotFather")
        return value

    @field_validator("admin_secret")
    @classmethod
    def _admin_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("too short: use at least 32 random characters (e.g. openssl rand -hex 32)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(_DB_SCHEMES):
            raise ValueError(
                "expected sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_smtp_url(value)  # the ValueError names what is wrong, never the password
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Moscow") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("ru", "en"):
            raise ValueError("expected ru or en")
        return value

    @property
    def sandbox_mode(self) -> bool:
        return self.bot_token is None

    @property
    def token(self) -> str:
        return self.bot_token.get_secret_value() if self.bot_token else SANDBOX_TOKEN

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def admin_base_url(self) -> str:
        return (self.admin_url or f"http://{self.admin_host}:{self.admin_port}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mcu.db').as_posix()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings or raise ConfigError with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "MCU_" + str(first["loc"][0]).upper() if first.get("loc") else "settings"
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
