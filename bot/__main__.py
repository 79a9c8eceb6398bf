"""`python -m bot` runs the bot; `python -m bot migrate` only upgrades the database.

Exit codes: 0 after a clean shutdown, 2 for a setting to fix (one line on stderr, no
traceback), 1 for anything unexpected.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import discord
import yarl

from bot.clock import Clock, OffsetClock, SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.logs import setup_logging

log = logging.getLogger("bot")

USAGE = "usage: python -m bot [migrate]"


def make_clock(settings: Settings) -> Clock:
    if settings.watchclub_clock_start is not None:
        return OffsetClock(settings.watchclub_clock_start)
    return SystemClock()


def point_at_discord(settings: Settings) -> None:
    """Send REST and gateway traffic where the settings say (Discord, a proxy, or a test fake)."""
    discord.http.Route.BASE = settings.discord_api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def run_bot(settings: Settings, token: str) -> None:
    from bot.client import WatchClubBot

    point_at_discord(settings)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        bot = WatchClubBot(settings, create_session_factory(engine), make_clock(settings))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: asyncio.create_task(bot.close()))
        async with bot:
            await bot.start(token)
    finally:
        await engine.dispose()
        log.info("stopped")


def main(argv: list[str]) -> int:
    if argv not in ([], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        if argv == ["migrate"]:
            setup_logging(settings.log_level)
            asyncio.run(migrate(settings))
            print("database is at the newest schema")
            return 0
        token = settings.token()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, secrets=[token])
    try:
        asyncio.run(run_bot(settings, token))
    except discord.LoginFailure:
        print(
            "DISCORD_TOKEN was refused by Discord: check the token in .env (see .env.example).",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:  # pragma: no cover - we ask for none
        print("Discord refused the intents; WatchClub needs no privileged intent.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
