"""Discussion threads per episode, and members' progress (`/watched`, `/progress`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Club, DropAction, Episode, EpisodeThread, Show, ThreadMember, WatchProgress
from bot.db.upsert import dialect_name, upsert
from bot.errors import UserError
from bot.services.club import ClubSettings, require_club
from bot.services.drop_plan import load_show, timings
from bot.services.drops import DropContext, MessageRef, build_context
from bot.services.shows import is_aired, list_shows, resolve_show


@dataclass(frozen=True)
class EpisodeRef:
    """One aired episode of a show, with what a thread needs to be opened or found."""

    guild_id: int
    show_id: int
    show_title: str
    platform: str | None
    episode_id: int
    number: int
    episode_count: int
    title: str | None
    air_at: datetime
    thread_id: int | None
    announcement: MessageRef | None


@dataclass(frozen=True)
class ProgressUpdate:
    show_title: str
    episode_number: int
    previous: int | None
    aired_count: int
    threads_to_join: tuple[int, ...]  # thread ids, oldest episode first


@dataclass(frozen=True)
class ShowProgress:
    show_title: str
    watched: int | None
    aired_count: int
    episode_count: int
    next_to_watch: int | None
    next_air_at: datetime | None  # when the next episode to watch drops (past: already out)
    paused: bool


def _not_aired(show: Show, episode: Episode) -> UserError:
    from bot.render.text import ts

    when = f" (it drops {ts(episode.air_at, 'R')})" if show.paused_at is None else " (the show is paused)"
    return UserError(f"E{episode.number:02d} of **{show.title}** hasn't aired yet{when}.")


def _episode(show: Show, number: int) -> Episode:
    episode = next((e for e in show.episodes if e.number == number), None)
    if episode is None:
        raise UserError(f"**{show.title}** has episodes 1 to {show.episode_count}; there is no episode {number}.")
    return episode


async def aired_episode(session: AsyncSession, guild_id: int, show_name: str, number: int, now: datetime) -> EpisodeRef:
    """The episode a member named, refusing one that has not aired yet."""
    show = await resolve_show(session, guild_id, show_name)
    episode = _episode(show, number)
    if not is_aired(show, episode, now):
        raise _not_aired(show, episode)
    thread = await session.get(EpisodeThread, episode.id)
    announce = next((a for a in episode.actions if a.kind == "announce" and a.status == "done"), None)
    return EpisodeRef(
        guild_id=show.guild_id,
        show_id=show.id,
        show_title=show.title,
        platform=show.platform,
        episode_id=episode.id,
        number=episode.number,
        episode_count=show.episode_count,
        title=episode.title,
        air_at=episode.air_at,
        thread_id=thread.thread_id if thread else None,
        announcement=(
            MessageRef(announce.channel_id, announce.message_id)
            if announce and announce.channel_id and announce.message_id
            else None
        ),
    )


async def record_thread(
    session: AsyncSession, guild_id: int, episode_id: int, thread_id: int, parent_channel_id: int, now: datetime
) -> None:
    """Remember an episode's (new) thread; a reopened thread replaces the old one everywhere."""
    statement = upsert(
        dialect_name(session),
        EpisodeThread.__table__,  # type: ignore[arg-type]
        ["episode_id"],
        ["thread_id", "parent_channel_id", "created_at"],
    )
    await session.execute(
        statement,
        {
            "episode_id": episode_id,
            "guild_id": guild_id,
            "thread_id": thread_id,
            "parent_channel_id": parent_channel_id,
            "message_count": 0,
            "created_at": now,
        },
    )
    await session.execute(
        update(DropAction)
        .where(DropAction.episode_id == episode_id, DropAction.kind == "thread", DropAction.status == "done")
        .values(channel_id=parent_channel_id, message_id=thread_id, updated_at=now)
    )
    await session.commit()


async def remember_tags(
    session: AsyncSession, guild_id: int, show_id: int, spoiler_tag_id: int | None, show_tag_id: int | None
) -> None:
    if spoiler_tag_id is not None:
        await session.execute(update(Club).where(Club.guild_id == guild_id).values(spoiler_tag_id=spoiler_tag_id))
    if show_tag_id is not None:
        await session.execute(update(Show).where(Show.id == show_id).values(forum_tag_id=show_tag_id))
    await session.commit()


async def known_tags(session: AsyncSession, guild_id: int, show_id: int) -> tuple[int | None, int | None]:
    club = await session.get(Club, guild_id)
    show = await session.get(Show, show_id)
    return (club.spoiler_tag_id if club else None, show.forum_tag_id if show else None)


async def episode_thread_ids(session: AsyncSession) -> set[int]:
    return set((await session.execute(select(EpisodeThread.thread_id))).scalars())


async def add_message_counts(session: AsyncSession, counts: dict[int, int]) -> None:
    """Add counted thread messages (flushed in batches, not one write per message)."""
    for thread_id, count in counts.items():
        await session.execute(
            update(EpisodeThread)
            .where(EpisodeThread.thread_id == thread_id)
            .values(message_count=EpisodeThread.message_count + count)
        )
    await session.commit()


async def record_progress(
    session: AsyncSession, guild_id: int, show_name: str, user_id: int, number: int, now: datetime
) -> ProgressUpdate:
    """Set how far a member has watched; returns the threads (up to that episode) to add them to."""
    show = await resolve_show(session, guild_id, show_name)
    episode = _episode(show, number)
    if not is_aired(show, episode, now):
        raise _not_aired(show, episode)
    current = await session.get(WatchProgress, (show.id, user_id))
    previous = current.episode_number if current else None
    statement = upsert(
        dialect_name(session),
        WatchProgress.__table__,  # type: ignore[arg-type]
        ["show_id", "user_id"],
        ["episode_number", "updated_at"],
    )
    await session.execute(
        statement, {"show_id": show.id, "user_id": user_id, "episode_number": number, "updated_at": now}
    )
    episode_ids = [e.id for e in sorted(show.episodes, key=lambda e: e.number) if e.number <= number]
    threads = (
        await session.execute(
            select(EpisodeThread.thread_id)
            .join(Episode, Episode.id == EpisodeThread.episode_id)
            .where(EpisodeThread.episode_id.in_(episode_ids))
            .where(
                ~select(ThreadMember.thread_id)
                .where(ThreadMember.thread_id == EpisodeThread.thread_id, ThreadMember.user_id == user_id)
                .exists()
            )
            .order_by(Episode.number)
        )
    ).scalars()
    await session.commit()
    return ProgressUpdate(
        show_title=show.title,
        episode_number=number,
        previous=previous,
        aired_count=sum(1 for e in show.episodes if is_aired(show, e, now)),
        threads_to_join=tuple(threads),
    )


async def record_thread_members(session: AsyncSession, user_id: int, thread_ids: list[int], now: datetime) -> None:
    if not thread_ids:
        return
    statement = upsert(dialect_name(session), ThreadMember.__table__, ["thread_id", "user_id"])  # type: ignore[arg-type]
    await session.execute(statement, [{"thread_id": t, "user_id": user_id, "added_at": now} for t in thread_ids])
    await session.commit()


async def member_progress(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> list[ShowProgress]:
    shows = await list_shows(session, guild_id, now)
    rows = await session.execute(
        select(WatchProgress.show_id, WatchProgress.episode_number).where(
            WatchProgress.user_id == user_id, WatchProgress.show_id.in_([s.id for s in shows])
        )
    )
    watched = {show_id: number for show_id, number in rows}
    result = []
    for show in shows:
        mine = watched.get(show.id)
        next_number = (mine or 0) + 1
        upcoming = show.episode(next_number) if next_number <= show.episode_count else None
        result.append(
            ShowProgress(
                show_title=show.title,
                watched=mine,
                aired_count=show.aired_count,
                episode_count=show.episode_count,
                next_to_watch=upcoming.number if upcoming else None,
                next_air_at=upcoming.air_at if upcoming else None,
                paused=show.paused,
            )
        )
    return result


async def club_for(session: AsyncSession, guild_id: int) -> ClubSettings:
    return await require_club(session, guild_id)


async def announcement_context(session: AsyncSession, episode_id: int) -> DropContext | None:
    """The drop context of an episode's announcement (to re-render its links), if it was posted."""
    episode = await session.get(Episode, episode_id)
    if episode is None:
        return None
    show = await load_show(session, episode.show_id)
    if show is None:
        return None
    row = next(e for e in show.episodes if e.id == episode_id)
    announce = next((a for a in row.actions if a.kind == "announce" and a.status == "done"), None)
    timing = next((t for t in timings(show) if t.id == episode_id), None)
    if announce is None or timing is None:
        return None
    return await build_context(session, show, timing, announce)
