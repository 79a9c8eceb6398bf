"""The rating so far in /show list and /show info: the mean of episode averages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Vote
from bot.services import polls
from bot.services.discussions import aired_episode
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR, GUILD_ID, OTHER_GUILD_ID, TITLE

AFTER_E02 = E01_AIR + timedelta(days=7, hours=1)


async def rate(session: AsyncSession, number: int, half_stars: list[int]) -> None:
    episode = await aired_episode(session, GUILD_ID, TITLE, number, AFTER_E02)
    poll = await polls.open_poll(session, episode.episode_id, AFTER_E02 + timedelta(days=7), AFTER_E02)
    session.add_all(
        Vote(poll_id=poll.id, user_id=i, half_stars=h, updated_at=AFTER_E02) for i, h in enumerate(half_stars)
    )
    await session.commit()


async def test_score_is_the_mean_of_episode_averages(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    show = await make_show(session, BEFORE_SEASON)
    assert await polls.season_scores(session, GUILD_ID) == {}
    await rate(session, 1, [8, 8, 8, 8])  # E01: 4 stars, four ratings
    await rate(session, 2, [5])  # E02: 2.5 stars, one rating
    score = (await polls.season_scores(session, GUILD_ID))[show.id]
    assert score.stars == pytest.approx(3.25)  # not 3.7, the mean of the five ratings
    assert (score.ratings, score.rated_episodes) == (5, 2)
    assert await polls.season_scores(session, OTHER_GUILD_ID) == {}
