"""`/club setup` and `/club show`: the club's configuration (moderators)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import timezone_autocomplete
from bot.checks import moderator_only
from bot.permissions import channel_problems, checks_for, forum_tag_problem, ping_role_problem
from bot.render.club import action_problem_line, club_embed
from bot.replies import guild_of
from bot.services import club as club_service
from bot.services.club import ClubSettings, ClubSetup
from bot.services.drops import recent_problems

if TYPE_CHECKING:
    from bot.client import WatchClubBot

Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"


class ClubCog(commands.Cog):
    club = app_commands.Group(
        name="club",
        description="Set up and check the watch club (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot

    @club.command(name="setup", description="Configure the club's channels, ping role and timezone")
    @app_commands.describe(
        announcements="Channel where drops are announced",
        discussions="A forum (one post per episode) or a text channel (one thread per episode)",
        ping_role="Role to ping when an episode drops (leave out for no ping)",
        timezone="The club's default timezone, e.g. America/New_York",
        moderator_role="A role that may use the moderator commands besides Manage Server",
        poll_days="Days a finale's rating poll stays open (1-30, default 7)",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    @moderator_only()
    async def setup(
        self,
        interaction: Interaction,
        announcements: discord.TextChannel,
        discussions: discord.ForumChannel | discord.TextChannel,
        ping_role: discord.Role | None = None,
        timezone: str | None = None,
        moderator_role: discord.Role | None = None,
        poll_days: app_commands.Range[int, 1, 30] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        request = ClubSetup(
            guild_id=guild.id,
            announcement_channel_id=announcements.id,
            discussion_channel_id=discussions.id,
            discussion_kind="forum" if isinstance(discussions, discord.ForumChannel) else "text",
            ping_role_id=ping_role.id if ping_role else None,
            timezone=timezone,
            moderator_role_id=moderator_role.id if moderator_role else None,
            poll_days=poll_days,
        )
        async with self.bot.session_factory() as session:
            club = await club_service.setup_club(session, request, self.bot.clock.now())
        await interaction.response.send_message(
            "Saved. This is the club now:", embed=await self._embed(guild, club), ephemeral=True
        )

    @club.command(name="show", description="Show the club's configuration and any problems I can see")
    @moderator_only()
    async def show(self, interaction: Interaction) -> None:
        guild = guild_of(interaction)
        async with self.bot.session_factory() as session:
            club = await club_service.require_club(session, guild.id)
        await interaction.response.send_message(embed=await self._embed(guild, club), ephemeral=True)

    async def _embed(self, guild: discord.Guild, club: ClubSettings) -> discord.Embed:
        return club_embed(club, await self.problems(guild, club))

    async def problems(self, guild: discord.Guild, club: ClubSettings) -> list[str]:
        checks = checks_for(club.announcement_channel_id, club.discussion_channel_id, club.discussion_kind)
        problems = channel_problems(guild, checks)
        for extra in (
            ping_role_problem(guild, club.ping_role_id, club.announcement_channel_id),
            forum_tag_problem(guild, club.discussion_channel_id),
        ):
            if extra:
                problems.append(extra)
        async with self.bot.session_factory() as session:
            recent = await recent_problems(session, guild.id, self.bot.clock.now())
        problems.extend(action_problem_line(problem) for problem in recent[-10:])
        return problems


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(ClubCog(bot))
