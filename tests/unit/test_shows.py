"""Shows and schedules as moderators and members use them (services on a real database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Episode, Show
from bot.errors import UserError
from bot.services import shows
from bot.services.shows import ShowForm
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR, GUILD_ID, METALLIC_ROUGE, OTHER_GUILD_ID, TITLE

NEW_YORK = ZoneInfo("America/New_York")
WEEK = timedelta(days=7)


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_add_places_thirteen_thursday_drops(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    info = await make_show(session, BEFORE_SEASON)
    assert info.episode_count == 13
    assert info.episodes[0].air_at == E01_AIR
    local = [e.air_at.astimezone(NEW_YORK) for e in info.episodes]
    assert {(t.weekday(), t.hour, t.minute) for t in local} == {(3, 23, 30)}  # across the March DST change
    assert info.next_episode is not None and info.next_episode.number == 1
    show = await session.scalar(select(Show))
    assert show is not None and show.next_due_at == E01_AIR - timedelta(minutes=60)


async def test_add_defaults_to_the_clubs_timezone_and_the_next_slot(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    form = ShowForm(title="Frieren", episodes=28, weekday="Friday", time="10:00")
    info = await make_show(session, BEFORE_SEASON, form)
    assert info.slot.timezone == "America/New_York"
    assert info.start_date == date(2024, 1, 12)
    assert info.reminder_minutes == 60
    assert info.episodes[0].air_at == datetime(2024, 1, 12, 15, 0, tzinfo=UTC)


async def test_add_needs_a_club(session: AsyncSession) -> None:
    with pytest.raises(UserError, match="/club setup"):
        await make_show(session, BEFORE_SEASON)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "x" * 81}, "limit is 80"),
        ({"title": "   "}, "empty"),
        ({"episodes": 0}, "between 1 and 500"),
        ({"episodes": 501}, "between 1 and 500"),
        ({"weekday": "Thorsday"}, "weekday"),
        ({"time": "25:00"}, "HH:MM"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "11/01/2024"}, "YYYY-MM-DD"),
        ({"reminder": -5}, "minutes before"),
        ({"platform": "p" * 41}, "platform"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    session: AsyncSession, change: dict[str, object], message: str
) -> None:
    await make_club(session, BEFORE_SEASON)
    with pytest.raises(UserError, match=message):
        await make_show(session, BEFORE_SEASON, replace(METALLIC_ROUGE, **change))  # type: ignore[arg-type]
    await session.rollback()
    assert await count(session, Show) == 0
    assert await count(session, Episode) == 0


async def test_duplicate_titles_are_refused_per_server(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    await make_show(session, BEFORE_SEASON)
    with pytest.raises(UserError, match="already a show"):
        await make_show(session, BEFORE_SEASON, replace(METALLIC_ROUGE, title="  metallic   ROUGE "))
    await session.rollback()
    other = await make_show(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    assert other.title == TITLE


async def test_shows_are_invisible_across_servers(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON, guild_id=OTHER_GUILD_ID)
    await make_show(session, BEFORE_SEASON)
    with pytest.raises(UserError, match="no show called"):
        await shows.get_show(session, OTHER_GUILD_ID, TITLE, BEFORE_SEASON)
    assert await shows.search_titles(session, OTHER_GUILD_ID, "rouge") == []


async def test_show_added_mid_season_does_not_replay_old_drops(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    now = E01_AIR + 2 * WEEK + timedelta(hours=1)  # E03 aired an hour ago
    info = await make_show(session, now)
    assert info.aired_count == 3
    flags = (await session.execute(select(Episode.number, Episode.before_tracking).order_by(Episode.number))).all()
    assert [n for n, before in flags if before] == [1, 2, 3]
    show = await session.scalar(select(Show))
    assert show is not None and show.next_due_at == E01_AIR + 3 * WEEK - timedelta(hours=1)


async def test_autocomplete_search_is_case_insensitive_substring(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON, replace(METALLIC_ROUGE, title="100% Pascal-sensei"))
    assert await shows.search_titles(session, GUILD_ID, "ROUGE") == [TITLE]
    assert await shows.search_titles(session, GUILD_ID, "%") == ["100% Pascal-sensei"]
    assert await shows.search_titles(session, GUILD_ID, "_") == []
    assert len(await shows.search_titles(session, GUILD_ID, "")) == 2
    assert (await shows.get_show(session, GUILD_ID, "metallic", BEFORE_SEASON)).title == TITLE


async def test_skip_makes_a_break_week_and_later_episodes_shift(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    before = await make_show(session, BEFORE_SEASON)
    info, slot_date = await shows.skip_week(session, GUILD_ID, TITLE, "2024-01-22", BEFORE_SEASON)
    assert slot_date == date(2024, 1, 25)
    assert info.breaks == (date(2024, 1, 25),)
    assert info.episodes[1].air_at == before.episodes[1].air_at
    assert info.episodes[2].air_at == before.episodes[2].air_at + WEEK
    assert info.episodes[12].air_at == before.episodes[12].air_at + WEEK
    with pytest.raises(UserError, match="already a break week"):
        await shows.skip_week(session, GUILD_ID, TITLE, "2024-01-25", BEFORE_SEASON)
    undone, _ = await shows.skip_week(session, GUILD_ID, TITLE, "2024-01-25", BEFORE_SEASON, undo=True)
    assert [e.air_at for e in undone.episodes] == [e.air_at for e in before.episodes]


async def test_skip_refuses_past_and_empty_weeks(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    with pytest.raises(UserError, match="already passed"):
        await shows.skip_week(session, GUILD_ID, TITLE, "2024-01-11", E01_AIR + timedelta(hours=1))
    with pytest.raises(UserError, match="nothing to skip"):
        await shows.skip_week(session, GUILD_ID, TITLE, "2025-06-01", BEFORE_SEASON)


async def test_delay_moves_one_episode_and_pushes_later_ones_only_when_needed(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    before = await make_show(session, BEFORE_SEASON)
    info = await shows.delay_episode(session, GUILD_ID, TITLE, 3, "2024-01-26 21:00", BEFORE_SEASON)
    assert info.episodes[2].air_at == datetime(2024, 1, 27, 2, 0, tzinfo=UTC)
    assert info.episodes[2].delayed
    assert info.episodes[3].air_at == before.episodes[3].air_at
    far = await shows.delay_episode(session, GUILD_ID, TITLE, 3, "2024-02-03 12:00", BEFORE_SEASON)
    assert far.episodes[3].air_at == before.episodes[4].air_at


async def test_delay_refuses_the_past_and_aired_episodes(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    with pytest.raises(UserError, match="already passed"):
        await shows.delay_episode(session, GUILD_ID, TITLE, 2, "2024-01-01 10:00", BEFORE_SEASON)
    with pytest.raises(UserError, match="already aired"):
        await shows.delay_episode(session, GUILD_ID, TITLE, 1, "2024-03-01 10:00", E01_AIR + timedelta(hours=1))
    with pytest.raises(UserError, match="no episode 14"):
        await shows.delay_episode(session, GUILD_ID, TITLE, 14, "2024-03-01 10:00", BEFORE_SEASON)


async def test_edit_moves_only_unaired_episodes(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    before = await make_show(session, BEFORE_SEASON)
    now = E01_AIR + WEEK + timedelta(hours=2)  # E01 and E02 aired
    info = await shows.edit_show(session, GUILD_ID, TITLE, ShowForm(weekday="Friday", time="20:00"), now)
    assert [e.air_at for e in info.episodes[:2]] == [e.air_at for e in before.episodes[:2]]
    third = info.episodes[2].air_at.astimezone(NEW_YORK)
    assert (third.strftime("%a %H:%M"), third.date()) == ("Fri 20:00", date(2024, 1, 26))
    with pytest.raises(UserError, match="can't go below"):
        await shows.edit_show(session, GUILD_ID, TITLE, ShowForm(episodes=1), now)


async def test_edit_can_change_count_title_and_labels(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    info = await shows.edit_show(
        session, GUILD_ID, TITLE, ShowForm(title="Metallic Rouge S1", episodes=12, platform="-"), BEFORE_SEASON
    )
    assert (info.title, info.episode_count, info.platform) == ("Metallic Rouge S1", 12, None)
    assert len(info.episodes) == 12
    grown = await shows.edit_show(session, GUILD_ID, "Metallic Rouge S1", ShowForm(episodes=14), BEFORE_SEASON)
    assert len(grown.episodes) == 14
    assert grown.episodes[13].air_at == grown.episodes[12].air_at + WEEK


async def test_pause_then_resume_continues_at_the_next_slot(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    before = await make_show(session, BEFORE_SEASON)
    paused = await shows.pause_show(session, GUILD_ID, TITLE, E01_AIR + timedelta(days=1))
    assert paused.paused and paused.next_episode is None
    resumed_at = E01_AIR + 3 * WEEK + timedelta(days=2)  # three slots passed while paused
    info = await shows.resume_show(session, GUILD_ID, TITLE, resumed_at)
    assert not info.paused
    assert info.episodes[0].air_at == before.episodes[0].air_at
    assert info.episodes[1].air_at == before.episodes[0].air_at + 4 * WEEK
    assert len(info.breaks) == 3
    with pytest.raises(UserError, match="isn't paused"):
        await shows.resume_show(session, GUILD_ID, TITLE, resumed_at)


async def test_episode_titles(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    info = await shows.set_episode_title(session, GUILD_ID, TITLE, 1, "Crimson Is the Sound of Dawn", BEFORE_SEASON)
    assert info.episodes[0].title == "Crimson Is the Sound of Dawn"
    with pytest.raises(UserError, match="at most 200"):
        await shows.set_episode_title(session, GUILD_ID, TITLE, 1, "x" * 201, BEFORE_SEASON)
    cleared = await shows.set_episode_title(session, GUILD_ID, TITLE, 1, "-", BEFORE_SEASON)
    assert cleared.episodes[0].title is None


async def test_schedule_lists_the_coming_week_in_time_order(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON, ShowForm(title="Frieren", episodes=28, weekday="Friday", time="10:00"))
    await make_show(
        session, BEFORE_SEASON, ShowForm(title="Paused Show", episodes=5, weekday="Wednesday", time="10:00")
    )
    await shows.pause_show(session, GUILD_ID, "Paused Show", BEFORE_SEASON)
    drops = await shows.coming_drops(session, GUILD_ID, BEFORE_SEASON)
    assert [(d.show_title, d.number) for d in drops] == [("Metallic Rouge", 1), ("Frieren", 1)]
    assert [d.air_at for d in drops] == sorted(d.air_at for d in drops)


async def test_remove_deletes_the_show_and_its_episodes(session: AsyncSession) -> None:
    await make_club(session, BEFORE_SEASON)
    info = await make_show(session, BEFORE_SEASON)
    with pytest.raises(UserError):
        await shows.remove_show(session, OTHER_GUILD_ID, info.id)
    assert await shows.remove_show(session, GUILD_ID, info.id) == TITLE
    assert await count(session, Show) == 0
    assert await count(session, Episode) == 0
