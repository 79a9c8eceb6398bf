from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Club
from bot.errors import UserError
from bot.services import club as club_service
from bot.services.club import ClubSetup

GUILD = 1100


def setup_request(**overrides: object) -> ClubSetup:
    values: dict[str, object] = {
        "guild_id": GUILD,
        "announcement_channel_id": 11,
        "discussion_channel_id": 12,
        "discussion_kind": "forum",
    }
    values.update(overrides)
    return ClubSetup(**values)  # type: ignore[arg-type]


async def test_setup_then_read_back(session: AsyncSession, clock: ManualClock) -> None:
    saved = await club_service.setup_club(
        session, setup_request(ping_role_id=77, timezone="america/new_york"), clock.now()
    )
    assert saved.timezone == "America/New_York"
    read = await club_service.get_club(session, GUILD)
    assert read == saved
    assert read is not None and read.ping_role_id == 77 and read.discussion_kind == "forum"


async def test_timezone_defaults_to_utc_then_is_kept(session: AsyncSession, clock: ManualClock) -> None:
    first = await club_service.setup_club(session, setup_request(), clock.now())
    assert first.timezone == "UTC"
    await club_service.setup_club(session, setup_request(timezone="Asia/Tokyo"), clock.now())
    again = await club_service.setup_club(session, setup_request(discussion_kind="text"), clock.now())
    assert again.timezone == "Asia/Tokyo"
    assert again.discussion_kind == "text"


async def test_unknown_timezone_is_refused_with_a_suggestion_and_nothing_written(
    session: AsyncSession, clock: ManualClock
) -> None:
    with pytest.raises(UserError) as caught:
        await club_service.setup_club(session, setup_request(timezone="Europe/Londn"), clock.now())
    assert "Europe/London" in str(caught.value)
    assert await session.get(Club, GUILD) is None


async def test_everyone_role_cannot_be_the_ping_role(session: AsyncSession, clock: ManualClock) -> None:
    with pytest.raises(UserError, match="@everyone"):
        await club_service.setup_club(session, setup_request(ping_role_id=GUILD), clock.now())
    assert await session.get(Club, GUILD) is None


async def test_require_club_explains_setup(session: AsyncSession) -> None:
    with pytest.raises(UserError, match="/club setup"):
        await club_service.require_club(session, GUILD)


async def test_clubs_are_per_server(session: AsyncSession, clock: ManualClock) -> None:
    await club_service.setup_club(session, setup_request(), clock.now())
    assert await club_service.get_club(session, GUILD + 1) is None
