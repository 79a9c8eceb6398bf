"""The group-commit vote writer: many concurrent votes all land, share commits, and each is
acknowledged only once it is committed; arrival order wins within a batch; a close is exact."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.db.engine import SessionFactory
from bot.db.models import Episode, Vote
from bot.errors import UserError
from bot.services import polls
from bot.services.polls import PollClosedError, PollGoneError, PollInfo
from bot.services.votes import STOPPED, VoteReceipt, VoteWriter
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


class CountingSession(Session):
    """Counts commits the database has completed (SQLAlchemy's after_commit event)."""

    commits = 0


@event.listens_for(CountingSession, "after_commit")
def _count_commit(session: Session) -> None:
    CountingSession.commits += 1


def counting_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CountingSession)


async def test_many_concurrent_voters_all_land_and_each_is_stored_before_its_answer(
    engine: AsyncEngine, session_factory: SessionFactory, clock: ManualClock, e01: PollInfo
) -> None:
    writer = VoteWriter(counting_factory(engine), clock)
    writer.start()
    rng = random.Random(5)
    voters, changes = 250, 3

    async def voter(user: int) -> int:
        last = 0
        for _ in range(changes):
            half_stars = rng.randint(1, 10)
            commits_before = CountingSession.commits
            receipt = await writer.set_vote(e01.id, user, half_stars)
            assert CountingSession.commits > commits_before, "answered before any commit"
            assert receipt.half_stars == half_stars and receipt.episode_number == 1
            # What was acknowledged is in the database, seen from another connection.
            assert (await stored(session_factory, e01.id))[user] == half_stars
            last = half_stars
        return last

    users = range(1_000, 1_000 + voters)
    finals = await asyncio.gather(*(voter(user) for user in users))
    await writer.stop()
    assert await stored(session_factory, e01.id) == dict(zip(users, finals, strict=True))
    assert writer.stats.votes == voters * changes
    assert writer.stats.batches < writer.stats.votes / 5  # concurrent votes shared their commits
    stats = await polls_stats(session_factory, e01.id)
    assert stats.count == voters


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
    engine: AsyncEngine, session_factory: SessionFactory, clock: ManualClock, e01: PollInfo
) -> None:
    class FailingOnce(Session):
        failures = 1

    @event.listens_for(FailingOnce, "before_commit")
    def fail(session: Session) -> None:
        if FailingOnce.failures:
            FailingOnce.failures -= 1
            raise RuntimeError("disk full")

    writer = VoteWriter(async_sessionmaker(engine, sync_session_class=FailingOnce), clock)
    writer.start()
    futures = [writer.submit(e01.id, user, 5) for user in range(10)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await stored(session_factory, e01.id) == {}
    assert (await writer.set_vote(e01.id, 1, 5)).half_stars == 5
    await writer.stop()


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

    class CloseMidBatch(VoteWriter):
        closing: asyncio.Task[None] | None = None

        async def _apply(self, session: AsyncSession, batch: Any, open_ids: set[int], now: Any) -> set[int]:
            if self.closing is None and open_ids:
                self.closing = asyncio.create_task(close())
                # SQLite: the close commits now. PostgreSQL: it waits for this batch's share lock.
                await asyncio.wait({self.closing}, timeout=0.3)
            return await super()._apply(session, batch, open_ids, now)

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
