"""Sandbox Telegram Bot API server for offline runs, training and e2e tests.

Self-contained on purpose: only stdlib + aiohttp, nothing from the app.
"""

from .client import SandboxClient, SandboxError
from .limits import LimitConfig
from .runner import SandboxServer, start_sandbox
from .server import create_app
from .state import World

__all__ = ["LimitConfig", "SandboxClient", "SandboxError", "SandboxServer", "World", "create_app", "start_sandbox"]
