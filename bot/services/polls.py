"""Per-episode half-star rating polls: opening, closing, statistics, and what `/rate` rates.

A poll is one `rating_poll` row per episode, opened by the drop (or lazily by `/rate` when the
drop could not open it) and closed at the next episode's drop, or `poll_close_days` after its
own drop for the last episode. Votes are written by `bot.services.votes.VoteWriter`; the rules
for when a poll takes votes live here (`PollInfo.accepts_votes_at`, `PollClosedError`).

Ratings are integer half stars, 1 (½ star) to 10 (5 stars).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Episode, RatingPoll, Show, Vote
from bot.db.upsert import insert_ignore
from bot.errors import UserError
from bot.services.shows import check_episode_number, is_aired, resolve_show

HALF_STARS = range(1, 11)
ALLOWED_STARS = "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5 or 5"
DEFAULT_CLOSE_DAYS = 7


def discord_time(instant: datetime, style: str = "f") -> str:
    """Discord timestamp markup (shown in each member's own time zone), without Discord types."""
    return f"<t:{math.floor(instant.timestamp())}:{style}>"


class PollClosedError(UserError):
    """A vote for a poll that no longer takes votes."""

    def __init__(self, closed_on: datetime) -> None:
        super().__init__(f"This poll closed on {discord_time(closed_on, 'f')}; its result is final.")
        self.closed_on = closed_on


class PollGoneError(UserError):
    def __init__(self) -> None:
        super().__init__("This poll no longer exists (its show was removed), so there is nothing to rate.")


@dataclass(frozen=True)
class PollInfo:
    id: int
    episode_id: int
    show_id: int
    guild_id: int
    show_title: str
    episode_number: int
    channel_id: int | None
    message_id: int | None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None

    @property
    def closed_on(self) -> datetime:
        """When it stopped taking votes: its close time, or earlier if it was closed earlier."""
        if self.closed_at is not None and self.closed_at < self.closes_at:
            return self.closed_at
        return self.closes_at

    def accepts_votes_at(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at


@dataclass(frozen=True)
class PollStats:
    """A poll's ratings. `histogram[0]` counts ½ star, `histogram[9]` counts 5 stars."""

    histogram: tuple[int, ...] = (0,) * len(HALF_STARS)

    @property
    def count(self) -> int:
        return sum(self.histogram)

    @property
    def average(self) -> float | None:
        """The mean rating in stars (None without ratings)."""
        if not self.count:
            return None
        half_stars = sum(count * value for value, count in zip(HALF_STARS, self.histogram, strict=True))
        return half_stars / (2 * self.count)


@dataclass(frozen=True)
class RatingTarget:
    """What `/rate` rates; `created` when its poll row was opened just now (no message)."""

    poll: PollInfo
    created: bool


# --- stars ----------------------------------------------------------------------------------


def parse_stars(value: str | float) -> int:
    """Stars as typed (0.5-5 in half steps) to half stars (1-10); anything else is refused."""
    try:
        stars = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except ValueError:
        stars = math.nan
    half_stars = stars * 2
    if not math.isfinite(half_stars) or half_stars != round(half_stars) or int(half_stars) not in HALF_STARS:
        raise UserError(f"Ratings go from 0.5 to 5 stars in half steps: {ALLOWED_STARS}.")
    return int(half_stars)


def check_half_stars(half_stars: int) -> int:
    if half_stars not in HALF_STARS:
        raise UserError(f"Ratings go from 0.5 to 5 stars in half steps: {ALLOWED_STARS}.")
    return half_stars


# --- reading --------------------------------------------------------------------------------


def _info_query() -> Select[RatingPoll, int, int, int, str]:
    return (
        select(RatingPoll, Episode.number, Show.id, Show.guild_id, Show.title)
        .join(Episode, Episode.id == RatingPoll.episode_id)
        .join(Show, Show.id == Episode.show_id)
        .execution_options(populate_existing=True)
    )


def _info(poll: RatingPoll, number: int, show_id: int, guild_id: int, title: str) -> PollInfo:
    return PollInfo(
        id=poll.id,
        episode_id=poll.episode_id,
        show_id=show_id,
        guild_id=guild_id,
        show_title=title,
        episode_number=number,
        channel_id=poll.channel_id,
        message_id=poll.message_id,
        opened_at=poll.opened_at,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
    )


async def get_poll(session: AsyncSession, poll_id: int) -> PollInfo | None:
    row = (await session.execute(_info_query().where(RatingPoll.id == poll_id))).one_or_none()
    return _info(*row) if row is not None else None


async def poll_for_episode(session: AsyncSession, episode_id: int) -> PollInfo | None:
    row = (await session.execute(_info_query().where(RatingPoll.episode_id == episode_id))).one_or_none()
    return _info(*row) if row is not None else None


async def poll_stats(session: AsyncSession, poll_id: int) -> PollStats:
    """Count, average and histogram in one grouped query (at most ten rows)."""
    rows = await session.execute(
        select(Vote.half_stars, func.count()).where(Vote.poll_id == poll_id).group_by(Vote.half_stars)
    )
    histogram = [0] * len(HALF_STARS)
    for half_stars, count in rows:
        if half_stars in HALF_STARS:
            histogram[half_stars - 1] = int(count)
    return PollStats(tuple(histogram))


@dataclass(frozen=True)
class SeasonScore:
    """A show's rating so far: the mean of its episodes' averages, in stars."""

    stars: float
    ratings: int
    rated_episodes: int


async def season_scores(session: AsyncSession, guild_id: int) -> dict[int, SeasonScore]:
    """Each rated show's score so far, for the show list (one grouped query per server)."""
    rows = await session.execute(
        select(Episode.show_id, func.avg(Vote.half_stars), func.count())
        .select_from(Vote)
        .join(RatingPoll, RatingPoll.id == Vote.poll_id)
        .join(Episode, Episode.id == RatingPoll.episode_id)
        .join(Show, Show.id == Episode.show_id)
        .where(Show.guild_id == guild_id)
        .group_by(Episode.show_id, RatingPoll.id)
    )
    per_show: dict[int, list[tuple[float, int]]] = {}
    for show_id, average, count in rows:
        per_show.setdefault(show_id, []).append((float(average) / 2, int(count)))
    return {
        show_id: SeasonScore(
            stars=sum(a for a, _ in episodes) / len(episodes),
            ratings=sum(c for _, c in episodes),
            rated_episodes=len(episodes),
        )
        for show_id, episodes in per_show.items()
    }


# --- opening and closing --------------------------------------------------------------------


async def open_poll(session: AsyncSession, episode_id: int, closes_at: datetime, now: datetime) -> PollInfo:
    """The episode's poll, created if it does not exist yet (a retried drop gets the same one)."""
    await insert_ignore(
        session,
        RatingPoll.__table__,  # type: ignore[arg-type]
        ["episode_id"],
        {"episode_id": episode_id, "opened_at": now, "closes_at": closes_at},
    )
    await session.commit()
    info = await poll_for_episode(session, episode_id)
    if info is None:  # pragma: no cover - the episode was deleted in between
        raise PollGoneError()
    return info


async def attach_message(session: AsyncSession, poll_id: int, channel_id: int, message_id: int) -> None:
    await session.execute(
        update(RatingPoll).where(RatingPoll.id == poll_id).values(channel_id=channel_id, message_id=message_id)
    )
    await session.commit()


async def close_poll(session: AsyncSession, poll_id: int, now: datetime) -> PollStats:
    """Close the poll (again: no change) and return its final statistics.

    The UPDATE comes first so that, in the same transaction, the statistics see every vote the
    vote writer committed before it: the writer holds a share lock on the poll row while it
    writes (PostgreSQL) or the database's single write lock (SQLite), and re-checks the poll
    under it, so no vote lands after the close. A close that runs late (the bot was down at
    `closes_at`) records `closes_at`: no vote was taken after it anyway.
    """
    closes_at = await session.scalar(select(RatingPoll.closes_at).where(RatingPoll.id == poll_id))
    if closes_at is None:
        raise PollGoneError()
    await session.execute(
        update(RatingPoll)
        .where(RatingPoll.id == poll_id, RatingPoll.closed_at.is_(None))
        .values(closed_at=min(now, closes_at))
    )
    stats = await poll_stats(session, poll_id)
    await session.commit()
    return stats


# --- /rate ----------------------------------------------------------------------------------


def planned_close(show: Show, episode: Episode) -> datetime:
    """When the episode's poll closes: the next episode's drop, else `poll_close_days` after it."""
    following = next((e for e in show.episodes if e.number == episode.number + 1), None)
    if following is not None:
        return following.air_at
    days = show.club.poll_close_days if show.club is not None else DEFAULT_CLOSE_DAYS
    return episode.air_at + timedelta(days=days)


async def resolve_rating_target(
    session: AsyncSession, guild_id: int, show_name: str, episode_number: int, now: datetime
) -> RatingTarget:
    """The poll `/rate show episode` votes in.

    An aired episode without a poll row (its drop was missed while the bot was down, or the
    show was added after it aired) gets one now, without a message, closing when its poll
    would have; if that time has passed already, the vote is refused as closed.
    """
    show = await resolve_show(session, guild_id, show_name)
    episode = check_episode_number(show, episode_number)
    if not is_aired(show, episode, now):
        when = f"it drops {discord_time(episode.air_at, 'R')}" if show.paused_at is None else "the show is paused"
        raise UserError(f"E{episode_number:02d} of **{show.title}** hasn't aired yet ({when}); rate it once it has.")
    existing = await poll_for_episode(session, episode.id)
    if existing is not None:
        return RatingTarget(existing, created=False)
    closes_at = planned_close(show, episode)
    if closes_at <= now:
        raise PollClosedError(closes_at)
    return RatingTarget(await open_poll(session, episode.id, closes_at, now), created=True)
