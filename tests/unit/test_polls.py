"""Rating polls as members meet them: half stars, one vote each, changing, removing, closing,
`/rate`, and the numbers shown on the poll message."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.db.engine import SessionFactory
from bot.db.models import Episode
from bot.errors import NotFoundError, UserError
from bot.render.polls import average_line, closed_poll_embed, histogram, poll_embed, stars, vote_reply
from bot.render.text import ts
from bot.services import polls
from bot.services.polls import PollClosedError, PollInfo, PollStats
from bot.services.shows import ShowForm
from bot.services.votes import VoteWriter
from tests.support.db import make_club, make_show
from tests.support.seeds import BEFORE_SEASON, E01_AIR, REVIEW_STARS

WEEK = timedelta(days=7)
E02_AIR = E01_AIR + WEEK
ALICE, BOB, CAROL, DAVE, ERIN = 101, 102, 103, 104, 105


@dataclass
class Rouge:
    show_id: int
    episode_ids: dict[int, int]


@pytest.fixture
async def rouge(session: AsyncSession, clock: ManualClock) -> Rouge:
    """Metallic Rouge, set up before the season; the clock then stands an hour after E01."""
    await make_club(session, BEFORE_SEASON)
    show = await make_show(session, BEFORE_SEASON)
    rows = await session.execute(select(Episode.number, Episode.id).where(Episode.show_id == show.id))
    clock.set(E01_AIR + timedelta(hours=1))
    return Rouge(show.id, {number: episode_id for number, episode_id in rows})


@pytest.fixture
async def writer(session_factory: SessionFactory, clock: ManualClock) -> AsyncIterator[VoteWriter]:
    writer = VoteWriter(session_factory, clock)
    writer.start()
    yield writer
    await writer.stop()


@pytest.fixture
async def e01(session: AsyncSession, rouge: Rouge) -> PollInfo:
    """E01's poll as the drop opens it: closing when E02 drops."""
    return await polls.open_poll(session, rouge.episode_ids[1], E02_AIR, E01_AIR)


async def stats_of(session_factory: SessionFactory, poll_id: int) -> PollStats:
    async with session_factory() as session:
        return await polls.poll_stats(session, poll_id)


# --- stars ----------------------------------------------------------------------------------


def test_stars_are_drawn_in_half_steps() -> None:
    assert [stars(h) for h in (1, 2, 3, 7, 8, 10)] == ["½ ★", "★", "★½", "★★★½", "★★★★", "★★★★★"]


@pytest.mark.parametrize(("typed", "half_stars"), [("0.5", 1), (1, 2), ("2,5", 5), (3.5, 7), ("4", 8), (5.0, 10)])
def test_rate_accepts_half_steps_from_half_to_five(typed: str | float, half_stars: int) -> None:
    assert polls.parse_stars(typed) == half_stars


@pytest.mark.parametrize("typed", [0, 0.25, 3.3, 5.5, -1, 10, "four", "", math.nan, math.inf])
def test_rate_refuses_other_values_listing_the_allowed_ones(typed: str | float) -> None:
    with pytest.raises(UserError) as refused:
        polls.parse_stars(typed)
    assert "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5 or 5" in refused.value.message


# --- opening, statistics --------------------------------------------------------------------


async def test_opening_again_returns_the_same_poll(session: AsyncSession, rouge: Rouge, e01: PollInfo) -> None:
    again = await polls.open_poll(session, rouge.episode_ids[1], E02_AIR + WEEK, E01_AIR + timedelta(minutes=5))
    assert again.id == e01.id
    assert again.closes_at == E02_AIR  # a retried drop does not move the close
    assert (again.show_title, again.episode_number) == ("Metallic Rouge", 1)


async def test_empty_poll_shows_no_ratings_yet(session_factory: SessionFactory, e01: PollInfo) -> None:
    stats = await stats_of(session_factory, e01.id)
    assert (stats.count, stats.average, stats.histogram) == (0, None, (0,) * 10)
    embed = poll_embed(e01, stats)
    assert embed.title == "Rate Metallic Rouge E01"
    assert "No ratings yet" in (embed.description or "")
    assert ts(E02_AIR, "R") in (embed.description or "")


async def test_full_poll_shows_average_count_and_histogram(
    session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    # The reviews gave E01 4 stars; four more members rated it too.
    for user, half_stars in [(ALICE, int(REVIEW_STARS[1] * 2)), (BOB, 8), (CAROL, 7), (DAVE, 5), (ERIN, 10)]:
        await writer.set_vote(e01.id, user, half_stars)
    stats = await stats_of(session_factory, e01.id)
    assert stats.count == 5
    assert stats.average == pytest.approx(3.8)
    assert stats.histogram == (0, 0, 0, 0, 1, 0, 1, 2, 0, 1)
    assert average_line(stats) == "★ 3.8 · 5 ratings"
    assert "★ 3.8 · 5 ratings" in (poll_embed(e01, stats).description or "")
    assert average_line(PollStats((0, 0, 0, 0, 1, 0, 0, 0, 0, 0))) == "★ 2.5 · 1 rating"


# --- voting ---------------------------------------------------------------------------------


async def test_choosing_again_changes_the_vote(
    session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter
) -> None:
    first = await writer.set_vote(e01.id, ALICE, 8)
    second = await writer.set_vote(e01.id, ALICE, 5)
    stats = await stats_of(session_factory, e01.id)
    assert stats.count == 1
    assert stats.histogram[4] == 1  # 2½ stars, the second choice
    assert vote_reply(first) == f"You rated E01 ★★★★ — change it any time until {ts(E02_AIR, 'R')}."
    assert vote_reply(second).startswith("You rated E01 ★★½ — ")


async def test_removing_a_rating(session_factory: SessionFactory, e01: PollInfo, writer: VoteWriter) -> None:
    await writer.set_vote(e01.id, ALICE, 8)
    await writer.set_vote(e01.id, BOB, 6)
    removed = await writer.remove_vote(e01.id, ALICE)
    assert removed.removed
    assert vote_reply(removed).startswith("Removed your rating of E01.")
    stats = await stats_of(session_factory, e01.id)
    assert (stats.count, stats.average) == (1, 3.0)
    nothing = await writer.remove_vote(e01.id, ALICE)
    assert not nothing.removed
    assert vote_reply(nothing) == "You hadn't rated E01, so there was nothing to remove."


# --- closing --------------------------------------------------------------------------------


async def test_closing_shows_the_final_result_and_refuses_later_votes(
    session_factory: SessionFactory, clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    for user, half_stars in [(ALICE, 8), (BOB, 8), (CAROL, 5)]:
        await writer.set_vote(e01.id, user, half_stars)
    clock.set(E02_AIR)
    async with session_factory() as session:
        final = await polls.close_poll(session, e01.id, clock.now())
        closed = await polls.get_poll(session, e01.id)
    assert closed is not None
    assert (final.count, final.average) == (3, pytest.approx(3.5))
    assert closed.closed_at == E02_AIR
    embed = closed_poll_embed(closed, final)
    text = embed.description or ""
    assert "★ 3.5 · 3 ratings" in text
    assert "  4 ████████████████████ 2" in text  # the histogram, a bar per half-star value
    assert "2.5 ██████████ 1" in text
    assert "final" in (embed.title or "")

    with pytest.raises(PollClosedError) as refused:
        await writer.set_vote(e01.id, DAVE, 10)
    assert refused.value.message.startswith(f"This poll closed on <t:{int(E02_AIR.timestamp())}:f>")
    with pytest.raises(PollClosedError):
        await writer.remove_vote(e01.id, ALICE)  # a closed result is final, removals too
    assert await stats_of(session_factory, e01.id) == final

    clock.advance(timedelta(hours=1))
    async with session_factory() as session:
        assert await polls.close_poll(session, e01.id, clock.now()) == final  # closing again changes nothing
        again = await polls.get_poll(session, e01.id)
    assert again is not None and again.closed_at == E02_AIR


async def test_votes_after_the_close_time_are_refused_before_the_close_runs(
    clock: ManualClock, e01: PollInfo, writer: VoteWriter
) -> None:
    clock.set(E02_AIR + timedelta(seconds=1))
    with pytest.raises(PollClosedError) as refused:
        await writer.set_vote(e01.id, ALICE, 8)
    assert f"<t:{int(E02_AIR.timestamp())}:f>" in refused.value.message


async def test_a_late_close_records_the_planned_close_time(session_factory: SessionFactory, e01: PollInfo) -> None:
    async with session_factory() as session:
        await polls.close_poll(session, e01.id, E02_AIR + timedelta(hours=5))  # the bot was down
        closed = await polls.get_poll(session, e01.id)
    assert closed is not None and closed.closed_on == E02_AIR


async def test_closed_poll_without_ratings(e01: PollInfo) -> None:
    embed = closed_poll_embed(e01, PollStats())
    assert "Nobody rated this episode" in (embed.description or "")
    lines = histogram(PollStats((0,) * 9 + (3,))).strip("`\n").splitlines()
    assert lines[:3] == ["  5 " + "█" * 20 + " 3", "4.5 0", "  4 0"]
    assert len(lines) == 10


# --- /rate ----------------------------------------------------------------------------------


async def test_rate_refuses_an_episode_that_has_not_aired(
    session: AsyncSession, rouge: Rouge, clock: ManualClock
) -> None:
    with pytest.raises(UserError) as refused:
        await polls.resolve_rating_target(session, 424242, "metallic rouge", 3, clock.now())
    assert "E03 of **Metallic Rouge** hasn't aired yet" in refused.value.message
    assert f"<t:{int((E01_AIR + 2 * WEEK).timestamp())}:R>" in refused.value.message


async def test_rate_refuses_unknown_shows_and_episodes(session: AsyncSession, rouge: Rouge, clock: ManualClock) -> None:
    with pytest.raises(NotFoundError):
        await polls.resolve_rating_target(session, 424242, "Frieren", 1, clock.now())
    with pytest.raises(UserError, match="no episode 14"):
        await polls.resolve_rating_target(session, 424242, "Metallic Rouge", 14, clock.now())


async def test_rate_uses_the_drop_poll(session: AsyncSession, rouge: Rouge, clock: ManualClock, e01: PollInfo) -> None:
    target = await polls.resolve_rating_target(session, 424242, "Metallic", 1, clock.now())
    assert (target.poll.id, target.created) == (e01.id, False)


async def test_rate_opens_a_missed_poll_without_a_message(
    session: AsyncSession, session_factory: SessionFactory, rouge: Rouge, clock: ManualClock, writer: VoteWriter
) -> None:
    target = await polls.resolve_rating_target(session, 424242, "Metallic Rouge", 1, clock.now())
    assert target.created
    assert target.poll.message_id is None
    assert target.poll.closes_at == E02_AIR  # when the drop's poll would have closed
    receipt = await writer.set_vote(target.poll.id, ALICE, 7)
    assert vote_reply(receipt, show_title="Metallic Rouge").startswith("You rated Metallic Rouge E01 ★★★½")
    again = await polls.resolve_rating_target(session, 424242, "Metallic Rouge", 1, clock.now())
    assert (again.poll.id, again.created) == (target.poll.id, False)
    # the drop, retried later, finds the same poll and its rating
    opened = await polls.open_poll(session, rouge.episode_ids[1], E02_AIR, clock.now())
    assert opened.id == target.poll.id
    assert (await stats_of(session_factory, opened.id)).count == 1


async def test_rate_refuses_an_old_episode_whose_poll_time_has_passed(
    session: AsyncSession, rouge: Rouge, clock: ManualClock
) -> None:
    clock.set(E02_AIR + timedelta(hours=1))
    with pytest.raises(PollClosedError) as refused:
        await polls.resolve_rating_target(session, 424242, "Metallic Rouge", 1, clock.now())
    assert f"<t:{int(E02_AIR.timestamp())}:f>" in refused.value.message
    assert await polls.poll_for_episode(session, rouge.episode_ids[1]) is None  # nothing was written


async def test_a_finale_poll_closes_after_the_club_poll_days(session: AsyncSession, clock: ManualClock) -> None:
    await make_club(session, BEFORE_SEASON, poll_days=3)
    form = ShowForm(title="One Shot", episodes=1, weekday="Thursday", time="23:30", start="2024-01-11")
    await make_show(session, BEFORE_SEASON, form)
    target = await polls.resolve_rating_target(session, 424242, "One Shot", 1, E01_AIR + timedelta(hours=1))
    assert target.poll.closes_at == E01_AIR + timedelta(days=3)
