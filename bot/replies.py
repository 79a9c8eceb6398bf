"""Answering interactions: errors become one clear, private message."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserError

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side and nothing was changed. If it keeps happening, "
    "give a moderator this error id: `{error_id}`."
)


async def send_ephemeral(interaction: discord.Interaction[Any], content: str, **kwargs: Any) -> None:
    """Reply privately whether or not the interaction was already answered or deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and (
        error.__cause__ is not None or getattr(error, "original", None) is not None
    ):
        inner = getattr(error, "original", None) or error.__cause__
        if inner is None or inner is error:
            break
        error = inner
    return error


def user_message(interaction: discord.Interaction[Any], error: BaseException) -> str:
    """What the user reads for `error`; unexpected errors are logged here with an error id."""
    original = _unwrap(error)
    if isinstance(original, UserError):
        return original.message
    if isinstance(original, app_commands.TransformerError):
        expected = original.transformer._error_display_name or original.type.name.replace("_", " ")
        return f"That value doesn't fit this option (it needs a {expected}). Pick one from Discord's list."
    if isinstance(original, app_commands.CheckFailure) and str(original):
        return str(original)
    if isinstance(original, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {original.retry_after:.0f} s."
    error_id = secrets.token_hex(4)
    command = interaction.command.qualified_name if interaction.command else interaction.data
    log.error(
        "interaction failed [error id %s] command=%s guild=%s user=%s",
        error_id,
        command,
        interaction.guild_id,
        interaction.user.id if interaction.user else None,
        exc_info=original,
    )
    return APOLOGY.format(error_id=error_id)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    message = user_message(interaction, error)
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not tell the user about an error (interaction %s)", interaction.id)


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The server the interaction came from (every WatchClub command is server-only)."""
    if interaction.guild is None:
        raise UserError("Use this command in a server where the watch club runs, not in DMs.")
    return interaction.guild


class ReportingView(discord.ui.View):
    """A view whose callback errors are answered like command errors (ephemeral message)."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)
