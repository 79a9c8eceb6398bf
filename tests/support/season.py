"""A seeded season for wrap-up tests and the bench, built from the source documents.

Metallic Rouge (Winter 2024, 13 episodes): the weekly reviews (003) rate E01 "Crimson Is the
Sound of Dawn" 4 stars and E02 "Wander in the Labyrinth" 2.5 stars; the season wrap-up (001)
says it "peaked too soon", names Rouge, Naomi and Ash Stahl, and ends with "Nah, I'm done".
The club below rates in half stars the way those write-ups do.

Rows are written with bulk inserts (polls, votes, threads, progress, survey answers), so the
same builder seeds 130,000 votes for the bench in a few seconds. Club and show go through the
services, like a moderator would make them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Episode, EpisodeThread, RatingPoll, SurveyAnswer, Vote, WatchProgress
from bot.services.shows import ShowForm, ShowInfo
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, EPISODE_TITLES, FORUM_CHANNEL, GUILD_ID, METALLIC_ROUGE

# E07 aired 2024-02-23 04:30 UTC, E08 airs 2024-03-01: seven of thirteen episodes are out.
MID_SEASON = datetime(2024, 2, 25, 12, 0, tzinfo=UTC)
# E13 aired 2024-04-05 03:30 UTC; its poll closed a week later.
AFTER_SEASON = datetime(2024, 4, 15, 12, 0, tzinfo=UTC)

MEMBER = 1001  # the first member's user id; member i is MEMBER + i

# Half stars (1 = ½ star ... 10 = 5 stars), one per member, member 0 first.
SEASON_VOTES: dict[int, tuple[int, ...]] = {
    1: (8, 8, 9, 7, 8),  # 4.00: "a promising start"
    2: (5, 5, 4, 6, 5),  # 2.50: "heavy on the action but light on the characters"
    3: (7, 7, 6, 8, 7),  # 3.50
    4: (7, 6, 7, 6),  # 3.25
    5: (6, 7, 7, 7, 6),  # 3.30
    6: (6, 6, 7, 5),  # 3.00
    7: (7, 6, 6, 5, 6, 6),  # 3.00
    8: (6, 5, 6, 5),  # 2.75
    9: (5, 6, 6, 5, 7),  # 2.90
    10: (5, 5, 6, 4),  # 2.50
    11: (4, 5, 5, 4, 5),  # 2.30
    12: (4, 4, 3, 5),  # 2.00: the Puppeteer reveal that cuts away
    13: (6, 5, 7, 6, 5, 7),  # 3.00
}
SEASON_SCORE = 38 / 13  # the mean of the thirteen averages above: 2.92
SEASON_RATINGS = 62

# Messages in each episode's discussion thread; E12 got the most.
SEASON_MESSAGES = {1: 42, 2: 18, 3: 25, 4: 21, 5: 30, 6: 12, 7: 16, 8: 9, 9: 14, 10: 11, 11: 27, 12: 57, 13: 40}

# How far each member got: four finished, one stopped at E12, one at E07.
SEASON_PROGRESS = {MEMBER: 13, MEMBER + 1: 13, MEMBER + 2: 13, MEMBER + 3: 13, MEMBER + 4: 12, MEMBER + 5: 7}


@dataclass(frozen=True)
class Answers:
    favourite_character: str | None = None
    favourite_moment: str | None = None
    least_favourite_moment: str | None = None
    more: str | None = None
    verdict: str | None = None


SEASON_ANSWERS: dict[int, Answers] = {
    MEMBER: Answers(
        "Ash Stahl",
        "The gritty Mars of the first episodes",
        "Ash knows who the Puppeteer is, and it cuts away",
        "no",
        "Fine. Too many ideas for thirteen episodes.",
    ),
    MEMBER + 1: Answers(
        "Rouge Redstar", "Nectar stolen and re-stolen", "The Puppeteer reveal", "maybe", "It should have been amazing."
    ),
    MEMBER + 2: Answers("rouge  redstar", "the gritty  MARS of the first episodes", "the puppeteer reveal", "yes"),
    MEMBER + 3: Answers("ROUGE REDSTAR", "Rouge vs Viola", None, "yes", "Peaked too soon."),
    MEMBER + 4: Answers("Rouge Redstar", None, "The Puppeteer reveal ", None, None),
    MEMBER + 5: Answers(
        "Naomi Orthmann", "Rouge vs Viola", None, "yes", "@everyone watch Dirty Pair <@&123456789012345678>"
    ),
}


@dataclass(frozen=True)
class Season:
    """What to seed; every part defaults to the Metallic Rouge club above."""

    form: ShowForm = METALLIC_ROUGE
    titles: Mapping[int, str] = field(default_factory=lambda: dict(EPISODE_TITLES))
    votes: Mapping[int, Sequence[int]] = field(default_factory=lambda: dict(SEASON_VOTES))
    messages: Mapping[int, int] = field(default_factory=lambda: dict(SEASON_MESSAGES))
    progress: Mapping[int, int] = field(default_factory=lambda: dict(SEASON_PROGRESS))
    answers: Mapping[int, Answers] = field(default_factory=lambda: dict(SEASON_ANSWERS))
    guild_id: int = GUILD_ID
    first_member: int = MEMBER

    def until(self, episode: int) -> Season:
        """The same season as it stood when `episode` was the latest to air."""
        return Season(
            form=self.form,
            titles=self.titles,
            votes={n: v for n, v in self.votes.items() if n <= episode},
            messages={n: m for n, m in self.messages.items() if n <= episode},
            progress={u: min(p, episode) for u, p in self.progress.items()},
            answers=self.answers,
            guild_id=self.guild_id,
            first_member=self.first_member,
        )


async def seed_season(session: AsyncSession, season: Season, now: datetime, with_club: bool = True) -> ShowInfo:
    """Create the club (unless it exists), the show, and everything members did up to `now`."""
    if with_club:
        await make_club(session, BEFORE_SEASON, guild_id=season.guild_id)
    info = await make_show(session, BEFORE_SEASON, season.form, guild_id=season.guild_id)
    episodes = {
        row.number: row for row in (await session.execute(select(Episode).where(Episode.show_id == info.id))).scalars()
    }
    for number, title in season.titles.items():
        await session.execute(update(Episode).where(Episode.id == episodes[number].id).values(title=title))
    await _seed_polls(session, season, episodes, now)
    await _seed_threads(session, season, episodes)
    await _seed_members(session, season, info.id, now)
    await session.commit()
    return info


async def _seed_polls(session: AsyncSession, season: Season, episodes: Mapping[int, Episode], now: datetime) -> None:
    week = timedelta(days=7)
    for number, half_stars in sorted(season.votes.items()):
        episode = episodes[number]
        if episode.air_at > now:
            raise ValueError(f"E{number:02d} has not aired at {now}: it can't have votes")
        following = episodes.get(number + 1)
        closes_at = following.air_at if following is not None else episode.air_at + week
        poll_id = await session.scalar(
            insert(RatingPoll)
            .values(
                episode_id=episode.id,
                opened_at=episode.air_at,
                closes_at=closes_at,
                closed_at=closes_at if closes_at <= now else None,
            )
            .returning(RatingPoll.id)
        )
        rows = [
            {"poll_id": poll_id, "user_id": season.first_member + index, "half_stars": value, "updated_at": now}
            for index, value in enumerate(half_stars)
        ]
        if rows:
            await session.execute(insert(Vote), rows)


async def _seed_threads(session: AsyncSession, season: Season, episodes: Mapping[int, Episode]) -> None:
    rows = [
        {
            "episode_id": episodes[number].id,
            "guild_id": season.guild_id,
            "thread_id": 8_000_000 + episodes[number].id,
            "parent_channel_id": FORUM_CHANNEL,
            "message_count": count,
            "created_at": episodes[number].air_at,
        }
        for number, count in sorted(season.messages.items())
    ]
    if rows:
        await session.execute(insert(EpisodeThread), rows)


async def _seed_members(session: AsyncSession, season: Season, show_id: int, now: datetime) -> None:
    progress = [
        {"show_id": show_id, "user_id": user, "episode_number": number, "updated_at": now}
        for user, number in sorted(season.progress.items())
    ]
    if progress:
        await session.execute(insert(WatchProgress), progress)
    answers = [
        {
            "show_id": show_id,
            "user_id": user,
            "favourite_character": a.favourite_character,
            "favourite_moment": a.favourite_moment,
            "least_favourite_moment": a.least_favourite_moment,
            "more": a.more,
            "verdict": a.verdict,
            "updated_at": now - timedelta(minutes=index),  # the first member answered last
        }
        for index, (user, a) in enumerate(sorted(season.answers.items()))
    ]
    if answers:
        await session.execute(insert(SurveyAnswer), answers)
