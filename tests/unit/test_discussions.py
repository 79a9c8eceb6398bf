"""Progress rules: /watched refuses the future, corrects downwards, lists threads to join."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services import discussions
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR, FORUM_CHANNEL, GUILD_ID, OTHER_GUILD_ID, TITLE

WEEK = timedelta(days=7)
MEMBER = 777
AFTER_E03 = E01_AIR + 2 * WEEK + timedelta(hours=1)


async def seeded_threads(session: AsyncSession, count: int) -> list[int]:
    info = await make_show(session, BEFORE_SEASON)
    thread_ids = []
    for number in range(1, count + 1):
        ref = await discussions.aired_episode(session, GUILD_ID, TITLE, number, AFTER_E03)
        thread_id = 10_000 + number
        await discussions.record_thread(session, GUILD_ID, ref.episode_id, thread_id, FORUM_CHANNEL, AFTER_E03)
        thread_ids.append(thread_id)
    assert info.title == TITLE
    return thread_ids


async def test_watched_lists_the_threads_up_to_that_episode(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    threads = await seeded_threads(session, 3)
    update = await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 3, AFTER_E03)
    assert update.threads_to_join == tuple(threads)
    assert update.previous is None
    await discussions.record_thread_members(session, MEMBER, list(threads[:2]), AFTER_E03)
    again = await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 3, AFTER_E03)
    assert again.threads_to_join == (threads[2],)  # only the one not joined yet


async def test_watched_refuses_unaired_and_unknown_episodes(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await seeded_threads(session, 3)
    with pytest.raises(UserError, match="hasn't aired yet"):
        await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 4, AFTER_E03)
    with pytest.raises(UserError, match="no episode 14"):
        await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 14, AFTER_E03)
    progress = await discussions.member_progress(session, GUILD_ID, MEMBER, AFTER_E03)
    assert progress[0].watched is None  # nothing was written


async def test_lower_number_corrects_progress(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await seeded_threads(session, 3)
    await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 3, AFTER_E03)
    update = await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 1, AFTER_E03)
    assert (update.previous, update.episode_number) == (3, 1)
    progress = await discussions.member_progress(session, GUILD_ID, MEMBER, AFTER_E03)
    assert progress[0].watched == 1
    assert progress[0].next_to_watch == 2


async def test_progress_says_what_is_next_and_when(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await seeded_threads(session, 3)
    await discussions.record_progress(session, GUILD_ID, TITLE, MEMBER, 3, AFTER_E03)
    [mine] = await discussions.member_progress(session, GUILD_ID, MEMBER, AFTER_E03)
    assert (mine.watched, mine.aired_count, mine.next_to_watch) == (3, 3, 4)
    assert mine.next_air_at == E01_AIR + 3 * WEEK


async def test_spoilers_and_progress_are_per_server(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    await seeded_threads(session, 1)
    with pytest.raises(UserError, match="no show called"):
        await discussions.aired_episode(session, OTHER_GUILD_ID, TITLE, 1, AFTER_E03)


async def test_reopened_thread_replaces_the_old_one(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await seeded_threads(session, 1)
    ref = await discussions.aired_episode(session, GUILD_ID, TITLE, 1, AFTER_E03)
    await discussions.record_thread(session, GUILD_ID, ref.episode_id, 99_999, FORUM_CHANNEL, AFTER_E03)
    again = await discussions.aired_episode(session, GUILD_ID, TITLE, 1, AFTER_E03)
    assert again.thread_id == 99_999
    assert await discussions.episode_thread_ids(session) == {99_999}


async def test_message_counts_add_up(session: AsyncSession) -> None:
    from sqlalchemy import select

    from bot.db.models import EpisodeThread

    await make_club(session, BEFORE_SEASON)
    threads = await seeded_threads(session, 2)
    await discussions.add_message_counts(session, {threads[0]: 3, threads[1]: 1})
    await discussions.add_message_counts(session, {threads[0]: 2})
    rows = dict((await session.execute(select(EpisodeThread.thread_id, EpisodeThread.message_count))).all())
    assert rows == {threads[0]: 5, threads[1]: 1}
