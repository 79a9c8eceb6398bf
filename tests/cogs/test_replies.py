"""The one error handler: what a member reads for each kind of failure."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.errors import UserError
from bot.replies import user_message


def interaction() -> Any:
    return SimpleNamespace(
        command=SimpleNamespace(qualified_name="show add"), data={}, guild_id=1, user=SimpleNamespace(id=2)
    )


def test_user_error_is_shown_as_is() -> None:
    wrapped = app_commands.CommandInvokeError(SimpleNamespace(name="add"), UserError("Pick a weekday."))  # type: ignore[arg-type]
    assert user_message(interaction(), wrapped) == "Pick a weekday."


def test_a_value_of_the_wrong_type_gets_a_plain_explanation() -> None:
    transformer = app_commands.transformers.BaseChannelTransformer(discord.TextChannel)
    error = app_commands.TransformerError("123", discord.AppCommandOptionType.channel, transformer)
    message = user_message(interaction(), error)
    assert "doesn't fit this option" in message
    assert "Failed to convert" not in message


def test_unexpected_errors_are_logged_with_an_id_and_apologised_for(caplog: pytest.LogCaptureFixture) -> None:
    wrapped = app_commands.CommandInvokeError(SimpleNamespace(name="add"), RuntimeError("database exploded"))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        message = user_message(interaction(), wrapped)
    assert "database exploded" not in message
    error_id = message.split("`")[1]
    assert error_id in caplog.text
    assert "database exploded" in caplog.text
