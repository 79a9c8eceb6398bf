"""The command contract (PRODUCT.md): names, options and Discord's limits, without a gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from discord import app_commands

from bot.client import WatchClubBot, extension_names
from bot.clock import SystemClock
from bot.config import Settings
from bot.db.engine import SessionFactory

CONTRACT = {
    "club setup": ["announcements", "discussions", "ping_role", "timezone"],
    "club show": [],
    "show add": ["title", "episodes", "weekday", "time", "timezone", "start", "platform", "season", "reminder"],
    "show edit": ["show"],
    "show remove": ["show"],
    "show skip": ["show", "date"],
    "show delay": ["show", "episode", "to"],
    "show title": ["show", "episode", "title"],
    "show pause": ["show"],
    "show resume": ["show"],
    "show list": [],
    "show info": ["show"],
    "schedule": [],
    "show thread": ["show", "episode"],
    "rate": ["show", "episode", "stars"],
    "watched": ["show", "episode"],
    "progress": [],
    "spoiler": ["show", "episode", "text"],
    "season survey": ["show"],
    "season wrapup": ["show", "publish"],
}


@pytest.fixture
async def bot(session_factory: SessionFactory) -> AsyncIterator[WatchClubBot]:
    bot = WatchClubBot(Settings(), session_factory, SystemClock())
    for name in extension_names():
        await bot.load_extension(name)
    yield bot
    await bot.close()


def flatten(tree: app_commands.CommandTree[Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for command in tree.get_commands():
        payload = command.to_dict(tree)
        subcommands = [o for o in payload.get("options", []) if o["type"] in (1, 2)]
        if not subcommands:
            found[payload["name"]] = payload
        for sub in subcommands:
            found[f"{payload['name']} {sub['name']}"] = sub
    return found


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_contract_commands_and_options_exist(bot: WatchClubBot) -> None:
    commands = flatten(bot.tree)
    for name, options in CONTRACT.items():
        assert name in commands, f"/{name} is missing"
        present = [o["name"] for o in commands[name].get("options", [])]
        assert present[: len(options)] == options or set(options) <= set(present), (name, present)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_discord_limits(bot: WatchClubBot) -> None:
    names = [c.name for c in bot.tree.get_commands()]
    assert len(names) == len(set(names))
    for name, payload in flatten(bot.tree).items():
        assert 1 <= len(payload["description"]) <= 100, name
        options = payload.get("options", [])
        assert len(options) <= 25, name
        required_seen_optional = False
        for option in options:
            assert option["name"] == option["name"].lower() and len(option["name"]) <= 32
            assert 1 <= len(option["description"]) <= 100, (name, option["name"])
            if not option.get("required"):
                required_seen_optional = True
            else:
                assert not required_seen_optional, f"/{name}: required option after an optional one"


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_moderator_commands_default_to_manage_server(bot: WatchClubBot) -> None:
    club = next(c for c in bot.tree.get_commands() if c.name == "club")
    assert club.to_dict(bot.tree)["default_member_permissions"] in (32, "32")
    for command in bot.tree.get_commands():
        assert command.to_dict(bot.tree).get("contexts") in (None, [0]), command.name
