"""``python -m sandbox --host 127.0.0.1 --port 8081`` — run the sandbox standalone."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .runner import start_sandbox


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Sandbox Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", default=[], help="pre-register a bot token (repeatable)")
    parser.add_argument("--bot-username", default=None, help="username for new bots")
    parser.add_argument("--no-limits", action="store_true", help="disable flood control")
    parser.add_argument("--strict", action="store_true", help="no burst tolerance in private chats")
    parser.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args()


async def _serve(args: argparse.Namespace) -> None:
    opts = {"limits": {"enabled": not args.no_limits, "strict": args.strict}, "seed": args.seed}
    if args.bot_username:
        opts["bot_username"] = args.bot_username
    server = await start_sandbox(args.host, args.port, tokens=args.token, **opts)
    print(f"Sandbox Bot API at {server.url}  (aiogram: TelegramAPIServer.from_base({server.url!r}))", flush=True)
    print(f"Control API at {server.url}/sandbox/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)  # graceful stop under systemd/docker too
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            pass
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("Sandbox stopped", flush=True)


def main() -> None:
    args = _parse()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
