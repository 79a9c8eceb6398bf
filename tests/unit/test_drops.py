"""Announcements exactly once, on time, late within grace, never after it, across restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.models import DropAction, Show
from bot.services import drops
from bot.services.drops import DropRunner, PublishError
from bot.services.shows import ShowForm
from tests.support.db import make_club, make_show
from tests.support.publisher import RecordingPublisher, RecordingScheduler
from tests.support.seeds import BEFORE_SEASON, E01_AIR

GRACE = timedelta(hours=6)
WEEK = timedelta(days=7)


def runner(
    factory: SessionFactory, clock: ManualClock, publisher: RecordingPublisher, scheduler: RecordingScheduler
) -> DropRunner:
    return DropRunner(factory, clock, publisher, GRACE, scheduler)


@pytest.fixture
async def show_id(session: AsyncSession, clock: ManualClock) -> int:
    clock.set(BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON)
    return (await make_show(session, BEFORE_SEASON)).id


async def actions(session: AsyncSession) -> dict[tuple[int, str], DropAction]:
    rows = (await session.execute(select(DropAction).execution_options(populate_existing=True))).scalars().all()
    numbers = {}
    for row in rows:
        numbers[row.episode_id] = numbers.get(row.episode_id)
    show = await drops.load_show(session, (await session.scalar(select(Show.id))) or 0)
    assert show is not None
    by_id = {e.id: e.number for e in show.episodes}
    return {(by_id[r.episode_id], r.kind): r for r in rows}


async def test_heads_up_then_announcement_on_time(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    run = runner(session_factory, clock, publisher, scheduler)
    clock.set(E01_AIR - timedelta(minutes=60))
    await run.run_show(show_id)
    assert publisher.kinds() == [(1, "reminder")]
    assert scheduler.calls[show_id] == E01_AIR
    clock.set(E01_AIR)
    await run.run_show(show_id)
    assert publisher.kinds() == [(1, "reminder"), (1, "announce")]
    assert not publisher.performed[-1].late
    assert scheduler.calls[show_id] == E01_AIR + WEEK - timedelta(minutes=60)
    performed = len(publisher.performed)
    await run.run_show(show_id)  # a second firing at the same instant does nothing
    assert len(publisher.performed) == performed
    recorded = await actions(session)
    assert recorded[(1, "announce")].status == "done"
    assert recorded[(1, "announce")].message_id is not None


async def test_no_heads_up_when_reminder_is_zero(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock
) -> None:
    await make_club(session, BEFORE_SEASON)
    form = ShowForm(title="Quiet", episodes=1, weekday="Thursday", time="23:30", start="2024-01-11", reminder=0)
    show = await make_show(session, BEFORE_SEASON, form)
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    clock.set(E01_AIR)
    await runner(session_factory, clock, publisher, scheduler).run_show(show.id)
    assert publisher.kinds() == [(1, "announce")]
    assert publisher.performed[0].is_finale
    # after the finale, only the wrap-up reminder is left (when its poll would close)
    assert scheduler.calls[show.id] == E01_AIR + timedelta(days=7)


async def test_missed_drop_within_grace_is_announced_once_marked_late(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    clock.set(E01_AIR + timedelta(hours=3))  # the bot was down across the drop
    run = runner(session_factory, clock, publisher, scheduler)
    await run.run_show(show_id)
    await run.run_show(show_id)
    assert publisher.kinds() == [(1, "announce")]  # the heads-up is pointless now
    assert [c.late for c in publisher.performed if c.kind == "announce"] == [True]
    recorded = await actions(session)
    assert recorded[(1, "reminder")].status == "skipped"
    assert recorded[(1, "announce")].late


async def test_drops_older_than_grace_are_missed_and_do_not_block_later_ones(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    clock.set(E01_AIR + WEEK - timedelta(minutes=30))  # down for a week; E02 due in 30 minutes
    run = runner(session_factory, clock, publisher, scheduler)
    await run.run_show(show_id)
    assert publisher.kinds() == [(2, "reminder")]
    recorded = await actions(session)
    assert recorded[(1, "announce")].status == "missed"
    clock.set(E01_AIR + WEEK)
    await run.run_show(show_id)
    assert publisher.kinds() == [(2, "reminder"), (2, "announce")]


async def test_claimed_but_not_sent_is_retried_once_after_restart(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    clock.set(E01_AIR)
    show = await drops.load_show(session, show_id)
    assert show is not None
    first = drops.timings(show)[0]
    # The first process claims the announcement, then dies before sending.
    claimed = await drops.claim(session, first.id, "announce", first.air_at, clock.now(), late=False)
    assert claimed is not None
    await drops.record_outcome(session, first.id, "reminder", first.air_at, "skipped", clock.now())

    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    run = runner(session_factory, clock, publisher, scheduler)
    await run.run_show(show_id)  # restarted at once: the claim is still leased
    assert publisher.performed == []
    assert scheduler.calls[show_id] == clock.now() + drops.CLAIM_LEASE
    clock.advance(drops.CLAIM_LEASE + timedelta(seconds=1))
    await run.run_show(show_id)
    await run.run_show(show_id)
    assert publisher.kinds() == [(1, "announce")]
    announced = [c for c in publisher.performed if c.kind == "announce"]
    assert announced[0].nonce == f"wc{claimed.id}"  # same nonce: Discord dedupes a resend
    recorded = await actions(session)
    assert recorded[(1, "announce")].attempts == 2
    assert recorded[(1, "announce")].status == "done"


async def test_two_concurrent_firings_give_one_message(
    session_factory: SessionFactory, clock: ManualClock, show_id: int
) -> None:
    publisher, scheduler = RecordingPublisher(delay=0.05), RecordingScheduler()
    run = runner(session_factory, clock, publisher, scheduler)
    clock.set(E01_AIR)
    await asyncio.gather(*(run.run_show(show_id) for _ in range(5)))
    assert publisher.kinds() == [(1, "announce")]


async def test_two_processes_on_one_database_give_one_message(
    database_url: str, session_factory: SessionFactory, clock: ManualClock, show_id: int
) -> None:
    other_engine = create_engine(database_url)
    try:
        publisher = RecordingPublisher(delay=0.05)
        clock.set(E01_AIR)
        first = runner(session_factory, clock, publisher, RecordingScheduler())
        second = runner(create_session_factory(other_engine), clock, publisher, RecordingScheduler())
        await asyncio.gather(first.run_show(show_id), second.run_show(show_id), first.run_show(show_id))
        assert publisher.kinds() == [(1, "announce")]
    finally:
        await other_engine.dispose()


async def test_forbidden_channel_is_recorded_retried_with_backoff_then_failed(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    error = PublishError("403 Missing Permissions in the announcement channel")
    publisher, scheduler = RecordingPublisher(fail_with={"announce": error}), RecordingScheduler()
    run = runner(session_factory, clock, publisher, scheduler)
    clock.set(E01_AIR)
    await run.run_show(show_id)
    recorded = await actions(session)
    assert recorded[(1, "announce")].status == "retry"
    assert recorded[(1, "announce")].last_error == error.reason
    for backoff in drops.RETRY_BACKOFF:
        assert scheduler.calls[show_id] == clock.now() + backoff
        clock.advance(backoff)
        await run.run_show(show_id)
    recorded = await actions(session)
    assert recorded[(1, "announce")].status == "failed"
    assert recorded[(1, "announce")].attempts == len(drops.RETRY_BACKOFF) + 1
    # the schedule goes on: once the channel is fixed, the next drop works
    publisher.fail_with.clear()
    clock.set(E01_AIR + WEEK)
    await run.run_show(show_id)
    assert (2, "announce") in publisher.kinds()


async def test_the_finale_is_flagged_and_nothing_is_due_after_it(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    run = runner(session_factory, clock, publisher, scheduler)
    for week in range(13):
        clock.set(E01_AIR + week * WEEK + timedelta(minutes=1))
        await run.run_show(show_id)
    finale = [c for c in publisher.performed if c.kind == "announce"][-1]
    assert (finale.episode_number, finale.is_finale) == (13, True)
    assert not any(c.is_finale for c in publisher.performed if c.episode_number < 13)
    clock.set(E01_AIR + 12 * WEEK + timedelta(days=7))
    await run.run_show(show_id)
    assert publisher.kinds(frozenset({"wrapup_ready"})) == [(13, "wrapup_ready")]
    assert scheduler.calls[show_id] is None
    show = await session.get(Show, show_id, populate_existing=True)
    assert show is not None and show.next_due_at is None


async def test_paused_show_does_nothing(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock, show_id: int
) -> None:
    from bot.services import shows

    await shows.pause_show(session, 424242, "Metallic Rouge", BEFORE_SEASON)
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    clock.set(E01_AIR)
    await runner(session_factory, clock, publisher, scheduler).run_show(show_id)
    assert publisher.performed == []
    assert scheduler.calls[show_id] is None


async def test_rebuild_lists_due_shows_in_one_query(session: AsyncSession, show_id: int) -> None:
    due = await drops.due_shows(session)
    assert due == [(show_id, E01_AIR - timedelta(minutes=60))]
