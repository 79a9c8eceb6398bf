"""The season wrap-up: a season of drops, threads, ratings and survey answers, summed up.

Everything comes from grouped queries, so a season of 26 episodes rated by thousands of
members costs a few hundred rows, not one row per vote:

- ratings: one COUNT per (episode, half-star value) — the histogram. Averages are computed
  from it exactly (fractions), so SQLite and PostgreSQL agree to the last digit and a tie is
  a real tie, not a float accident;
- raters: COUNT(DISTINCT user); progress: two filtered COUNTs; threads: one row per episode;
- survey: one COUNT per distinct spelling of each answer, merged here by their words.

Averages are compared and shown at two decimals: two episodes that both show ★ 3.67 are tied.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import Episode, EpisodeThread, RatingPoll, Show, SurveyAnswer, Vote, WatchProgress
from bot.services.shows import is_aired, resolve_show

HALF_STEPS = 10  # ½ star ... 5 stars
TOP_FAVOURITES = 3
VERDICTS_SHOWN = 3


def hundredths(value: Fraction) -> int:
    """An average as shown (two decimals, half to even); equal hundredths means tied."""
    return round(value * 100)


@dataclass(frozen=True)
class EpisodeStats:
    number: int
    title: str | None
    air_at: datetime
    aired: bool
    # Ratings per half-star value: histogram[0] is ½ star, histogram[9] is 5 stars.
    histogram: tuple[int, ...]
    # Messages members posted in its discussion thread (None: no thread was opened).
    messages: int | None

    @property
    def ratings(self) -> int:
        """How many members rated it (one vote per member)."""
        return sum(self.histogram)

    @property
    def exact_average(self) -> Fraction | None:
        if not self.ratings:
            return None
        half_stars = sum(count * (index + 1) for index, count in enumerate(self.histogram))
        return Fraction(half_stars, 2 * self.ratings)

    @property
    def average(self) -> float | None:
        exact = self.exact_average
        return None if exact is None else float(exact)

    @property
    def shown_average(self) -> int | None:
        """The average in hundredths of a star, as displayed and compared."""
        exact = self.exact_average
        return None if exact is None else hundredths(exact)


@dataclass(frozen=True)
class Pick:
    """The best (or worst) episode; `episodes` holds every episode tied for the place, the
    one shown first: more ratings wins a tie, then the earlier episode."""

    episodes: tuple[EpisodeStats, ...]
    shown_average: int  # hundredths of a star

    @property
    def episode(self) -> EpisodeStats:
        return self.episodes[0]

    @property
    def tied(self) -> bool:
        return len(self.episodes) > 1

    @property
    def decided_by(self) -> str | None:
        """Why the first of tied episodes is the one shown (None when there is no tie)."""
        if not self.tied:
            return None
        return "more ratings" if self.episodes[0].ratings > self.episodes[1].ratings else "the earlier episode"


@dataclass(frozen=True)
class Discussed:
    """The episode(s) whose threads got the most messages."""

    numbers: tuple[int, ...]
    messages: int


@dataclass(frozen=True)
class Favourite:
    label: str  # the most common spelling members used
    count: int


@dataclass(frozen=True)
class SurveySummary:
    respondents: int
    characters: tuple[Favourite, ...]
    moments: tuple[Favourite, ...]
    least_moments: tuple[Favourite, ...]
    more: dict[str, int]  # yes / maybe / no -> members
    verdicts: tuple[str, ...]

    @property
    def more_answers(self) -> int:
        return sum(self.more.values())

    @property
    def more_please(self) -> Fraction | None:
        """The share of "yes, more please" among members who answered that question."""
        if not self.more_answers:
            return None
        return Fraction(self.more.get("yes", 0), self.more_answers)


@dataclass(frozen=True)
class WrapUp:
    show_id: int
    guild_id: int
    title: str
    season: str | None
    platform: str | None
    timezone: str
    episode_count: int
    episodes: tuple[EpisodeStats, ...]  # every episode of the show, aired or not
    raters: int  # members who rated at least one episode
    finished: int  # members who marked the whole season watched
    caught_up: int  # members who have watched every episode aired so far
    best: Pick | None
    worst: Pick | None  # None unless two rated episodes differ
    most_discussed: Discussed | None
    survey: SurveySummary
    generated_at: datetime

    @property
    def aired(self) -> tuple[EpisodeStats, ...]:
        return tuple(e for e in self.episodes if e.aired)

    @property
    def aired_count(self) -> int:
        return len(self.aired)

    @property
    def complete(self) -> bool:
        return self.aired_count >= self.episode_count

    @property
    def rated(self) -> tuple[EpisodeStats, ...]:
        return tuple(e for e in self.episodes if e.ratings)

    @property
    def ratings(self) -> int:
        """Every rating behind the season score."""
        return sum(e.ratings for e in self.episodes)

    @property
    def exact_score(self) -> Fraction | None:
        """The season score: the mean of the episode averages (each episode counts once)."""
        averages = [e.exact_average for e in self.rated]
        known = [a for a in averages if a is not None]
        return sum(known, Fraction(0)) / len(known) if known else None

    @property
    def score(self) -> float | None:
        exact = self.exact_score
        return None if exact is None else float(exact)

    @property
    def shown_score(self) -> int | None:
        exact = self.exact_score
        return None if exact is None else hundredths(exact)


# --- pure helpers -----------------------------------------------------------------------------


def answer_key(text: str) -> str:
    """How answers are grouped: case and spacing do not matter."""
    return " ".join(text.casefold().split())


def group_answers(spellings: Iterable[tuple[str, int]], limit: int = TOP_FAVOURITES) -> tuple[Favourite, ...]:
    """Merge (spelling, count) pairs by their words; label each group with its most common
    spelling (ties: alphabetical). The `limit` biggest groups, biggest first, ties by label."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for spelling, count in spellings:
        shown = " ".join(spelling.split())
        key = answer_key(shown)
        if key:
            groups[key][shown] += count
    favourites = []
    for counter in groups.values():
        label = min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
        favourites.append(Favourite(label, sum(counter.values())))
    favourites.sort(key=lambda f: (-f.count, answer_key(f.label), f.label))
    return tuple(favourites[:limit])


def pick(episodes: Sequence[EpisodeStats], best: bool) -> Pick | None:
    """The highest (or lowest) shown average among rated episodes, with every episode tied."""
    rated = [(e.shown_average, e) for e in episodes if e.shown_average is not None]
    if not rated:
        return None
    target = max(a for a, _ in rated) if best else min(a for a, _ in rated)
    tied = sorted((e for a, e in rated if a == target), key=lambda e: (-e.ratings, e.number))
    return Pick(tuple(tied), target)


def best_and_worst(episodes: Sequence[EpisodeStats]) -> tuple[Pick | None, Pick | None]:
    """No worst episode while every rated episode scores the same (one rated episode, too)."""
    best, worst = pick(episodes, best=True), pick(episodes, best=False)
    if best is not None and worst is not None and best.shown_average == worst.shown_average:
        return best, None
    return best, worst


def most_discussed(episodes: Sequence[EpisodeStats]) -> Discussed | None:
    counts = [(e.messages, e.number) for e in episodes if e.messages]
    if not counts:
        return None
    top = max(m for m, _ in counts)
    return Discussed(tuple(sorted(n for m, n in counts if m == top)), top)


# --- queries ------------------------------------------------------------------------------------


async def _histograms(session: AsyncSession, show_id: int) -> dict[int, list[int]]:
    statement = (
        select(Episode.number, Vote.half_stars, func.count())
        .select_from(Vote)
        .join(RatingPoll, RatingPoll.id == Vote.poll_id)
        .join(Episode, Episode.id == RatingPoll.episode_id)
        .where(Episode.show_id == show_id)
        .group_by(Episode.number, Vote.half_stars)
    )
    histograms: dict[int, list[int]] = defaultdict(lambda: [0] * HALF_STEPS)
    for number, half_stars, count in await session.execute(statement):
        if 1 <= half_stars <= HALF_STEPS:
            histograms[number][half_stars - 1] = int(count)
    return histograms


async def _raters(session: AsyncSession, show_id: int) -> int:
    statement = (
        select(func.count(distinct(Vote.user_id)))
        .select_from(Vote)
        .join(RatingPoll, RatingPoll.id == Vote.poll_id)
        .join(Episode, Episode.id == RatingPoll.episode_id)
        .where(Episode.show_id == show_id)
    )
    return int(await session.scalar(statement) or 0)


async def _messages(session: AsyncSession, show_id: int) -> dict[int, int]:
    statement = (
        select(Episode.number, EpisodeThread.message_count)
        .join(EpisodeThread, EpisodeThread.episode_id == Episode.id)
        .where(Episode.show_id == show_id)
    )
    return {number: int(count or 0) for number, count in await session.execute(statement)}


async def _progress(session: AsyncSession, show_id: int, episode_count: int, aired: int) -> tuple[int, int]:
    """(members who watched the whole season, members caught up with what has aired)."""
    finished = func.count().filter(WatchProgress.episode_number >= episode_count)
    caught_up = func.count().filter(WatchProgress.episode_number >= aired)
    row = (await session.execute(select(finished, caught_up).where(WatchProgress.show_id == show_id))).one()
    return int(row[0] or 0), (int(row[1] or 0) if aired else 0)


async def _spellings(
    session: AsyncSession, show_id: int, column: InstrumentedAttribute[str | None]
) -> list[tuple[str, int]]:
    statement = (
        select(column, func.count())
        .where(SurveyAnswer.show_id == show_id, column.is_not(None), column != "")
        .group_by(column)
    )
    return [(str(text), int(count)) for text, count in await session.execute(statement)]


async def _survey(session: AsyncSession, show_id: int) -> SurveySummary:
    more_rows = await session.execute(
        select(SurveyAnswer.more, func.count()).where(SurveyAnswer.show_id == show_id).group_by(SurveyAnswer.more)
    )
    more: dict[str, int] = {}
    respondents = 0
    for choice, count in more_rows:
        respondents += int(count)
        if choice:
            more[str(choice)] = int(count)
    verdict_rows = await session.execute(
        select(SurveyAnswer.verdict)
        .where(SurveyAnswer.show_id == show_id, SurveyAnswer.verdict.is_not(None), SurveyAnswer.verdict != "")
        .order_by(SurveyAnswer.updated_at.desc(), SurveyAnswer.user_id)
        .limit(VERDICTS_SHOWN * 4)
    )
    verdicts: list[str] = []
    for (verdict,) in verdict_rows:  # the latest few, each said once
        if verdict and answer_key(verdict) not in {answer_key(v) for v in verdicts}:
            verdicts.append(verdict)
    return SurveySummary(
        respondents=respondents,
        characters=group_answers(await _spellings(session, show_id, SurveyAnswer.favourite_character)),
        moments=group_answers(await _spellings(session, show_id, SurveyAnswer.favourite_moment)),
        least_moments=group_answers(await _spellings(session, show_id, SurveyAnswer.least_favourite_moment)),
        more=more,
        verdicts=tuple(verdicts[:VERDICTS_SHOWN]),
    )


def _episode_stats(
    show: Show, now: datetime, histograms: dict[int, list[int]], messages: dict[int, int]
) -> tuple[EpisodeStats, ...]:
    return tuple(
        EpisodeStats(
            number=e.number,
            title=e.title,
            air_at=e.air_at,
            aired=is_aired(show, e, now),
            histogram=tuple(histograms.get(e.number, [0] * HALF_STEPS)),
            messages=messages.get(e.number),
        )
        for e in sorted(show.episodes, key=lambda e: e.number)
    )


async def build_wrapup(session: AsyncSession, guild_id: int, show_name: str, now: datetime) -> WrapUp:
    """The wrap-up of one of this server's shows, as it stands at `now` (mid-season too)."""
    show = await resolve_show(session, guild_id, show_name)
    episodes = _episode_stats(show, now, await _histograms(session, show.id), await _messages(session, show.id))
    aired = sum(1 for e in episodes if e.aired)
    finished, caught_up = await _progress(session, show.id, show.episode_count, aired)
    best, worst = best_and_worst(episodes)
    return WrapUp(
        show_id=show.id,
        guild_id=show.guild_id,
        title=show.title,
        season=show.season,
        platform=show.platform,
        timezone=show.timezone,
        episode_count=show.episode_count,
        episodes=episodes,
        raters=await _raters(session, show.id),
        finished=finished,
        caught_up=caught_up,
        best=best,
        worst=worst,
        most_discussed=most_discussed(episodes),
        survey=await _survey(session, show.id),
        generated_at=now,
    )
