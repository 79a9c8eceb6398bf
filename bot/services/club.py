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
DEFAULT_POLL_DAYS = 7

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
    poll_close_days: int
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
            poll_close_days=club.poll_close_days,
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
    poll_days: int | None = None


POLL_DAYS_MAX = 30


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

    `/club setup` states the whole configuration: a role left out means no role. The timezone
    and poll_days, when left out, keep their current value (UTC and 7 days the first time),
    because shows and polls hang on them.
    """
    if request.discussion_kind not in DISCUSSION_KINDS:
        raise UserError("The discussion channel must be a forum channel or a text channel.")
    if request.ping_role_id is not None and request.ping_role_id == request.guild_id:
        raise UserError("@everyone can't be the ping role: pick a role members can opt into, or leave it out.")
    timezone = validate_timezone(request.timezone) if request.timezone is not None else None
    if request.poll_days is not None and not 1 <= request.poll_days <= POLL_DAYS_MAX:
        raise UserError(f"poll_days is how long a poll with no next episode stays open: 1 to {POLL_DAYS_MAX} days.")

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
    if request.poll_days is not None:
        club.poll_close_days = request.poll_days
    elif club.poll_close_days is None:
        club.poll_close_days = DEFAULT_POLL_DAYS
    club.updated_at = now
    await session.commit()
    return ClubSettings.of(club)
