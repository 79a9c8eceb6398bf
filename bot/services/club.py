"""Club setup: one configuration per server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Club
from bot.errors import UserError
from bot.services.timezones import validate_timezone

DISCUSSION_KINDS = ("forum", "text")
DEFAULT_TIMEZONE = "UTC"

NO_CLUB = "This server has no watch club yet: a moderator sets it up with `/club setup`."


@dataclass(frozen=True)
class ClubSettings:
    guild_id: int
    announcement_channel_id: int
    discussion_channel_id: int
    discussion_kind: str
    ping_role_id: int | None
    moderator_role_id: int | None
    timezone: str
    updated_at: datetime

    @classmethod
    def of(cls, club: Club) -> ClubSettings:
        return cls(
            guild_id=club.guild_id,
            announcement_channel_id=club.announcement_channel_id,
            discussion_channel_id=club.discussion_channel_id,
            discussion_kind=club.discussion_kind,
            ping_role_id=club.ping_role_id,
            moderator_role_id=club.moderator_role_id,
            timezone=club.timezone,
            updated_at=club.updated_at,
        )


@dataclass(frozen=True)
class ClubSetup:
    """What a moderator asked for in `/club setup` (ids only; the cog checked channel types)."""

    guild_id: int
    announcement_channel_id: int
    discussion_channel_id: int
    discussion_kind: str
    ping_role_id: int | None = None
    timezone: str | None = None
    moderator_role_id: int | None = None


async def get_club(session: AsyncSession, guild_id: int) -> ClubSettings | None:
    club = await session.get(Club, guild_id)
    return ClubSettings.of(club) if club else None


async def require_club(session: AsyncSession, guild_id: int) -> ClubSettings:
    club = await get_club(session, guild_id)
    if club is None:
        raise UserError(NO_CLUB)
    return club


async def setup_club(session: AsyncSession, request: ClubSetup, now: datetime) -> ClubSettings:
    """Create or replace the club's configuration; validation happens before any write.

    `/club setup` states the whole configuration: a role left out means no role. Only the
    timezone, when left out, keeps its current value (UTC the first time), because every
    show's default hangs on it.
    """
    if request.discussion_kind not in DISCUSSION_KINDS:
        raise UserError("The discussion channel must be a forum channel or a text channel.")
    if request.ping_role_id is not None and request.ping_role_id == request.guild_id:
        raise UserError("@everyone can't be the ping role: pick a role members can opt into, or leave it out.")
    timezone = validate_timezone(request.timezone) if request.timezone is not None else None

    club = await session.get(Club, request.guild_id)
    if club is None:
        club = Club(guild_id=request.guild_id, created_at=now, timezone=timezone or DEFAULT_TIMEZONE)
        session.add(club)
    elif timezone is not None:
        club.timezone = timezone
    club.announcement_channel_id = request.announcement_channel_id
    club.discussion_channel_id = request.discussion_channel_id
    club.discussion_kind = request.discussion_kind
    club.ping_role_id = request.ping_role_id
    club.moderator_role_id = request.moderator_role_id
    club.updated_at = now
    await session.commit()
    return ClubSettings.of(club)
