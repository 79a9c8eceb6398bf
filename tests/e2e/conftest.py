"""End-to-end fixtures: the real `python -m bot` process against the loopback fake Discord.

Every scenario runs on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL is set (the
`database_url` fixture from tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine
from tests.e2e.fakediscord import BotProcess, FakeDiscord, ForumChannel, Guild, Member, Role, TextChannel
from tests.e2e.fakediscord.fixtures import *  # noqa: F403 - fake_discord, bot_process, the log hook
from tests.e2e.fakediscord.fixtures import BotLauncher


@dataclass
class ClubServer:
    """A server as a club would have it: channels, a ping role, a moderator and members."""

    fake: FakeDiscord
    guild: Guild
    announcements: TextChannel
    forum: ForumChannel
    chat: TextChannel
    watchers: Role
    mod: Member
    bob: Member
    carol: Member


@pytest.fixture
def server(fake_discord: FakeDiscord) -> ClubServer:
    guild = fake_discord.add_guild("Metallic Rouge Watch Club")
    watchers = guild.add_role("Watchers", mentionable=True)
    return ClubServer(
        fake=fake_discord,
        guild=guild,
        announcements=guild.add_text_channel("announcements"),
        forum=guild.add_forum_channel("episodes"),
        chat=guild.add_text_channel("chat"),
        watchers=watchers,
        mod=guild.add_member("mod", moderator=True),
        bob=guild.add_member("bob", roles=[watchers]),
        carol=guild.add_member("carol"),
    )


@dataclass
class WatchClub:
    """Starts and restarts the bot with one database and optional clock start."""

    launcher: BotLauncher
    server: ClubServer
    database_url: str
    processes: list[BotProcess] = field(default_factory=list)

    async def start(self, clock_start: datetime | None = None, **env: str) -> BotProcess:
        settings = {
            "DATABASE_URL": self.database_url,
            "DEV_GUILD_ID": str(self.server.guild.id),
            "LOG_LEVEL": "INFO",
            **env,
        }
        if clock_start is not None:
            settings["WATCHCLUB_CLOCK_START"] = clock_start.isoformat()
        process = await self.launcher.start(
            env=settings, commands=["club", "show", "schedule"], guild=self.server.guild, timeout=60
        )
        self.processes.append(process)
        return process

    async def wait_for_rows(self, sql: str, timeout: float = 15.0, **params: Any) -> list[Any]:
        """Poll the database until `sql` returns rows (what the bot records lands a bit after
        what it posts)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rows = await self.query(sql, **params)
            if rows:
                return rows
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no rows after {timeout:.0f}s for: {sql}")
            await asyncio.sleep(0.2)

    async def query(self, sql: str, **params: Any) -> list[Any]:
        engine: AsyncEngine = create_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()


@pytest.fixture
def watchclub(bot_process: BotLauncher, server: ClubServer, database_url: str) -> WatchClub:
    return WatchClub(bot_process, server, database_url)
