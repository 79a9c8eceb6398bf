"""The one server-side moderator check.

`default_permissions` on a command group is only a hint server admins can override (and it
is ignored on subcommands), so every moderator command checks again here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import discord
from discord import app_commands

from bot.services.club import get_club

if TYPE_CHECKING:
    from bot.client import WatchClubBot

T = TypeVar("T")
Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"

NOT_A_MODERATOR = (
    "This command is for the club's moderators: you need the Manage Server permission"
    "{role}. Ask a moderator if something needs changing."
)


class NotModerator(app_commands.CheckFailure):
    pass


async def is_moderator(interaction: Interaction) -> bool:
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        return False
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    async with interaction.client.session_factory() as session:
        club = await get_club(session, interaction.guild.id)
    if club is not None and club.moderator_role_id is not None:
        return any(role.id == club.moderator_role_id for role in interaction.user.roles)
    return False


async def _moderator_predicate(interaction: Interaction) -> bool:
    if await is_moderator(interaction):
        return True
    role_hint = ""
    if interaction.guild is not None:
        async with interaction.client.session_factory() as session:
            club = await get_club(session, interaction.guild.id)
        if club is not None and club.moderator_role_id is not None:
            role = interaction.guild.get_role(club.moderator_role_id)
            role_hint = f" or the @{role.name} role" if role else ""
    raise NotModerator(NOT_A_MODERATOR.format(role=role_hint))


def moderator_only() -> Callable[[T], T]:
    return app_commands.check(_moderator_predicate)
