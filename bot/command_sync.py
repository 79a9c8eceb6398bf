"""Sync the slash commands only when the command set changed (never on every start).

Discord rate-limits command registration hard, and a global sync takes a while to reach
every client; so the bot hashes the command payloads it would send and compares with the
hash it stored after its last successful sync for the same application and scope.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import discord
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AppState
from bot.db.upsert import dialect_name, upsert

log = logging.getLogger(__name__)


def command_set_hash(tree: app_commands.CommandTree[discord.Client], guild: discord.Object | None) -> str:
    payload = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)),
        key=lambda entry: (entry.get("type", 1), entry["name"]),
    )
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def state_key(application_id: int, guild: discord.Object | None) -> str:
    scope = f"guild:{guild.id}" if guild else "global"
    return f"commands:{application_id}:{scope}"


async def stored_hash(session: AsyncSession, key: str) -> str | None:
    state = await session.get(AppState, key)
    return state.value if state else None


async def store_hash(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    statement = upsert(dialect_name(session), AppState.__table__, ["key"], ["value", "updated_at"])  # type: ignore[arg-type]
    await session.execute(statement, {"key": key, "value": value, "updated_at": now})
    await session.commit()


async def sync_if_changed(
    tree: app_commands.CommandTree[discord.Client],
    session: AsyncSession,
    application_id: int,
    guild: discord.Object | None,
    now: datetime,
) -> bool:
    """Sync `guild`'s commands (global when None) if they changed; True when a sync happened."""
    key = state_key(application_id, guild)
    current = command_set_hash(tree, guild)
    if await stored_hash(session, key) == current:
        log.info("slash commands unchanged (%s); not syncing", key)
        return False
    synced = await tree.sync(guild=guild)
    await store_hash(session, key, current, now)
    log.info("synced %d slash commands (%s)", len(synced), key)
    return True
