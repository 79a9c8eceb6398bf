"""Episode threads at each drop, `/spoiler`, `/watched` and `/progress`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import show_autocomplete
from bot.render.discussions import progress_embed, watched_reply
from bot.render.spoilers import spoiler_message
from bot.replies import guild_of
from bot.services import discussions as service
from bot.services.drops import DropContext, MessageRef, Posted, with_done
from bot.services.shows import EPISODES_MAX
from bot.threads import OpenedThread, ThreadOpener, ThreadRequest

if TYPE_CHECKING:
    from bot.client import WatchClubBot

log = logging.getLogger(__name__)
Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"

COUNT_FLUSH_SECONDS = 15
SPOILER_TEXT_MAX = 1800
EPISODE = app_commands.Range[int, 1, EPISODES_MAX]


class DiscussionsCog(commands.Cog):
    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot
        self.threads = ThreadOpener(bot)
        self._episode_threads: set[int] = set()
        self._counts: Counter[int] = Counter()
        self._flusher: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.publisher.register("thread", self.open_thread_for_drop)
        async with self.bot.session_factory() as session:
            self._episode_threads = await service.episode_thread_ids(session)
        self._flusher = asyncio.create_task(self._flush_counts_forever())

    async def cog_unload(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush_counts()

    # --- the drop ------------------------------------------------------------------------------

    async def open_thread_for_drop(self, context: DropContext) -> Posted:
        async with self.bot.session_factory() as session:
            spoiler_tag, show_tag = await service.known_tags(session, context.guild_id, context.show_id)
        request = ThreadRequest(
            guild_id=context.guild_id,
            show_title=context.show_title,
            number=context.episode_number,
            episode_title=context.episode_title,
            air_at=context.air_at,
            platform=context.platform,
            discussion_channel_id=context.discussion_channel_id,
            announcement=context.announcement,
            nonce=context.nonce,
            spoiler_tag_id=spoiler_tag,
            show_tag_id=show_tag,
        )
        opened = await self.threads.open(request)
        await self._remember(context.guild_id, context.show_id, context.episode_id, opened)
        await self.bot.publisher.refresh_announcement(
            with_done(context, "thread", MessageRef(opened.parent_channel_id, opened.thread_id))
        )
        return Posted(opened.parent_channel_id, opened.thread_id, note=opened.note)

    async def _remember(self, guild_id: int, show_id: int, episode_id: int, opened: OpenedThread) -> None:
        now = self.bot.clock.now()
        async with self.bot.session_factory() as session:
            await service.record_thread(session, guild_id, episode_id, opened.thread_id, opened.parent_channel_id, now)
            await service.remember_tags(session, guild_id, show_id, opened.spoiler_tag_id, opened.show_tag_id)
        self._episode_threads.add(opened.thread_id)

    async def reopen_thread(self, interaction: Interaction, show: str, episode: int) -> str:
        """`/show thread`: open the episode's thread again if it was deleted; the reply text."""
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.session_factory() as session:
            ref = await service.aired_episode(session, guild.id, show, episode, now)
            club = await service.club_for(session, guild.id)
            spoiler_tag, show_tag = await service.known_tags(session, guild.id, ref.show_id)
        if ref.thread_id is not None and await self.threads.exists(ref.thread_id):
            return f"E{episode:02d} already has its thread: <#{ref.thread_id}>. Nothing changed."
        request = ThreadRequest(
            guild_id=guild.id,
            show_title=ref.show_title,
            number=ref.number,
            episode_title=ref.title,
            air_at=ref.air_at,
            platform=ref.platform,
            discussion_channel_id=club.discussion_channel_id,
            announcement=ref.announcement,
            nonce=f"wcre{ref.episode_id}x{now.timestamp():.0f}"[:25],
            spoiler_tag_id=spoiler_tag,
            show_tag_id=show_tag,
        )
        opened = await self.threads.open(request)
        await self._remember(guild.id, ref.show_id, ref.episode_id, opened)
        await self._relink(ref.episode_id)
        note = f"\n⚠️ {opened.note}" if opened.note else ""
        return (
            f"Opened a new discussion thread for E{episode:02d}: <#{opened.thread_id}>, "
            f"linked from the announcement.{note}"
        )

    async def _relink(self, episode_id: int) -> None:
        async with self.bot.session_factory() as session:
            context = await service.announcement_context(session, episode_id)
        if context is not None:
            await self.bot.publisher.refresh_announcement(context)

    # --- members -------------------------------------------------------------------------------

    @app_commands.command(name="spoiler", description="Share a spoiler safely: hidden behind a spoiler tag")
    @app_commands.describe(
        show="The show it spoils",
        episode="Spoils up to this episode",
        text="The spoiler (hidden until clicked)",
        image="An image to share, also hidden as a spoiler",
    )
    @app_commands.autocomplete(show=show_autocomplete)
    @app_commands.guild_only()
    async def spoiler(
        self,
        interaction: Interaction,
        show: str,
        episode: EPISODE,
        text: app_commands.Range[str, 1, SPOILER_TEXT_MAX],
        image: discord.Attachment | None = None,
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.session_factory() as session:
            ref = await service.aired_episode(session, guild.id, show, episode, self.bot.clock.now())
        header = f"**Spoiler · {discord.utils.escape_markdown(ref.show_title)} · E{ref.number:02d}**"
        content = spoiler_message(header, text, interaction.user.id)
        if image is None:
            await interaction.response.send_message(content, allowed_mentions=discord.AllowedMentions.none())
            return
        _check_image(image)
        await interaction.response.defer(thinking=True)
        file = await image.to_file(spoiler=True)
        await interaction.followup.send(content, file=file, allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="watched", description="Record how far you've watched; joins you to those threads")
    @app_commands.describe(show="The show", episode="The last episode you've watched")
    @app_commands.autocomplete(show=show_autocomplete)
    @app_commands.guild_only()
    async def watched(self, interaction: Interaction, show: str, episode: EPISODE) -> None:
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.session_factory() as session:
            update = await service.record_progress(session, guild.id, show, interaction.user.id, episode, now)
        if not update.threads_to_join:
            await interaction.response.send_message(watched_reply(update, []), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        joined = [t for t in update.threads_to_join if await self.threads.add_member(guild, t, interaction.user.id)]
        async with self.bot.session_factory() as session:
            await service.record_thread_members(session, interaction.user.id, joined, self.bot.clock.now())
        await interaction.followup.send(watched_reply(update, joined), ephemeral=True)

    @app_commands.command(name="progress", description="Your own progress per show, privately")
    @app_commands.guild_only()
    async def progress(self, interaction: Interaction) -> None:
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.session_factory() as session:
            shows = await service.member_progress(session, guild.id, interaction.user.id, now)
        await interaction.response.send_message(embed=progress_embed(shows, now), ephemeral=True)

    # --- counting messages in episode threads (for the wrap-up) -------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.channel.id not in self._episode_threads:
            return
        self._counts[message.channel.id] += 1

    async def flush_counts(self) -> None:
        if not self._counts:
            return
        counts, self._counts = dict(self._counts), Counter()
        async with self.bot.session_factory() as session:
            await service.add_message_counts(session, counts)

    async def _flush_counts_forever(self) -> None:
        while True:
            await asyncio.sleep(COUNT_FLUSH_SECONDS)
            try:
                await self.flush_counts()
            except Exception:
                log.exception("could not save thread message counts")


def _check_image(image: discord.Attachment) -> None:
    from bot.errors import UserError

    if not (image.content_type or "").startswith("image/"):
        raise UserError("Only images can go with a spoiler; put other files in the episode's thread.")


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(DiscussionsCog(bot))
