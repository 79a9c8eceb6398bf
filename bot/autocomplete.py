"""Autocomplete callbacks shared by the cogs. Each is one cheap lookup (no deferring possible)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.services.timezones import search_timezones


async def timezone_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in search_timezones(current, limit=25)]
