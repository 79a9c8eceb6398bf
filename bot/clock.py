"""The one injectable clock. Every "now" in the bot comes from here, always aware UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Real time shifted so that the process starts at `start` and runs forward from there.

    Only for tests of the real process (`WATCHCLUB_CLOCK_START`): a drop "seconds away" can be
    tested without waiting for a real Thursday.
    """

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


class ManualClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def real_delay(clock: Clock, instant: datetime) -> float:
    """Seconds of real time until `instant` on `clock` (never negative)."""
    return max(0.0, (instant - clock.now()).total_seconds())
