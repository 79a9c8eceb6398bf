"""Slot arithmetic across daylight-saving changes, break weeks and delays (no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.services.slots import (
    WeeklySlot,
    local_to_utc,
    next_slot_date,
    parse_local_datetime,
    parse_time,
    parse_weekday,
    place_episodes,
    slot_date_in_week,
    slots_between,
)

THURSDAY, FRIDAY, SUNDAY = 3, 4, 6
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("zone_name", ["America/New_York", "Europe/London", "Asia/Tokyo"])
@pytest.mark.parametrize(("weekday", "slot_time"), [(THURSDAY, time(23, 30)), (FRIDAY, time(0, 30))])
@pytest.mark.parametrize("start", [date(2024, 2, 29), date(2024, 10, 3)])
def test_slot_keeps_local_wall_clock_across_dst(zone_name: str, weekday: int, slot_time: time, start: date) -> None:
    """Thirteen weekly drops spanning a DST change all land at the same local time."""
    slot = WeeklySlot(weekday, slot_time, zone_name)
    placements = place_episodes(slot, start, 13)
    zone = ZoneInfo(zone_name)
    local_times = {p.air_at.astimezone(zone).time() for p in placements}
    assert local_times == {slot_time}
    assert {p.air_at.astimezone(zone).weekday() for p in placements} == {weekday}
    gaps = {b.air_at - a.air_at for a, b in itertools.pairwise(placements)}
    if zone_name == "Asia/Tokyo":
        assert gaps == {timedelta(days=7)}  # no DST: every week is exactly 7 days
    else:
        # one week across the change is an hour shorter (spring) or longer (autumn)
        assert timedelta(days=7) in gaps and len(gaps) == 2


def test_new_york_thursday_2330_utc_instants_across_spring_forward() -> None:
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    placements = place_episodes(slot, date(2024, 3, 7), 2)
    assert placements[0].air_at == utc(2024, 3, 8, 4, 30)  # EST, UTC-5
    assert placements[1].air_at == utc(2024, 3, 15, 3, 30)  # EDT, UTC-4


def test_london_friday_0030_across_autumn_change() -> None:
    slot = WeeklySlot(FRIDAY, time(0, 30), "Europe/London")
    placements = place_episodes(slot, date(2024, 10, 25), 2)
    assert placements[0].air_at == utc(2024, 10, 24, 23, 30)  # BST, UTC+1
    assert placements[1].air_at == utc(2024, 11, 1, 0, 30)  # GMT


def test_nonexistent_local_time_moves_to_first_valid_instant() -> None:
    # 02:30 does not exist in New York on 2024-03-10: it drops at 03:00 EDT.
    instant = local_to_utc(date(2024, 3, 10), time(2, 30), NEW_YORK)
    assert instant == utc(2024, 3, 10, 7, 0)
    assert instant.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:00 EDT"
    slot = WeeklySlot(SUNDAY, time(2, 30), "America/New_York")
    placements = place_episodes(slot, date(2024, 3, 3), 3)
    assert [p.air_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for p in placements] == [
        "03-03 02:30",
        "03-10 03:00",
        "03-17 02:30",
    ]


def test_ambiguous_local_time_takes_first_occurrence_once() -> None:
    instant = local_to_utc(date(2024, 11, 3), time(1, 30), NEW_YORK)
    assert instant == utc(2024, 11, 3, 5, 30)
    assert instant.astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:30 EDT"
    slot = WeeklySlot(SUNDAY, time(1, 30), "America/New_York")
    placements = place_episodes(slot, date(2024, 10, 27), 3)
    instants = [p.air_at for p in placements]
    assert len(set(instants)) == 3
    assert instants[1] == utc(2024, 11, 3, 5, 30)


def test_break_weeks_shift_later_episodes() -> None:
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    plain = place_episodes(slot, date(2024, 1, 11), 4)
    with_break = place_episodes(slot, date(2024, 1, 11), 4, breaks=frozenset({date(2024, 1, 25)}))
    assert with_break[:2] == plain[:2]
    assert with_break[2].air_at == plain[3].air_at
    assert with_break[3].air_at == plain[3].air_at + timedelta(days=7)
    assert date(2024, 1, 25) not in {p.slot_date for p in with_break}


def test_short_delay_keeps_next_episode_in_its_slot() -> None:
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    plain = place_episodes(slot, date(2024, 1, 11), 4)
    moved = plain[1].air_at + timedelta(hours=2)
    delayed = place_episodes(slot, date(2024, 1, 11), 4, delays={2: moved})
    assert delayed[1].air_at == moved
    assert [p.air_at for p in delayed[2:]] == [p.air_at for p in plain[2:]]


def test_delay_past_the_next_slot_pushes_later_episodes_back() -> None:
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    plain = place_episodes(slot, date(2024, 1, 11), 4)
    moved = plain[1].air_at + timedelta(days=10)  # E02 moved to the Sunday after E03's slot
    delayed = place_episodes(slot, date(2024, 1, 11), 4, delays={2: moved})
    assert delayed[2].air_at == plain[3].air_at  # E03 takes the first slot after E02
    assert delayed[3].air_at == plain[3].air_at + timedelta(days=7)
    assert [p.air_at for p in delayed] == sorted(p.air_at for p in delayed)


def test_frozen_episodes_keep_their_instant_when_the_slot_changes() -> None:
    old = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    aired = {p.number: p.air_at for p in place_episodes(old, date(2024, 1, 11), 2)}
    new = WeeklySlot(FRIDAY, time(20, 0), "America/New_York")
    placements = place_episodes(new, date(2024, 1, 11), 4, frozen=aired)
    assert [p.air_at for p in placements[:2]] == [aired[1], aired[2]]
    assert placements[2].air_at > aired[2]
    assert placements[2].air_at.astimezone(NEW_YORK).strftime("%a %H:%M") == "Fri 20:00"


def test_next_slot_date_is_strictly_after_now() -> None:
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    assert next_slot_date(slot, utc(2024, 1, 12, 4, 29)) == date(2024, 1, 11)
    assert next_slot_date(slot, utc(2024, 1, 12, 4, 30)) == date(2024, 1, 18)


def test_slot_date_in_week_and_slots_between() -> None:
    assert slot_date_in_week(THURSDAY, date(2024, 1, 15)) == date(2024, 1, 18)
    assert slot_date_in_week(THURSDAY, date(2024, 1, 21)) == date(2024, 1, 18)
    slot = WeeklySlot(THURSDAY, time(23, 30), "America/New_York")
    found = slots_between(slot, date(2024, 1, 11), utc(2024, 1, 15), utc(2024, 2, 3))
    assert found == [date(2024, 1, 18), date(2024, 1, 25), date(2024, 2, 1)]


@pytest.mark.parametrize("text", ["25:00", "7pm", "12:60", "", "1230"])
def test_bad_times_are_refused_with_the_format(text: str) -> None:
    with pytest.raises(UserError, match="HH:MM"):
        parse_time(text)


def test_parsers_accept_friendly_spellings() -> None:
    assert parse_time("9:05") == time(9, 5)
    assert parse_weekday("thu") == THURSDAY and parse_weekday("Thursday") == THURSDAY
    assert parse_local_datetime("2024-02-01 23:30") == (date(2024, 2, 1), time(23, 30))
    with pytest.raises(UserError, match="YYYY-MM-DD HH:MM"):
        parse_local_datetime("tomorrow")
    with pytest.raises(UserError, match="weekday"):
        parse_weekday("Someday")
