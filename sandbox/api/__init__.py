"""Bot API method implementations; importing the package registers them all."""

from . import chat, core, media, messages  # noqa: F401  (imported for registration)
from .registry import METHODS, Ctx, Described, call, canonical

__all__ = ["METHODS", "Ctx", "Described", "call", "canonical"]
