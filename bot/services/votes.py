"""The vote writer: every vote is committed before it is acknowledged, and concurrent votes share
one commit (group commit).

A commit is the expensive part of a vote (on SQLite, one writer at a time and a WAL append per
commit; the ORM with a commit per vote manages about an eighth of raw aiosqlite's single-row
commit rate). So members' votes go into a queue that one writer task drains: each batch is one
transaction (an executemany upsert for ratings, a DELETE per removal), committed once, and only
then is each voter's future resolved. While a batch commits the next one gathers, so batches grow
with the load and an idle bot still writes a lone vote at once.

In a rush the event loop has thousands of callbacks queued and every return to it waits behind
them, so a batch must not go back and forth: its transaction is one synchronous function over a
SQLAlchemy `Connection` (the same Core statements and column types as the ORM). On SQLite it runs
in the writer's own thread, on a synchronous engine on the same file: one trip off the loop and
back per batch, where aiosqlite made a round trip to its thread per call (about 13 a batch). On
PostgreSQL it runs through `AsyncConnection.run_sync` (asyncpg has no thread; each statement still
waits for the server through the loop, as before).

Whether a poll takes votes is decided in the same transaction, from the database: the batch reads
its polls' state under a share lock (PostgreSQL: `FOR SHARE`, so a concurrent close waits for the
commit, or the batch waits for the close) and, once its writes hold the database's write lock,
reads it again (SQLite: the first read is outside the write lock), starting over if a poll closed
in between. So a vote is either counted in the final result or refused, never stored after the
close. Polls known closed are refused at once, without a queue round trip.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from bot.clock import Clock
from bot.db.engine import SessionFactory, create_sync_sqlite_engine
from bot.db.models import Episode, RatingPoll, Vote
from bot.db.upsert import upsert
from bot.errors import UserError
from bot.services.polls import PollClosedError, PollGoneError, check_half_stars

log = logging.getLogger(__name__)

# The votes of a batch are answered together: in a burst of 5,000 votes in a second, releasing
# 1,000 answers at once stalled the bot's event loop (0.5-1.5 s), so that deferrals and answers went
# out late; batches of 100 were too small to keep up (each batch waits for the loop twice). 250
# missed the fewest of Discord's deadlines (bench/vote_latency.py).
MAX_BATCH = 250
# A poll that closed between the two reads of a batch makes it start over; twice is plenty.
MAX_ATTEMPTS = 3
STOPPED = "I'm restarting right now, so your vote was not saved. Try again in a minute."


@dataclass(frozen=True)
class VoteReceipt:
    """What a member is told once their vote is committed. `half_stars` None: a removal."""

    poll_id: int
    episode_number: int
    half_stars: int | None
    closes_at: datetime
    # For removals: whether there was a rating to remove.
    removed: bool = False


@dataclass
class WriterStats:
    """Counters for the bench and the logs (no user ids, no values)."""

    votes: int = 0
    batches: int = 0
    largest_batch: int = 0
    retries: int = 0

    @property
    def mean_batch(self) -> float:
        return self.votes / self.batches if self.batches else 0.0


@dataclass(frozen=True)
class _PollState:
    episode_number: int
    closes_at: datetime
    closed_at: datetime | None

    def refusal(self, now: datetime) -> PollClosedError | None:
        if self.closed_at is not None:
            return PollClosedError(min(self.closed_at, self.closes_at))
        if now >= self.closes_at:
            return PollClosedError(self.closes_at)
        return None


class _Vote:
    __slots__ = ("future", "half_stars", "poll_id", "user_id")

    def __init__(self, poll_id: int, user_id: int, half_stars: int | None, future: asyncio.Future[VoteReceipt]):
        self.poll_id = poll_id
        self.user_id = user_id
        self.half_stars = half_stars
        self.future = future


_STOP = object()


class _Committed:
    """What a batch's transaction found and did: the polls' states (from the read under the
    write lock), the indexes of removals that removed a rating, the instant used, the restarts."""

    __slots__ = ("now", "removed", "retries", "states")

    def __init__(self, states: dict[int, _PollState], removed: set[int], now: datetime, retries: int) -> None:
        self.states = states
        self.removed = removed
        self.now = now
        self.retries = retries


class VoteWriter:
    """One writer task; `set_vote`/`remove_vote` return once the vote is committed."""

    def __init__(self, session_factory: SessionFactory, clock: Clock, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = _engine_of(session_factory)
        self._clock = clock
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Vote | object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self._closed: dict[int, datetime] = {}
        # SQLite: a synchronous engine on the same file, used from one thread of our own.
        self._sqlite: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self.stats = WriterStats()

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            if self._engine.dialect.name == "sqlite":
                self._sqlite = create_sync_sqlite_engine(self._engine.url)
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vote-writer")
            self._accepting = True
            self._task = asyncio.create_task(self._run(), name="vote-writer")

    async def stop(self) -> None:
        """Refuse new votes, write every queued one, then end the writer task."""
        if self._task is None:
            return
        self._accepting = False
        self._queue.put_nowait(_STOP)
        try:
            await self._task
        finally:
            self._task = None
            sqlite, thread, self._sqlite, self._thread = self._sqlite, self._thread, None, None
            if sqlite is not None and thread is not None:
                await asyncio.get_running_loop().run_in_executor(thread, sqlite.dispose)
                thread.shutdown()  # idle now: its thread ends at once

    # --- voting -------------------------------------------------------------------------------

    def submit(self, poll_id: int, user_id: int, half_stars: int | None) -> asyncio.Future[VoteReceipt]:
        """Queue a vote (None removes it); the future resolves after its commit.

        Raises at once for a poll known closed, an invalid rating, or a stopped writer.
        """
        if not self._accepting or self._task is None or self._task.done():
            raise UserError(STOPPED)
        closed_on = self._closed.get(poll_id)
        if closed_on is not None:
            raise PollClosedError(closed_on)
        if half_stars is not None:
            check_half_stars(half_stars)
        future: asyncio.Future[VoteReceipt] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Vote(poll_id, user_id, half_stars, future))
        return future

    async def set_vote(self, poll_id: int, user_id: int, half_stars: int) -> VoteReceipt:
        return await self.submit(poll_id, user_id, half_stars)

    async def remove_vote(self, poll_id: int, user_id: int) -> VoteReceipt:
        return await self.submit(poll_id, user_id, None)

    def mark_closed(self, poll_id: int, closed_on: datetime) -> None:
        """Remember a closed poll, so votes for it are refused without touching the database."""
        self._closed[poll_id] = closed_on

    # --- the writer task ----------------------------------------------------------------------

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = await self._next_batch()
            if batch:
                await self._write(batch)

    async def _next_batch(self) -> tuple[list[_Vote], bool]:
        """The next batch, and whether the writer was told to stop after it."""
        first = await self._queue.get()
        if first is _STOP:
            return [], True
        await asyncio.sleep(0)  # let voters that are already running join this batch
        batch: list[_Vote] = [first]  # type: ignore[list-item]
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is _STOP:  # nothing can follow it: `stop` refuses new votes first
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        return batch, False

    async def _write(self, batch: list[_Vote]) -> None:
        try:
            committed = await self._commit(batch)
        except IntegrityError:
            if len(batch) == 1:
                log.exception("a vote could not be stored")
                _fail(batch, UserError("That vote could not be saved; please try again."))
                return
            # One bad row must not cost everyone else their vote: write them one by one.
            log.warning("a batch of %d votes hit an integrity error; writing them one by one", len(batch))
            for vote in batch:
                await self._write([vote])
            return
        except Exception as exc:
            log.exception("a batch of %d votes could not be stored", len(batch))
            _fail(batch, exc)
            return
        self._remember_closed(committed.states)
        self.stats.votes += len(batch)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        self.stats.retries += committed.retries
        for index, vote in enumerate(batch):
            if vote.future.done():  # the voter gave up waiting (cancelled)
                continue
            outcome = _outcome(vote, committed.states, index in committed.removed, committed.now)
            if isinstance(outcome, Exception):
                vote.future.set_exception(outcome)
            else:
                vote.future.set_result(outcome)

    async def _commit(self, batch: list[_Vote]) -> _Committed:
        """The batch's transaction. On SQLite, in one trip to the writer's thread and back (a
        batch that made a dozen aiosqlite round trips took seconds instead of milliseconds in a
        rush, each return waiting behind the loop's queue); on PostgreSQL through `run_sync`."""
        if self._sqlite is not None and self._thread is not None:
            sqlite = self._sqlite

            def in_thread() -> _Committed:
                with sqlite.connect() as connection:
                    return self._transaction(connection, batch)

            return await asyncio.get_running_loop().run_in_executor(self._thread, in_thread)
        async with self._engine.connect() as connection:
            return await connection.run_sync(self._transaction, batch)

    def _transaction(self, connection: Connection, batch: list[_Vote]) -> _Committed:
        """Synchronous: read the polls' states, write the open polls' votes, read the states again
        (SQLite: now under the write lock), commit — or roll back and start over if a poll closed
        in between. Runs off the event loop: touches no future, changes no shared state."""
        poll_ids = sorted({vote.poll_id for vote in batch})
        for attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            states = _poll_states(connection, poll_ids)
            open_ids = {pid for pid, state in states.items() if state.refusal(now) is None}
            removed = self._apply(connection, batch, open_ids, now)
            again = _poll_states(connection, poll_ids)
            if {pid for pid, state in again.items() if state.refusal(now) is None} == open_ids:
                try:
                    connection.commit()
                except BaseException:
                    # SQLAlchemy counts the transaction ended even when COMMIT failed, so the
                    # pool would not roll the driver's transaction back: drop the connection, or
                    # a later batch could commit these refused votes.
                    connection.invalidate()
                    raise
                return _Committed(again, removed, now, attempt)
            connection.rollback()  # a poll closed between the two reads: start over
        raise RuntimeError("polls kept changing under the vote writer")  # pragma: no cover

    def _apply(self, connection: Connection, batch: list[_Vote], open_ids: set[int], now: datetime) -> set[int]:
        """Write the last word per (poll, member), in arrival order; the indexes of removals
        that removed a rating."""
        latest: dict[tuple[int, int], int] = {}
        rated: set[tuple[int, int]] = set()  # keys with a rating in the batch so far
        rated_before_last: dict[tuple[int, int], bool] = {}
        for index, vote in enumerate(batch):
            if vote.poll_id not in open_ids:
                continue
            key = (vote.poll_id, vote.user_id)
            latest[key] = index
            rated_before_last[key] = key in rated
            if vote.half_stars is not None:
                rated.add(key)
        ratings = [
            {"poll_id": key[0], "user_id": key[1], "half_stars": batch[index].half_stars, "updated_at": now}
            for key, index in sorted(latest.items())
            if batch[index].half_stars is not None
        ]
        if ratings:
            connection.execute(_upsert_statement(connection.dialect.name), ratings)
        final = set(latest.values())
        # A removal overtaken by a later vote of the same member did remove what was there.
        removed = {i for i, v in enumerate(batch) if v.half_stars is None and v.poll_id in open_ids and i not in final}
        for key, index in sorted(latest.items()):
            if batch[index].half_stars is None:
                result = connection.execute(_DELETE_VOTE, {"poll_id": key[0], "user_id": key[1]})
                if result.rowcount or rated_before_last[key]:
                    removed.add(index)
        return removed

    def _remember_closed(self, states: dict[int, _PollState]) -> None:
        for poll_id, state in states.items():
            if state.closed_at is not None:
                self._closed[poll_id] = min(state.closed_at, state.closes_at)


def _engine_of(session_factory: SessionFactory) -> AsyncEngine:
    engine = session_factory.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the vote writer needs a session factory bound to an AsyncEngine")
    return engine


_UPSERTS: dict[str, Insert] = {}


def _upsert_statement(dialect: str) -> Insert:
    """The vote upsert, built once per dialect (SQLAlchemy caches its compiled form too)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        statement = upsert(dialect, Vote.__table__, ["poll_id", "user_id"], ["half_stars", "updated_at"])  # type: ignore[arg-type]
        _UPSERTS[dialect] = statement
    return statement


_DELETE_VOTE = delete(Vote).where(Vote.poll_id == bindparam("poll_id"), Vote.user_id == bindparam("user_id"))


def _poll_states(connection: Connection, poll_ids: list[int]) -> dict[int, _PollState]:
    rows = connection.execute(
        select(RatingPoll.id, RatingPoll.closes_at, RatingPoll.closed_at, Episode.number)
        .join(Episode, Episode.id == RatingPoll.episode_id)
        .where(RatingPoll.id.in_(poll_ids))
        .with_for_update(read=True, of=RatingPoll)
    )
    return {row[0]: _PollState(row[3], row[1], row[2]) for row in rows}


def _outcome(vote: _Vote, states: dict[int, _PollState], removed: bool, now: datetime) -> VoteReceipt | Exception:
    state = states.get(vote.poll_id)
    if state is None:
        return PollGoneError()
    refusal = state.refusal(now)
    if refusal is not None:
        return refusal
    return VoteReceipt(vote.poll_id, state.episode_number, vote.half_stars, state.closes_at, removed=removed)


def _fail(batch: list[_Vote], error: BaseException) -> None:
    for vote in batch:
        if not vote.future.done():
            vote.future.set_exception(error)
