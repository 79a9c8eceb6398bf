"""Snowflake ids and Discord-style timestamps."""

from __future__ import annotations

import datetime as dt
import threading
import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Generates real-time based, strictly increasing snowflakes (like Discord's)."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker_id = worker_id & 0x1F
        self._process_id = process_id & 0x1F
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (now_ms << 22) | (self._worker_id << 17) | (self._process_id << 12)
            if candidate <= self._last:
                candidate = self._last + 1
            self._last = candidate
            return candidate


def snowflake_time(snowflake: int) -> dt.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """Format like Discord: ``2024-05-01T10:11:12.123000+00:00``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
