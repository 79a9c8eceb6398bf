"""Autocomplete callbacks shared by the cogs. Each is one cheap lookup (no deferring possible)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.services.shows import search_titles
from bot.services.timezones import search_timezones


async def timezone_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in search_timezones(current, limit=25)]


async def show_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """This server's shows whose title contains what was typed (case-insensitive)."""
    if interaction.guild_id is None:
        return []
    async with interaction.client.session_factory() as session:
        titles = await search_titles(session, interaction.guild_id, current[:100])
    return [app_commands.Choice(name=title, value=title) for title in titles]
