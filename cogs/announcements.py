"""The heads-up and the drop announcement, performed for the drop runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.render.announcements import announcement, heads_up
from bot.services.drops import DropContext, Posted

if TYPE_CHECKING:
    from bot.client import WatchClubBot


def role_ping_only(role_id: int | None) -> discord.AllowedMentions:
    """Exactly the club's role may be pinged: never @everyone, users, or roles named in titles."""
    roles: list[discord.abc.Snowflake] | bool = [discord.Object(role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


class AnnouncementsCog(commands.Cog):
    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.publisher.register("reminder", self.remind)
        self.bot.publisher.register("announce", self.announce)

    async def remind(self, context: DropContext) -> Posted:
        channel = await self.bot.publisher.messageable(context.announcement_channel_id)
        message = await channel.send(
            heads_up(context), allowed_mentions=discord.AllowedMentions.none(), nonce=context.nonce
        )
        return Posted(channel.id, message.id)

    async def announce(self, context: DropContext) -> Posted:
        channel = await self.bot.publisher.messageable(context.announcement_channel_id)
        message = await channel.send(
            announcement(context), allowed_mentions=role_ping_only(context.ping_role_id), nonce=context.nonce
        )
        return Posted(channel.id, message.id)


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(AnnouncementsCog(bot))
