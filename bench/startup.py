"""Start-up cost of rebuilding every show's job from the database, and the memory it takes.

    python -m bench.startup            # 1,000 and 10,000 shows (1,000 servers), 13 episodes each
    python -m bench.startup --quick    # 100 and 1,000 shows

For each size a fresh SQLite file is seeded (clubs, shows, episodes, next_due_at), then a
separate process (so memory is its own) builds the real bot object, starts the scheduler and
times `rebuild_jobs()`; it prints the time and the resident memory before and after.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import insert

EPISODES = 13
START = date(2030, 1, 3)
NOW = datetime(2029, 12, 1, tzinfo=UTC)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def seed(url: str, shows: int, servers: int) -> None:
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_to_head
    from bot.db.models import Club, Episode, Show

    engine = create_engine(url)
    await upgrade_to_head(engine)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Club),
            [
                {
                    "guild_id": 10_000 + g,
                    "announcement_channel_id": 1,
                    "discussion_channel_id": 2,
                    "discussion_kind": "forum",
                    "timezone": "America/New_York",
                    "poll_close_days": 7,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for g in range(servers)
            ],
        )
        first_air = datetime(2030, 1, 4, 4, 30, tzinfo=UTC)
        show_rows = []
        episode_rows = []
        for s in range(shows):
            offset = timedelta(minutes=s % 600)
            show_rows.append(
                {
                    "id": s + 1,
                    "guild_id": 10_000 + s % servers,
                    "title": f"Show {s}",
                    "title_key": f"show {s}",
                    "episode_count": EPISODES,
                    "weekday": 3,
                    "slot_time": dtime(23, 30),
                    "timezone": "America/New_York",
                    "start_date": START,
                    "reminder_minutes": 60,
                    "next_due_at": first_air + offset - timedelta(minutes=60),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            for n in range(EPISODES):
                episode_rows.append(
                    {"show_id": s + 1, "number": n + 1, "air_at": first_air + offset + timedelta(weeks=n)}
                )
        await connection.execute(insert(Show), show_rows)
        await connection.execute(insert(Episode), [{**row, "before_tracking": False} for row in episode_rows])
    await engine.dispose()


async def measure(url: str) -> dict[str, float]:
    from bot.client import WatchClubBot
    from bot.clock import ManualClock
    from bot.config import Settings
    from bot.db.engine import create_engine, create_session_factory

    before = rss_mib()
    engine = create_engine(url)
    bot = WatchClubBot(Settings(database_url=url), create_session_factory(engine), ManualClock(NOW))
    bot.scheduler.start()
    started = time.perf_counter()
    count = await bot.rebuild_jobs()
    elapsed = time.perf_counter() - started
    after = rss_mib()
    assert count == len(bot.scheduler.job_ids())
    bot.scheduler.shutdown()
    await engine.dispose()
    return {"jobs": count, "seconds": elapsed, "rss_before_mib": before, "rss_after_mib": after}


def run_size(shows: int, servers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        seeding = time.perf_counter()
        asyncio.run(seed(url, shows, servers))
        seeded = time.perf_counter() - seeding
        output = subprocess.run(
            [sys.executable, "-m", "bench.startup", "--measure", url],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
        ).stdout
        result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
        result["seed_seconds"] = seeded
        return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["--measure"]:
        print(json.dumps(asyncio.run(measure(argv[1]))))
        return 0
    sizes = [(100, 100), (1_000, 1_000)] if "--quick" in argv else [(1_000, 1_000), (10_000, 1_000)]
    print("start-up: rebuild every show's job from the database (one query, then one job per show)")
    print(
        f"{'shows':>7} {'servers':>7} {'jobs':>7} {'rebuild s':>10} {'RSS before':>11} {'RSS after':>10} {'growth':>8}"
    )
    results = []
    for shows, servers in sizes:
        r = run_size(shows, servers)
        results.append(r)
        growth = r["rss_after_mib"] - r["rss_before_mib"]
        print(
            f"{shows:>7} {servers:>7} {int(r['jobs']):>7} {r['seconds']:>10.3f} "
            f"{r['rss_before_mib']:>9.1f}Mi {r['rss_after_mib']:>8.1f}Mi {growth:>6.1f}Mi"
        )
    small, large = results
    ratio = large["seconds"] / small["seconds"] if small["seconds"] else float("nan")
    print(f"10x the shows took {ratio:.1f}x the time to rebuild")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
