"""Votes under a rush: the vote service against a SQLite file, beside raw aiosqlite.

    python -m bench votes            # 200 voters x 100 votes, three rounds
    python -m bench votes --quick    # 200 voters x 10 votes, one round (a few seconds; CI)

Part (1), the vote service alone: 200 concurrent voters each cast votes one after another
through `VoteWriter` (each vote awaited until it is committed, as the cog does before it
answers), on a fresh, migrated SQLite file with the bot's pragmas. Beside it, measured in the
same run on the same disk: raw aiosqlite inserting one row and committing, one row at a time —
the rate a commit per vote could reach at best. The ratio is the figure to watch (target: at
least 1.0x; the ORM with a commit per vote, printed for context, manages about 0.13x).

Part (2), through the loopback fake Discord (latency from dispatch to response under a burst),
comes with the fake in tests/e2e/fakediscord/.

Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.engine import SQLITE_BUSY_TIMEOUT_MS, SessionFactory, create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import Episode, Vote
from bot.db.upsert import upsert
from bot.services import club, polls, shows
from bot.services.club import ClubSetup
from bot.services.shows import ShowForm
from bot.services.votes import VoteWriter

VOTERS = 200
NOW = datetime(2024, 1, 12, 5, 30, tzinfo=UTC)  # an hour after Metallic Rouge E01 dropped
GUILD = 424242


@dataclass(frozen=True)
class Sizes:
    votes_per_voter: int
    raw_rows: int
    orm_votes_per_voter: int
    rounds: int


QUICK = Sizes(votes_per_voter=10, raw_rows=3_000, orm_votes_per_voter=2, rounds=1)
FULL = Sizes(votes_per_voter=100, raw_rows=20_000, orm_votes_per_voter=5, rounds=3)


@dataclass(frozen=True)
class WriterRun:
    rate: float
    votes: int
    batches: int
    mean_batch: float
    largest_batch: int


# --- raw aiosqlite: one row, one commit --------------------------------------------------------


async def raw_insert_rate(path: Path, rows: int) -> float:
    """Rows per second inserting and committing one row at a time (the bot's pragmas)."""
    async with aiosqlite.connect(path) as db:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        await db.execute(
            "CREATE TABLE raw_vote (poll_id INTEGER NOT NULL, user_id BIGINT NOT NULL, half_stars SMALLINT NOT NULL,"
            " updated_at DATETIME NOT NULL, PRIMARY KEY (poll_id, user_id))"
        )
        await db.commit()
        stamp = NOW.replace(tzinfo=None).isoformat(sep=" ")
        started = time.perf_counter()
        for user in range(rows):
            await db.execute("INSERT INTO raw_vote VALUES (?, ?, ?, ?)", (1, user, 1 + user % 10, stamp))
            await db.commit()
        return rows / (time.perf_counter() - started)


# --- the vote service ----------------------------------------------------------------------------


async def seeded_poll(factory: SessionFactory) -> int:
    """A club, Metallic Rouge and E01's open poll; its id."""
    async with factory() as session:
        await club.setup_club(
            session,
            ClubSetup(GUILD, 5001, 5002, "forum", timezone="America/New_York"),
            NOW - timedelta(days=7),
        )
        form = ShowForm(title="Metallic Rouge", episodes=13, weekday="Thursday", time="23:30", start="2024-01-11")
        show = await shows.add_show(session, GUILD, form, NOW - timedelta(days=7))
        episode = await session.scalar(select(Episode.id).where(Episode.show_id == show.id, Episode.number == 1))
        assert episode is not None
        poll = await polls.open_poll(session, episode, NOW + timedelta(days=7), NOW)
    return poll.id


async def writer_rate(factory: SessionFactory, poll_id: int, votes_per_voter: int, seed: int) -> WriterRun:
    writer = VoteWriter(factory, ManualClock(NOW))
    writer.start()
    rng = random.Random(seed)
    first_user = seed * 1_000_000

    async def voter(user: int) -> None:
        for _ in range(votes_per_voter):  # the first vote adds a rating, the others change it
            await writer.set_vote(poll_id, user, rng.randint(1, 10))

    started = time.perf_counter()
    await asyncio.gather(*(voter(first_user + n) for n in range(VOTERS)))
    elapsed = time.perf_counter() - started
    await writer.stop()
    stats = writer.stats
    return WriterRun(stats.votes / elapsed, stats.votes, stats.batches, stats.mean_batch, stats.largest_batch)


async def orm_commit_per_vote_rate(factory: SessionFactory, poll_id: int, votes_per_voter: int) -> float:
    """For context: the same voters, each vote its own ORM session and commit."""
    statement = upsert("sqlite", Vote.__table__, ["poll_id", "user_id"], ["half_stars", "updated_at"])  # type: ignore[arg-type]

    async def voter(user: int) -> None:
        for n in range(votes_per_voter):
            async with factory() as session:
                row = {"poll_id": poll_id, "user_id": user, "half_stars": 1 + (user + n) % 10, "updated_at": NOW}
                await session.execute(statement, row)
                await session.commit()

    started = time.perf_counter()
    await asyncio.gather(*(voter(9_000_000 + n) for n in range(VOTERS)))
    return VOTERS * votes_per_voter / (time.perf_counter() - started)


# --- the run -------------------------------------------------------------------------------------


async def run(sizes: Sizes, folder: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'votes.db'}")
    try:
        await upgrade_to_head(engine)
        factory = create_session_factory(engine)
        poll_id = await seeded_poll(factory)
        await writer_rate(factory, poll_id, 2, seed=0)  # warm up: connections, compiled statements
        ratios = []
        for round_ in range(1, sizes.rounds + 1):
            raw = await raw_insert_rate(folder / f"raw{round_}.db", sizes.raw_rows)
            run_ = await writer_rate(factory, poll_id, sizes.votes_per_voter, seed=round_)
            ratios.append(run_.rate / raw)
            print(
                f"  round {round_}: raw aiosqlite insert+commit {raw:>9,.0f} rows/s | "
                f"VoteWriter {run_.rate:>9,.0f} votes/s = {run_.rate / raw:.2f}x raw | "
                f"{run_.votes:,} votes in {run_.batches:,} commits (mean batch {run_.mean_batch:.0f}, "
                f"largest {run_.largest_batch})"
            )
        orm = await orm_commit_per_vote_rate(factory, poll_id, sizes.orm_votes_per_voter)
        print(f"  for context: ORM, one session and commit per vote: {orm:,.0f} votes/s = {orm / raw:.2f}x raw")
        print(f"votes (1): VoteWriter / raw aiosqlite = {statistics.median(ratios):.2f}x (median; target >= 1.0x)")
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    sizes = QUICK if "--quick" in argv else FULL
    print(
        f"votes (1): the vote service alone, {VOTERS} concurrent voters x {sizes.votes_per_voter} votes, "
        "SQLite file (WAL, synchronous=NORMAL)"
    )
    with tempfile.TemporaryDirectory(prefix="wc-bench-votes-") as folder:
        asyncio.run(run(sizes, Path(folder)))
    print("votes (2): through the fake Discord and the real bot process: python -m bench vote_latency")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
