"""The Bot subclass: `setup_hook` wires the database, the scheduler, the cogs and the commands."""

from __future__ import annotations

import gc
import logging
import pkgutil
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

import cogs
from bot.clock import Clock
from bot.command_sync import sync_if_changed
from bot.config import Settings
from bot.db.engine import SessionFactory
from bot.publisher import DiscordPublisher
from bot.replies import report_error
from bot.scheduler import Scheduler
from bot.services.drops import DropRunner, due_shows

log = logging.getLogger(__name__)


class WatchClubTree(app_commands.CommandTree["WatchClubBot"]):
    async def on_error(
        self, interaction: discord.Interaction[WatchClubBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


def bot_intents() -> discord.Intents:
    """Minimal, no privileged intent: guilds (channels, roles, threads) and message events
    (counted per discussion thread; their content stays empty without the privileged intent)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    return intents


def extension_names() -> list[str]:
    """Every public module or package in `cogs/` (names starting with `_` are helpers)."""
    return sorted(
        f"cogs.{module.name}" for module in pkgutil.iter_modules(cogs.__path__) if not module.name.startswith("_")
    )


class WatchClubBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory,
        clock: Clock,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=WatchClubTree,
            **options,
        )
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.scheduler = Scheduler(clock)
        self._shutting_down = False
        self.publisher = DiscordPublisher(self)
        self.drops = DropRunner(
            session_factory,
            clock,
            self.publisher,
            grace=timedelta(hours=settings.drop_grace_hours),
            reschedule=self.schedule_show,
        )

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        await self._sync_commands()
        self.scheduler.start()
        await self.rebuild_jobs()
        # Everything loaded so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise stall the event loop for 100+ ms.
        gc.freeze()

    async def rebuild_jobs(self) -> int:
        """One job per show with something due, from the database (the source of truth)."""
        async with self.session_factory() as session:
            due = await due_shows(session)
        for show_id, when in due:
            self.schedule_show(show_id, when)
        log.info("scheduled %d shows", len(due))
        return len(due)

    def schedule_show(self, show_id: int, when: datetime | None) -> None:
        job_id = f"show:{show_id}"
        if when is None:
            self.scheduler.cancel(job_id)
        else:
            self.scheduler.schedule(job_id, when, self.drops.run_show, show_id)

    def show_changed(self, show_id: int) -> None:
        """After a moderator's change: look at the show now (the runner reschedules it)."""
        self.schedule_show(show_id, self.clock.now())

    async def _sync_commands(self) -> None:
        if self.application_id is None:
            log.warning("no application id yet; slash commands not synced")
            return
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            async with self.session_factory() as session:
                await sync_if_changed(self.tree, session, self.application_id, guild, self.clock.now())
        except discord.HTTPException as exc:
            # The bot still answers commands registered earlier; the next start tries again.
            log.error("could not sync slash commands: %s %s", exc.status, exc.text)

    async def close(self) -> None:
        if not self._shutting_down:  # SIGTERM and `async with bot` both close
            self._shutting_down = True
            log.info("shutting down")
            await self.scheduler.aclose()  # a drop being posted finishes first
        await super().close()
