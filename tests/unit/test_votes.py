"""The group-commit vote writer: many concurrent votes all land, share commits, and each is
acknowledged only once it is committed; arrival order wins within a batch; a close is exact."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from bot.clock import ManualClock
from bot.db.engine import SessionFactory
from bot.db.models import Episode, Vote
from bot.errors import UserError
from bot.services import polls
from bot.services.polls import PollClosedError, PollGoneError, PollInfo
from bot.services.votes import MAX_BATCH, STOPPED, VoteReceipt, VoteWriter, _Vote
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR

E02_AIR = E01_AIR + timedelta(days=7)


@pytest.fixture
async def e01(session: AsyncSession, clock: ManualClock) -> PollInfo:
    await make_club(session, BEFORE_SEASON)
    show = await make_show(session, BEFORE_SEASON)
    episodes = dict((await session.execute(select(Episode.number, Episode.id).where(Episode.show_id == show.id))).all())
    clock.set(E01_AIR + timedelta(minutes=30))
    return await polls.open_poll(session, episodes[1], E02_AIR, E01_AIR)


@pytest.fixture
async def e02(session: AsyncSession, e01: PollInfo) -> PollInfo:
    episode = await session.scalar(select(Episode.id).where(Episode.show_id == e01.show_id, Episode.number == 2))
    assert episode is not None
    return await polls.open_poll(session, episode, E02_AIR + timedelta(days=7), E02_AIR)


@pytest.fixture
async def writer(session_factory: SessionFactory, clock: ManualClock) -> AsyncIterator[VoteWriter]:
    writer = VoteWriter(session_factory, clock)
    writer.start()
    yield writer
    await writer.stop()


async def stored(session_factory: SessionFactory, poll_id: int) -> dict[int, int]:
    async with session_factory() as session:
        rows = await session.execute(select(Vote.user_id, Vote.half_stars).where(Vote.poll_id == poll_id))
        return {user: half_stars for user, half_stars in rows}


@contextlib.contextmanager
def on_every_commit(listener: Callable[[Connection], None]) -> Iterator[None]:
    """`listener(connection)` as each COMMIT is issued, on any engine: on SQLite the writer has a
    synchronous engine of its own."""
    event.listen(Engine, "commit", listener)
    try:
        yield
    finally:
        event.remove(Engine, "commit", listener)


T = TypeVar("T")


def on_the_loop(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    """From inside a batch's transaction, run a coroutine on the event loop and wait for it
    (PostgreSQL: the transaction is a greenlet on the loop's thread; SQLite: the writer's thread)."""
    if in_greenlet():
        return await_(awaitable)
    return asyncio.run_coroutine_threadsafe(awaitable, loop).result(timeout=10)  # type: ignore[arg-type]


async def test_many_concurrent_voters_all_land_and_each_is_stored_before_its_answer(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo
) -> None:
    commits = 0

    def count(_connection: Connection) -> None:
        nonlocal commits
        commits += 1

    writer = VoteWriter(session_factory, clock)
    writer.start()
    rng = random.Random(5)
    voters, changes = 250, 3

    async def voter(user: int) -> int:
        last = 0
        for _ in range(changes):
            half_stars = rng.randint(1, 10)
            commits_before = commits
            receipt = await writer.set_vote(e01.id, user, half_stars)
            assert commits > commits_before, "answered before any commit"
            assert receipt.half_stars == half_stars and receipt.episode_number == 1
            # What was acknowledged is in the database, seen from another connection.
            assert (await stored(session_factory, e01.id))[user] == half_stars
            last = half_stars
        return last

    users = range(1_000, 1_000 + voters)
    with on_every_commit(count):
        finals = await asyncio.gather(*(voter(user) for user in users))
    await writer.stop()
    assert await stored(session_factory, e01.id) == dict(zip(users, finals, strict=True))
    assert writer.stats.votes == voters * changes
    # The first round, cast at once, was one commit; after it each voter's read-back (through a
    # pool of a few connections) staggers the next votes, so they share commits less here.
    assert writer.stats.largest_batch == min(voters, MAX_BATCH)
    stats = await polls_stats(session_factory, e01.id)
    assert stats.count == voters


async def test_voters_waiting_for_their_votes_share_commits(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    voters, changes = 200, 5

    async def voter(user: int) -> None:
        for change in range(changes):
            await writer.set_vote(e01.id, user, 1 + (user + change) % 10)

    await asyncio.gather(*(voter(user) for user in range(voters)))
    assert writer.stats.votes == voters * changes
    assert writer.stats.batches <= 2 * changes  # the votes made while a batch commits form the next one
    assert await stored(session_factory, e01.id) == {user: 1 + (user + changes - 1) % 10 for user in range(voters)}


async def polls_stats(session_factory: SessionFactory, poll_id: int) -> polls.PollStats:
    async with session_factory() as session:
        return await polls.poll_stats(session, poll_id)


async def test_last_vote_in_arrival_order_wins_within_a_batch(
    session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    # Submitted back to back, these all land in one batch.
    futures = [
        writer.submit(e01.id, 7, 3),
        writer.submit(e01.id, 7, 7),
        writer.submit(e01.id, 8, 4),
        writer.submit(e01.id, 7, None),
        writer.submit(e01.id, 7, 9),
        writer.submit(e01.id, 8, None),
    ]
    receipts: list[VoteReceipt] = await asyncio.gather(*futures)
    assert [r.half_stars for r in receipts] == [3, 7, 4, None, 9, None]
    assert receipts[3].removed and receipts[5].removed  # each removed the rating made just before it
    assert await stored(session_factory, e01.id) == {7: 9}
    assert writer.stats.batches == 1


async def test_stop_writes_everything_queued_then_refuses(
    session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    futures = [writer.submit(e01.id, user, 6) for user in range(50)]
    await writer.stop()
    assert all(f.done() and f.result().half_stars == 6 for f in futures)
    assert len(await stored(session_factory, e01.id)) == 50
    with pytest.raises(UserError) as refused:
        writer.submit(e01.id, 99, 6)
    assert refused.value.message == STOPPED


async def test_a_closed_poll_in_a_batch_refuses_only_its_own_votes(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, e02: PollInfo, writer: VoteWriter
) -> None:
    async with session_factory() as session:
        await polls.close_poll(session, e01.id, clock.now())
    futures = [
        writer.submit(e01.id, 1, 8),
        writer.submit(e02.id, 1, 8),
        writer.submit(123_456, 1, 8),  # a poll whose show was removed
        writer.submit(e02.id, 2, 4),
    ]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert isinstance(outcomes[0], PollClosedError)
    assert isinstance(outcomes[2], PollGoneError)
    assert [o.half_stars for o in outcomes[1::2] if isinstance(o, VoteReceipt)] == [8, 4]
    assert await stored(session_factory, e01.id) == {}
    assert await stored(session_factory, e02.id) == {1: 8, 2: 4}
    with pytest.raises(PollClosedError):  # known closed now: refused without queueing
        writer.submit(e01.id, 3, 8)


async def test_a_failed_commit_acknowledges_nobody_and_the_writer_goes_on(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    failures = 1

    def fail(_connection: Connection) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("disk full")

    with on_every_commit(fail):
        futures = [writer.submit(e01.id, user, 5) for user in range(10)]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await stored(session_factory, e01.id) == {}
    assert (await writer.set_vote(e01.id, 1, 7)).half_stars == 7
    await writer.stop()
    assert await stored(session_factory, e01.id) == {1: 7}  # nothing of the failed batch came back later


async def test_a_row_the_database_refuses_costs_only_its_own_vote(
    session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    """An integrity error fails the batch; its votes are then written one by one."""
    loop = asyncio.get_running_loop()
    bad: asyncio.Future[VoteReceipt] = loop.create_future()
    futures = [writer.submit(e01.id, user, 6) for user in range(3)]
    writer._queue.put_nowait(_Vote(e01.id, 3, 11, bad))  # past `submit`'s check: the CHECK constraint refuses it
    futures += [writer.submit(e01.id, user, 7) for user in range(4, 6)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert [o.half_stars for o in outcomes if isinstance(o, VoteReceipt)] == [6, 6, 6, 7, 7]
    with pytest.raises(UserError, match="could not be saved"):
        await bad
    assert await stored(session_factory, e01.id) == {0: 6, 1: 6, 2: 6, 4: 7, 5: 7}
    assert writer.stats.batches == 5  # the failed batch did not count; its good votes went one by one


async def test_invalid_ratings_are_refused_before_queueing(e01: PollInfo, writer: VoteWriter) -> None:
    for half_stars in (0, 11, -1):
        with pytest.raises(UserError, match="half steps"):
            writer.submit(e01.id, 1, half_stars)


async def test_a_close_during_a_rush_counts_exactly_the_acknowledged_votes(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    acknowledged: dict[int, int] = {}
    refused: set[int] = set()
    final: list[polls.PollStats] = []
    busy = asyncio.Event()
    answered = 0

    async def voter(user: int) -> None:
        nonlocal answered
        for round_ in range(20):
            try:
                receipt = await writer.set_vote(e01.id, user, 1 + (user + round_) % 10)
            except PollClosedError:
                refused.add(user)
                return
            assert receipt.half_stars is not None
            acknowledged[user] = receipt.half_stars
            answered += 1
            if answered >= 500:
                busy.set()

    async def closer() -> None:
        await busy.wait()
        async with session_factory() as session:
            final.append(await polls.close_poll(session, e01.id, clock.now()))

    await asyncio.gather(closer(), *(voter(user) for user in range(100)))
    assert refused  # the close happened in the middle of the rush
    assert await stored(session_factory, e01.id) == acknowledged
    # The final result counts every acknowledged vote, and nothing landed after it.
    after: Any = await polls_stats(session_factory, e01.id)
    assert final == [after]
    assert after.count == len(acknowledged)


async def test_a_close_between_the_check_and_the_write_is_never_lost(
    engine: AsyncEngine, session_factory: SessionFactory, clock: ManualClock, e01: PollInfo
) -> None:
    """The worst moment for a close: after the batch saw the poll open, before it writes."""
    final: list[polls.PollStats] = []

    async def close() -> None:
        async with session_factory() as session:
            final.append(await polls.close_poll(session, e01.id, clock.now()))

    loop = asyncio.get_running_loop()

    class CloseMidBatch(VoteWriter):
        closing: asyncio.Task[None] | None = None

        def _apply(self, connection: Connection, batch: Any, open_ids: set[int], now: Any) -> set[int]:
            if self.closing is None and open_ids:

                async def close_meanwhile() -> None:
                    self.closing = asyncio.create_task(close())
                    # SQLite: the close commits now. PostgreSQL: it waits for this batch's share lock.
                    await asyncio.wait({self.closing}, timeout=0.3)

                on_the_loop(loop, close_meanwhile())
            return super()._apply(connection, batch, open_ids, now)

    writer = CloseMidBatch(session_factory, clock)
    writer.start()
    outcomes = await asyncio.gather(*(writer.set_vote(e01.id, user, 8) for user in range(5)), return_exceptions=True)
    assert writer.closing is not None
    await writer.closing
    await writer.stop()
    acknowledged = {user for user, o in enumerate(outcomes) if isinstance(o, VoteReceipt)}
    refused = {user for user, o in enumerate(outcomes) if isinstance(o, PollClosedError)}
    assert acknowledged | refused == set(range(5))
    assert set(await stored(session_factory, e01.id)) == acknowledged
    assert final[0].count == len(acknowledged)  # acknowledged ⇔ counted in the final result
    if engine.dialect.name == "sqlite":
        assert refused == set(range(5))  # the batch saw the close under the write lock and started over
        assert writer.stats.retries == 1
    else:
        assert acknowledged == set(range(5))  # the close waited for the batch's commit


async def test_a_batch_is_one_trip_off_the_event_loop_on_sqlite(
    engine: AsyncEngine, session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    """In a rush every return to the event loop waits behind thousands of callbacks, so a batch
    must not go back and forth: on SQLite all its statements run in the writer's thread, on a
    synchronous connection (not aiosqlite, whose every call is a hop to its thread and back)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL (asyncpg) runs the batch in one greenlet on the loop's thread")
    seen: list[tuple[threading.Thread, str]] = []

    def record(connection: Connection, *_args: Any) -> None:
        seen.append((threading.current_thread(), connection.dialect.driver))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        await asyncio.gather(*(writer.set_vote(e01.id, user, 8) for user in range(20)), writer.remove_vote(e01.id, 3))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert seen and {driver for _, driver in seen} == {"pysqlite"}
    assert all(thread.name.startswith("vote-writer") for thread, _ in seen)
    assert writer.stats.batches == 1
    await writer.stop()
    assert not any(thread.is_alive() for thread, _ in seen)  # stopping ends the writer's thread


async def test_the_writer_stores_instants_exactly_as_the_orm_does(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    await writer.set_vote(e01.id, 1, 8)
    async with session_factory() as session:
        session.add(Vote(poll_id=e01.id, user_id=2, half_stars=8, updated_at=clock.now()))
        await session.commit()
        raw = {row[0]: row[1] for row in await session.execute(text("SELECT user_id, updated_at FROM vote"))}
        typed = {row[0]: row[1] for row in await session.execute(select(Vote.user_id, Vote.updated_at))}
    assert raw[1] == raw[2]  # the same stored text (SQLite) or timestamp (PostgreSQL)
    assert typed[1] == typed[2] == clock.now()  # and read back aware UTC
