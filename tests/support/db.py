"""Helpers for service tests: a configured club and a seeded show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import club as club_service
from bot.services import shows
from bot.services.club import ClubSetup
from bot.services.shows import ShowForm, ShowInfo
from tests.support.seeds import ANNOUNCE_CHANNEL, FORUM_CHANNEL, GUILD_ID, METALLIC_ROUGE, PING_ROLE


async def make_club(
    session: AsyncSession, now: datetime, guild_id: int = GUILD_ID, kind: str = "forum", **extra: object
) -> None:
    request = ClubSetup(
        guild_id=guild_id,
        announcement_channel_id=ANNOUNCE_CHANNEL,
        discussion_channel_id=FORUM_CHANNEL if kind == "forum" else ANNOUNCE_CHANNEL,
        discussion_kind=kind,
        ping_role_id=PING_ROLE,
        timezone="America/New_York",
        **extra,  # type: ignore[arg-type]
    )
    await club_service.setup_club(session, request, now)


async def make_show(
    session: AsyncSession, now: datetime, form: ShowForm = METALLIC_ROUGE, guild_id: int = GUILD_ID
) -> ShowInfo:
    return await shows.add_show(session, guild_id, form, now)
