"""Weekly slots as local wall-clock times, turned into UTC instants with zoneinfo.

The rules (see PRODUCT.md, "Shows and weekly schedules"):
- a slot is a weekday + local time + IANA zone: 23:30 America/New_York stays 23:30 local
  across daylight-saving changes;
- a local time that does not exist (the spring-forward gap) moves forward to the first valid
  instant: 02:30 on 2024-03-10 in New York drops at 03:00 EDT;
- an ambiguous local time (the fall-back hour) takes its first occurrence: 01:30 on
  2024-11-03 in New York drops at 01:30 EDT, once;
- episode n airs at the n-th slot on or after the start date that is not a break week,
  unless delayed; an episode delayed past the next slot pushes the later ones back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*$")


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # 0 = Monday
    time: time
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.time:%H:%M} ({self.timezone})"


def parse_weekday(text: str) -> int:
    cleaned = text.strip().casefold()
    for index, name in enumerate(WEEKDAYS):
        if cleaned and (name.casefold() == cleaned or (len(cleaned) >= 3 and name.casefold().startswith(cleaned))):
            return index
    raise UserError(f"`{text[:20]}` is not a weekday: pick one of {', '.join(WEEKDAYS)}.")


def parse_time(text: str) -> time:
    match = _TIME.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise UserError(f"`{text[:20]}` is not a time: use 24-hour HH:MM, e.g. `23:30` or `09:00`.")


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"`{text[:20]}` is not a {what}: use YYYY-MM-DD, e.g. `2024-01-11`.") from None


def parse_local_datetime(text: str) -> tuple[date, time]:
    """`YYYY-MM-DD HH:MM` (a `T` between them works too)."""
    parts = text.strip().replace("T", " ").split()
    if len(parts) != 2:
        raise UserError(f"`{text[:30]}` is not a date and time: use `YYYY-MM-DD HH:MM`, e.g. `2024-02-01 23:30`.")
    return parse_date(parts[0]), parse_time(parts[1])


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, resolving DST gaps and overlaps as above."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)  # exists; fold=0 is the first of two occurrences
    # In the gap: the instants computed with the offsets before and after the change bracket
    # the transition, which is the first valid instant after the missing wall time.
    candidates = sorted(
        (first.astimezone(UTC), wall.replace(tzinfo=zone, fold=1).astimezone(UTC)),
    )
    return _transition_between(candidates[0], candidates[1], zone)


def _transition_between(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    offset_low = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset_low:
            low = middle
        else:
            high = middle
    return high


def slot_dates(weekday: int, start: date) -> Iterator[date]:
    """The slot's local dates on or after `start`, forever."""
    current = start + timedelta(days=(weekday - start.weekday()) % 7)
    while True:
        yield current
        current += timedelta(days=7)


def slot_date_in_week(weekday: int, any_day: date) -> date:
    """The slot's date in the Monday-to-Sunday week containing `any_day`."""
    monday = any_day - timedelta(days=any_day.weekday())
    return monday + timedelta(days=weekday)


def next_slot_date(slot: WeeklySlot, now: datetime) -> date:
    """The date of the first slot strictly after `now`."""
    today = now.astimezone(slot.zone).date()
    for day in slot_dates(slot.weekday, today):
        if local_to_utc(day, slot.time, slot.zone) > now:
            return day
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Placement:
    number: int
    air_at: datetime
    slot_date: date | None  # the slot the episode took (None for a frozen/delayed episode off-slot)


def place_episodes(
    slot: WeeklySlot,
    start: date,
    count: int,
    breaks: frozenset[date] = frozenset(),
    delays: Mapping[int, datetime] | None = None,
    frozen: Mapping[int, datetime] | None = None,
) -> list[Placement]:
    """Air instants for episodes 1..count.

    `frozen` episodes (already aired) keep their instant; `delays` move one episode. Every
    episode still takes its natural slot in turn, so a delay of a few hours leaves the next
    episode where it was, while an episode moved past the next slot pushes the later ones
    back: each episode takes the first free slot after the previous episode's air time.
    """
    delays = delays or {}
    frozen = frozen or {}
    zone = slot.zone
    dates = (day for day in slot_dates(slot.weekday, start) if day not in breaks)
    placements: list[Placement] = []
    floor: datetime | None = None
    for number in range(1, count + 1):
        natural_date, natural = _next_slot_after(dates, slot.time, zone, floor)
        chosen = frozen.get(number) or delays.get(number)
        air_at = chosen or natural
        placements.append(Placement(number, air_at, natural_date if chosen is None else None))
        floor = max(natural, air_at)
    return placements


def _next_slot_after(dates: Iterator[date], at: time, zone: ZoneInfo, floor: datetime | None) -> tuple[date, datetime]:
    for day in dates:
        instant = local_to_utc(day, at, zone)
        if floor is None or instant > floor:
            return day, instant
    raise AssertionError("unreachable: slot dates never run out")  # pragma: no cover


def slots_between(slot: WeeklySlot, start: date, since: datetime, until: datetime) -> list[date]:
    """Slot dates (on or after `start`) whose instant falls in [since, until)."""
    first_day = max(start, since.astimezone(slot.zone).date() - timedelta(days=1))
    result: list[date] = []
    for day in slot_dates(slot.weekday, first_day):
        instant = local_to_utc(day, slot.time, slot.zone)
        if instant >= until:
            return result
        if instant >= since:
            result.append(day)
    return result  # pragma: no cover
