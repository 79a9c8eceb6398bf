"""Shows and their weekly schedules: add, edit, break weeks, delays, pause/resume, listings.

Every change recomputes the episodes' air instants (`slots.place_episodes`) and the show's
`next_due_at` in the same transaction; the cog then asks the scheduler to look again.
Validation happens before anything is written, so a refused change writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models import BreakWeek, Club, DropAction, Episode, RatingPoll, Show
from bot.errors import NotFoundError, UserError
from bot.services.club import require_club
from bot.services.drop_plan import load_show, next_due
from bot.services.slots import (
    WEEKDAYS,
    WeeklySlot,
    local_to_utc,
    next_slot_date,
    parse_date,
    parse_local_datetime,
    parse_time,
    parse_weekday,
    place_episodes,
    slot_date_in_week,
    slots_between,
)
from bot.services.timezones import validate_timezone

TITLE_MAX = 80
EPISODES_MAX = 500
LABEL_MAX = 40
EPISODE_TITLE_MAX = 200
REMINDER_MAX = 7 * 24 * 60
DEFAULT_REMINDER = 60
CLEAR = "-"
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2100, 1, 1)


@dataclass(frozen=True)
class ShowForm:
    """What a moderator typed in `/show add` or `/show edit` (None: not given)."""

    title: str | None = None
    episodes: int | None = None
    weekday: str | None = None
    time: str | None = None
    timezone: str | None = None
    start: str | None = None
    platform: str | None = None
    season: str | None = None
    reminder: int | None = None


@dataclass(frozen=True)
class EpisodeInfo:
    number: int
    title: str | None
    air_at: datetime
    aired: bool
    delayed: bool
    announced: str | None  # the announcement's status: done / missed / failed / ... or None


@dataclass(frozen=True)
class ShowInfo:
    id: int
    guild_id: int
    title: str
    season: str | None
    platform: str | None
    episode_count: int
    slot: WeeklySlot
    start_date: date
    reminder_minutes: int
    paused: bool
    episodes: tuple[EpisodeInfo, ...]
    breaks: tuple[date, ...]

    @property
    def aired_count(self) -> int:
        return sum(1 for e in self.episodes if e.aired)

    @property
    def next_episode(self) -> EpisodeInfo | None:
        if self.paused:
            return None
        return next((e for e in self.episodes if not e.aired), None)

    @property
    def finished(self) -> bool:
        return self.aired_count >= self.episode_count

    def episode(self, number: int) -> EpisodeInfo:
        return self.episodes[number - 1]


@dataclass(frozen=True)
class Drop:
    show_title: str
    platform: str | None
    number: int
    episode_count: int
    title: str | None
    air_at: datetime


# --- validation -----------------------------------------------------------------------------


def title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def clean_title(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise UserError("A title must be one line.")
    title = " ".join(text.split())
    if not title:
        raise UserError("The title can't be empty.")
    if len(title) > TITLE_MAX:
        raise UserError(f"That title is {len(title)} characters; the limit is {TITLE_MAX}. Shorten it a little.")
    return title


def clean_label(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    label = " ".join(text.split())
    if not label or label == CLEAR:
        return None
    if len(label) > LABEL_MAX:
        raise UserError(f"The {what} can be at most {LABEL_MAX} characters.")
    return label


def check_episodes(count: int) -> int:
    if not 1 <= count <= EPISODES_MAX:
        raise UserError(f"A show has between 1 and {EPISODES_MAX} episodes.")
    return count


def check_reminder(minutes: int) -> int:
    if not 0 <= minutes <= REMINDER_MAX:
        raise UserError(f"The reminder is in minutes before the drop, 0 (none) to {REMINDER_MAX} (a week).")
    return minutes


def check_start(text: str) -> date:
    start = parse_date(text, "start date")
    if not EARLIEST_START <= start < LATEST_START:
        raise UserError("The start date should be the date of episode 1, e.g. `2024-01-11`.")
    return start


def check_episode_number(show: Show, number: int) -> Episode:
    episode = next((e for e in show.episodes if e.number == number), None)
    if episode is None:
        raise UserError(f"**{show.title}** has episodes 1 to {show.episode_count}; there is no episode {number}.")
    return episode


# --- reading --------------------------------------------------------------------------------


def is_aired(show: Show, episode: Episode, now: datetime) -> bool:
    """Aired = its drop instant has passed (while the show was not paused)."""
    if show.paused_at is not None and episode.air_at > show.paused_at:
        return False
    return episode.air_at <= now


def show_info(show: Show, now: datetime) -> ShowInfo:
    episodes = tuple(
        EpisodeInfo(
            number=e.number,
            title=e.title,
            air_at=e.air_at,
            aired=is_aired(show, e, now),
            delayed=e.delayed_to is not None,
            announced=next((a.status for a in e.actions if a.kind == "announce"), None),
        )
        for e in sorted(show.episodes, key=lambda e: e.number)
    )
    return ShowInfo(
        id=show.id,
        guild_id=show.guild_id,
        title=show.title,
        season=show.season,
        platform=show.platform,
        episode_count=show.episode_count,
        slot=slot_of(show),
        start_date=show.start_date,
        reminder_minutes=show.reminder_minutes,
        paused=show.paused_at is not None,
        episodes=episodes,
        breaks=tuple(sorted(b.slot_date for b in show.breaks)),
    )


def slot_of(show: Show) -> WeeklySlot:
    return WeeklySlot(show.weekday, show.slot_time, show.timezone)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_titles(session: AsyncSession, guild_id: int, query: str, limit: int = 25) -> list[str]:
    """Titles of this server's shows containing `query` (case-insensitive), for autocomplete."""
    statement = select(Show.title).where(Show.guild_id == guild_id)
    key = title_key(query)
    if key:
        statement = statement.where(Show.title_key.like(f"%{_like_escape(key)}%", escape="\\"))
    rows = await session.execute(statement.order_by(Show.title_key).limit(limit))
    return list(rows.scalars())


async def resolve_show(session: AsyncSession, guild_id: int, name: str) -> Show:
    """The show a member meant: the exact title (any case), or the one title containing it."""
    key = title_key(name)
    if not key:
        raise UserError("Name a show: start typing its title and pick it from the list.")
    ids = (
        (await session.execute(select(Show.id).where(Show.guild_id == guild_id, Show.title_key == key))).scalars().all()
    )
    if not ids:
        pattern = f"%{_like_escape(key)}%"
        ids = (
            (
                await session.execute(
                    select(Show.id).where(Show.guild_id == guild_id, Show.title_key.like(pattern, escape="\\")).limit(3)
                )
            )
            .scalars()
            .all()
        )
    if len(ids) == 1:
        show = await load_show(session, ids[0])
        if show is not None:
            return show
    shown = " ".join(name.split())[:TITLE_MAX]
    if len(ids) > 1:
        raise UserError(f"More than one show matches `{shown}`: pick the one you mean from the list.")
    raise NotFoundError(f"There's no show called `{shown}` in this server. Start typing and pick one from the list.")


async def get_show(session: AsyncSession, guild_id: int, name: str, now: datetime) -> ShowInfo:
    return show_info(await resolve_show(session, guild_id, name), now)


async def list_shows(session: AsyncSession, guild_id: int, now: datetime) -> list[ShowInfo]:
    statement = (
        select(Show)
        .where(Show.guild_id == guild_id)
        .options(selectinload(Show.episodes).selectinload(Episode.actions), selectinload(Show.breaks))
        .order_by(Show.title_key)
    )
    shows = (await session.execute(statement)).scalars().all()
    return [show_info(show, now) for show in shows]


async def coming_drops(session: AsyncSession, guild_id: int, now: datetime, days: int = 7) -> list[Drop]:
    """Drops in the next `days` days across the club's shows that are not paused, in time order."""
    statement = (
        select(Show.title, Show.platform, Show.episode_count, Episode.number, Episode.title, Episode.air_at)
        .join(Episode, Episode.show_id == Show.id)
        .where(
            Show.guild_id == guild_id,
            Show.paused_at.is_(None),
            Episode.air_at > now,
            Episode.air_at <= now + timedelta(days=days),
        )
        .order_by(Episode.air_at, Show.title_key)
    )
    rows = await session.execute(statement)
    return [Drop(r[0], r[1], r[3], r[2], r[4], r[5]) for r in rows]


async def show_count(session: AsyncSession, guild_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Show).where(Show.guild_id == guild_id)) or 0)


# --- changing ---------------------------------------------------------------------------------


async def add_show(session: AsyncSession, guild_id: int, form: ShowForm, now: datetime) -> ShowInfo:
    club = await require_club(session, guild_id)
    if form.title is None or form.episodes is None or form.weekday is None or form.time is None:
        raise UserError("A show needs a title, an episode count, a weekday and a time.")
    title = clean_title(form.title)
    count = check_episodes(form.episodes)
    slot = WeeklySlot(
        parse_weekday(form.weekday),
        parse_time(form.time),
        validate_timezone(form.timezone) if form.timezone else club.timezone,
    )
    start = check_start(form.start) if form.start else next_slot_date(slot, now)
    platform = clean_label(form.platform, "platform")
    season = clean_label(form.season, "season")
    reminder = check_reminder(form.reminder if form.reminder is not None else DEFAULT_REMINDER)
    await _refuse_duplicate(session, guild_id, title)

    show = Show(
        club=await session.get(Club, guild_id),
        title=title,
        title_key=title_key(title),
        episode_count=count,
        weekday=slot.weekday,
        slot_time=slot.time,
        timezone=slot.timezone,
        start_date=start,
        platform=platform,
        season=season,
        reminder_minutes=reminder,
        created_at=now,
        updated_at=now,
    )
    show.episodes = []
    show.breaks = []
    session.add(show)
    await reschedule(session, show, now)
    await session.commit()
    return await _reloaded_info(session, show.id, now)


async def edit_show(session: AsyncSession, guild_id: int, name: str, form: ShowForm, now: datetime) -> ShowInfo:
    show = await resolve_show(session, guild_id, name)
    if form.title is not None:
        title = clean_title(form.title)
        if title_key(title) != show.title_key:
            await _refuse_duplicate(session, guild_id, title)
        show.title, show.title_key = title, title_key(title)
    if form.episodes is not None:
        count = check_episodes(form.episodes)
        aired = sum(1 for e in show.episodes if is_aired(show, e, now))
        if count < aired:
            raise UserError(f"{aired} episodes of **{show.title}** have already aired; the count can't go below that.")
        show.episode_count = count
    if form.weekday is not None:
        show.weekday = parse_weekday(form.weekday)
    if form.time is not None:
        show.slot_time = parse_time(form.time)
    if form.timezone is not None:
        show.timezone = validate_timezone(form.timezone)
    if form.start is not None:
        start = check_start(form.start)
        if any(is_aired(show, e, now) for e in show.episodes) and start != show.start_date:
            raise UserError("Episodes have already aired, so the start date can't change. Use `/show delay` instead.")
        show.start_date = start
    if form.platform is not None:
        show.platform = clean_label(form.platform, "platform")
    if form.season is not None:
        show.season = clean_label(form.season, "season")
    if form.reminder is not None:
        show.reminder_minutes = check_reminder(form.reminder)
    show.updated_at = now
    await reschedule(session, show, now)
    await session.commit()
    return await _reloaded_info(session, show.id, now)


async def remove_show(session: AsyncSession, guild_id: int, show_id: int) -> str:
    show = await session.get(Show, show_id)
    if show is None or show.guild_id != guild_id:
        raise NotFoundError("That show is already gone.")
    title = show.title
    await session.delete(show)
    await session.commit()
    return title


async def skip_week(
    session: AsyncSession, guild_id: int, name: str, day_text: str, now: datetime, undo: bool = False
) -> tuple[ShowInfo, date]:
    """Mark (or with `undo`, unmark) the slot in the week of `day_text` as a break week."""
    show = await resolve_show(session, guild_id, name)
    day = parse_date(day_text)
    slot = slot_of(show)
    slot_date = slot_date_in_week(slot.weekday, day)
    existing = next((b for b in show.breaks if b.slot_date == slot_date), None)
    when = f"{WEEKDAYS[slot.weekday]} {slot_date.isoformat()}"
    if local_to_utc(slot_date, slot.time, slot.zone) <= now:
        raise UserError(f"The slot on {when} has already passed; break weeks are for the future.")
    if undo:
        if existing is None:
            raise UserError(f"{when} is not a break week for **{show.title}**.")
        show.breaks.remove(existing)
    else:
        if existing is not None:
            raise UserError(f"{when} is already a break week for **{show.title}**.")
        if not any(slot_date == p.slot_date for p in _placements(show, now)):
            raise UserError(f"No episode of **{show.title}** drops in the slot on {when}, so there is nothing to skip.")
        show.breaks.append(BreakWeek(show_id=show.id, slot_date=slot_date))
    show.updated_at = now
    await reschedule(session, show, now)
    await session.commit()
    return await _reloaded_info(session, show.id, now), slot_date


async def delay_episode(
    session: AsyncSession, guild_id: int, name: str, number: int, to_text: str, now: datetime
) -> ShowInfo:
    show = await resolve_show(session, guild_id, name)
    episode = check_episode_number(show, number)
    if is_aired(show, episode, now):
        raise UserError(f"E{number:02d} of **{show.title}** has already aired.")
    day, at = parse_local_datetime(to_text)
    instant = local_to_utc(day, at, slot_of(show).zone)
    if instant <= now:
        raise UserError(f"{to_text.strip()} ({show.timezone}) has already passed: pick a time in the future.")
    previous = next((e for e in show.episodes if e.number == number - 1), None)
    if previous is not None and instant <= previous.air_at:
        raise UserError(f"E{number:02d} can't drop before E{number - 1:02d}; pick a later time.")
    episode.delayed_to = instant
    show.updated_at = now
    await reschedule(session, show, now)
    await session.commit()
    return await _reloaded_info(session, show.id, now)


async def set_episode_title(
    session: AsyncSession, guild_id: int, name: str, number: int, title: str, now: datetime
) -> ShowInfo:
    show = await resolve_show(session, guild_id, name)
    episode = check_episode_number(show, number)
    cleaned = " ".join(title.split())
    if "\n" in title or "\r" in title:
        raise UserError("An episode title must be one line.")
    if len(cleaned) > EPISODE_TITLE_MAX:
        raise UserError(f"Episode titles can be at most {EPISODE_TITLE_MAX} characters.")
    episode.title = None if cleaned in ("", CLEAR) else cleaned
    show.updated_at = now
    await session.commit()
    return await _reloaded_info(session, show.id, now)


async def pause_show(session: AsyncSession, guild_id: int, name: str, now: datetime) -> ShowInfo:
    show = await resolve_show(session, guild_id, name)
    if show.paused_at is not None:
        raise UserError(f"**{show.title}** is already paused; `/show resume` starts it again.")
    if all(is_aired(show, e, now) for e in show.episodes):
        raise UserError(f"**{show.title}** has finished; there is nothing left to pause.")
    show.paused_at = now
    show.next_due_at = None
    show.updated_at = now
    await session.commit()
    return await _reloaded_info(session, show.id, now)


async def resume_show(session: AsyncSession, guild_id: int, name: str, now: datetime) -> ShowInfo:
    """Resume: the slots that passed while paused become break weeks, so the next episode
    drops at the next slot and nothing is announced for the weeks in between."""
    show = await resolve_show(session, guild_id, name)
    if show.paused_at is None:
        raise UserError(f"**{show.title}** isn't paused.")
    slot = slot_of(show)
    known = {b.slot_date for b in show.breaks}
    for day in slots_between(slot, show.start_date, show.paused_at, now + timedelta(seconds=1)):
        if day not in known:
            show.breaks.append(BreakWeek(show_id=show.id, slot_date=day))
    for episode in show.episodes:
        if episode.delayed_to is not None and show.paused_at < episode.delayed_to <= now:
            episode.delayed_to = None
    # Reschedule while still paused, so episodes that would have aired during the pause count
    # as unaired and move past the new break weeks.
    await reschedule(session, show, now)
    show.paused_at = None
    show.next_due_at = next_due(show, now)
    show.updated_at = now
    await session.commit()
    return await _reloaded_info(session, show.id, now)


# --- the schedule ---------------------------------------------------------------------------


def _placements(show: Show, now: datetime) -> list:  # type: ignore[type-arg]
    aired = {e.number: e.air_at for e in show.episodes if is_aired(show, e, now)}
    delays = {e.number: e.delayed_to for e in show.episodes if e.delayed_to and e.number not in aired}
    return place_episodes(
        slot_of(show),
        show.start_date,
        show.episode_count,
        frozenset(b.slot_date for b in show.breaks),
        delays,
        aired,
    )


async def reschedule(session: AsyncSession, show: Show, now: datetime) -> None:
    """Recompute every unaired episode's instant and the show's next due time.

    Aired episodes keep their instant. An episode that moves gets a fresh set of actions (a
    heads-up sent for its old time is sent again for the new one). An episode that a change
    puts in the past is marked as aired before tracking: a schedule change never triggers a
    surprise late announcement, only real downtime does.
    """
    by_number = {e.number: e for e in show.episodes}
    stale_actions: list[int] = []
    for placement in _placements(show, now):
        episode = by_number.get(placement.number)
        if episode is None:
            episode = Episode(number=placement.number, air_at=placement.air_at, before_tracking=placement.air_at <= now)
            episode.actions = []
            show.episodes.append(episode)
            continue
        if episode.air_at != placement.air_at:
            if episode.air_at > now and placement.air_at <= now:
                episode.before_tracking = True
            elif placement.air_at > now:
                episode.before_tracking = False
                stale_actions.append(episode.id)
            episode.air_at = placement.air_at
    for number, episode in by_number.items():
        if number > show.episode_count:
            show.episodes.remove(episode)
    if stale_actions:
        await session.execute(delete(DropAction).where(DropAction.episode_id.in_(stale_actions)))
    await session.flush()
    await _follow_poll_closing(session, show)
    await load_show(session, show.id)  # refreshes `show` in place, relations loaded
    show.next_due_at = next_due(show, now)


async def _follow_poll_closing(session: AsyncSession, show: Show) -> None:
    """Open polls close at the next episode's drop, wherever the schedule moved it."""
    open_polls = (
        await session.execute(
            select(RatingPoll.id, Episode.number)
            .join(Episode, Episode.id == RatingPoll.episode_id)
            .where(Episode.show_id == show.id, RatingPoll.closed_at.is_(None))
        )
    ).all()
    if not open_polls:
        return
    air = {e.number: e.air_at for e in show.episodes}
    days = timedelta(days=show.club.poll_close_days)
    for poll_id, number in open_polls:
        closes_at = air.get(number + 1) or air[number] + days
        await session.execute(update(RatingPoll).where(RatingPoll.id == poll_id).values(closes_at=closes_at))


async def _refuse_duplicate(session: AsyncSession, guild_id: int, title: str) -> None:
    exists = await session.scalar(select(Show.id).where(Show.guild_id == guild_id, Show.title_key == title_key(title)))
    if exists is not None:
        raise UserError(
            f"There's already a show called **{title}** here. Pick another title, or change it with `/show edit`."
        )


async def _reloaded_info(session: AsyncSession, show_id: int, now: datetime) -> ShowInfo:
    show = await load_show(session, show_id)
    if show is None:  # pragma: no cover - we just wrote it
        raise NotFoundError("That show is gone.")
    return show_info(show, now)
