"""Issue 5 end to end: the per-episode half-star poll, from the drop to the final result.

Every scenario drives the real `python -m bot` process through the fake Discord. A drop is
made due without waiting for it: the moderator sets the club up with the bot's clock a day
early, the bot is killed, and started again a second after the drop, which it then runs at
once (well inside the two minutes after which a drop counts as late).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.render.polls import average_line, histogram, stars, vote_reply
from bot.render.text import ts
from bot.services.polls import ALLOWED_STARS, PollClosedError, PollStats
from bot.services.votes import VoteReceipt
from tests.e2e.conftest import WatchClub
from tests.e2e.fakediscord import BotProcess, FakeDiscord, InvocationError, Member, Message, PendingInteraction, Thread
from tests.e2e.fakediscord import driver as fake_driver
from tests.e2e.test_drops_e2e import add_show, setup_club

DROP = datetime(2024, 1, 12, 4, 30, tzinfo=UTC)  # E01: Thursday 2024-01-11 23:30 in New York
E02 = DROP + timedelta(days=7)  # E01's poll closes when E02 drops
SELECT, BUTTON = 3, 2
RATINGS = [str(value) for value in range(1, 11)]  # the select's values: half stars, ½ to 5
POLL_EDIT = "/channels/{channel_id}/messages/{message_id}"


# --- helpers ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Poll:
    thread: Thread
    message: Message
    bot: BotProcess

    @property
    def rate_id(self) -> str:
        return component(self.message, SELECT)["custom_id"]

    @property
    def clear_id(self) -> str:
        return component(self.message, BUTTON)["custom_id"]


def component(message: Message, kind: int) -> dict[str, Any]:
    found = [c for c in message.iter_components() if c.get("type") == kind]
    assert len(found) == 1, message.components
    return found[0]


def is_poll(message: Message) -> bool:
    return message.author.bot and bool(message.embeds) and message.embeds[0].get("title", "").startswith("Rate ")


def add_fans(watchclub: WatchClub, count: int) -> list[Member]:
    return [watchclub.server.guild.add_member(f"fan{index:03d}") for index in range(count)]


async def open_poll_at_drop(watchclub: WatchClub) -> Poll:
    """Set the club up a day early, then start the bot just after E01's drop: its poll opens."""
    s = watchclub.server
    early = await watchclub.start(clock_start=DROP - timedelta(days=1))
    await setup_club(watchclub)
    await add_show(watchclub)
    await early.kill()
    bot = await watchclub.start(clock_start=DROP + timedelta(seconds=1))
    thread = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=30)
    message = await s.fake.wait_for_message(thread, is_poll, timeout=30)
    return Poll(thread, message, bot)


async def answer(pending: PendingInteraction) -> str:
    """The private answer a member reads (after a "thinking…" defer, its follow-up)."""
    reply = await pending
    if reply.deferred:
        message = await reply.wait_followup(timeout=10)
        assert message.ephemeral
        return message.content
    assert reply.ephemeral, reply
    return reply.content


def final_answer(pending: PendingInteraction) -> str | None:
    """The answer so far, without waiting (None: nothing yet, or only "thinking…")."""
    record = pending.record
    if record.initial is None:
        return None
    if record.original is not None and not record.original.loading:
        return record.original.content
    return record.followups[0].content if record.followups else None


async def rate(fake: FakeDiscord, poll: Poll, member: Member, half_stars: int) -> str:
    return await answer(fake.select(poll.message, poll.rate_id, [str(half_stars)], member))


def rated(half_stars: int) -> str:
    """What the bot tells a member who rated E01 from the poll message."""
    return vote_reply(VoteReceipt(0, 1, half_stars, E02))


def removed(had_rating: bool = True) -> str:
    return vote_reply(VoteReceipt(0, 1, None, E02, removed=had_rating))


def stats_of(votes: Iterable[int]) -> PollStats:
    counts = Counter(votes)
    return PollStats(tuple(counts[value] for value in range(1, 11)))


def description(message: Message) -> str:
    return message.embeds[0].get("description", "") if message.embeds else ""


async def wait_for_average(fake: FakeDiscord, poll: Poll, stats: PollStats, timeout: float = 15) -> str:
    """Wait for the (coalesced) edit that shows `stats` on the poll message."""
    line = f"**{average_line(stats)}**"
    await fake.wait_for(lambda: description(poll.message).startswith(line) or None, timeout, f"the poll to show {line}")
    return line


async def stored_votes(watchclub: WatchClub) -> dict[int, int]:
    rows = await watchclub.query("SELECT user_id, half_stars FROM vote")
    return {int(user_id): int(half_stars) for user_id, half_stars in rows}


def poll_edits(fake: FakeDiscord, poll: Poll) -> int:
    return len(fake.requests("PATCH", POLL_EDIT, channel_id=poll.thread.id, message_id=poll.message.id))


# --- the drop -----------------------------------------------------------------------------------


async def test_drop_opens_the_poll_in_the_episode_thread_linked_from_the_announcement(watchclub: WatchClub) -> None:
    s = watchclub.server
    poll = await open_poll_at_drop(watchclub)

    assert poll.thread.name == "Metallic Rouge · E01"
    assert poll.message.channel_id == poll.thread.id
    embed = poll.message.embeds[0]
    assert embed["title"] == "Rate Metallic Rouge E01"
    assert embed["description"].startswith("**No ratings yet**")
    assert f"until the poll closes {ts(E02, 'R')}" in embed["description"]
    select = component(poll.message, SELECT)
    assert [o["value"] for o in select["options"]] == RATINGS
    labels = [o["label"] for o in select["options"]]
    assert labels == [stars(value) for value in range(1, 11)]
    assert (labels[0], labels[6], labels[9]) == ("½ ★", "★★★½", "★★★★★")
    assert select.get("min_values", 1) == select.get("max_values", 1) == 1
    assert not select.get("disabled")
    button = component(poll.message, BUTTON)
    assert button["label"] == "Remove my rating"
    assert not button.get("disabled")

    # the announcement links to the poll (it is edited once the poll exists)
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: "is out" in m.content, timeout=15)
    await s.fake.wait_for(lambda: poll.message.jump_url in announcement.content or None, timeout=15)
    assert f"⭐ Rate it: {poll.message.jump_url}" in announcement.content
    assert len([m for m in poll.thread.history() if is_poll(m)]) == 1

    rows = await watchclub.wait_for_rows("SELECT channel_id, message_id, closed_at FROM rating_poll")
    assert [(int(c), int(m), closed) for c, m, closed in rows] == [(poll.thread.id, poll.message.id, None)]
    action = await watchclub.wait_for_rows("SELECT message_id FROM drop_action WHERE kind = 'poll' AND status = 'done'")
    assert int(action[0][0]) == poll.message.id


async def test_members_vote_change_and_remove_with_private_answers(watchclub: WatchClub) -> None:
    s = watchclub.server
    poll = await open_poll_at_drop(watchclub)

    assert await rate(s.fake, poll, s.bob, 8) == rated(8)  # ★★★★
    assert await rate(s.fake, poll, s.carol, 5) == rated(5)
    assert await rate(s.fake, poll, s.mod, 6) == rated(6)
    assert await rate(s.fake, poll, s.bob, 9) == rated(9)  # changed: ★★★★½
    assert await answer(s.fake.click(poll.message, poll.clear_id, s.carol)) == removed()
    assert await answer(s.fake.click(poll.message, poll.clear_id, s.carol)) == removed(had_rating=False)
    assert rated(9).startswith("You rated E01 ★★★★½ — change it any time until <t:")

    # bob 4.5 and mod 3: (9 + 6) / 2 half stars = 3.75 stars
    final = stats_of([9, 6])
    assert average_line(final) == "★ 3.8 · 2 ratings"
    await wait_for_average(s.fake, poll, final)
    assert await stored_votes(watchclub) == {s.bob.id: 9, s.mod.id: 6}
    # the answers were private: the thread holds only the bot's opening message and the poll
    assert [m.id for m in poll.thread.history() if not m.ephemeral][-1] == poll.message.id
    assert poll_edits(s.fake, poll) <= 3  # six interactions in a moment, coalesced


async def test_a_vote_on_a_poll_posted_before_a_sigkill_still_counts(watchclub: WatchClub) -> None:
    s = watchclub.server
    poll = await open_poll_at_drop(watchclub)
    assert await rate(s.fake, poll, s.bob, 8) == rated(8)
    await poll.bot.kill()

    await watchclub.start(clock_start=DROP + timedelta(hours=1))
    assert await rate(s.fake, poll, s.carol, 4) == rated(4)  # the message the killed process posted
    assert await stored_votes(watchclub) == {s.bob.id: 8, s.carol.id: 4}
    await wait_for_average(s.fake, poll, stats_of([8, 4]))  # "★ 3.0 · 2 ratings"
    assert await answer(s.fake.click(poll.message, poll.clear_id, s.bob)) == removed()  # the button too
    assert await stored_votes(watchclub) == {s.carol.id: 4}
    assert len([m for m in poll.thread.history() if is_poll(m)]) == 1  # not posted again


async def test_the_poll_closes_at_the_next_drop_with_the_histogram(watchclub: WatchClub) -> None:
    s = watchclub.server
    poll = await open_poll_at_drop(watchclub)
    votes = {s.bob: 8, s.carol: 5, s.mod: 10}
    for member, value in votes.items():
        assert await rate(s.fake, poll, member, value) == rated(value)
    open_view = copy.deepcopy(poll.message.components)
    await poll.bot.kill()

    # a week later, three seconds before E02 drops: the poll closes at the drop (at start-up
    # if booting took longer; the close time is E02's drop either way)
    await watchclub.start(clock_start=E02 - timedelta(seconds=3))
    await s.fake.wait_for(lambda: "final rating" in poll.message.embeds[0]["title"] or None, timeout=30)

    final = stats_of(votes.values())
    embed = poll.message.embeds[0]
    assert embed["title"] == "Metallic Rouge E01 · final rating"
    assert embed["description"] == f"**{average_line(final)}**\nThe poll closed {ts(E02, 'f')}.\n{histogram(final)}"
    assert embed["description"].startswith("**★ 3.8 · 3 ratings**")  # (8 + 5 + 10) / 6 = 3.83
    assert "\n  5 ████████████████████ 1\n" in embed["description"]
    assert "\n2.5 ████████████████████ 1\n" in embed["description"]
    assert "\n0.5 0\n" in embed["description"]
    assert component(poll.message, SELECT).get("disabled") is True
    assert component(poll.message, BUTTON).get("disabled") is True
    rows = await watchclub.wait_for_rows("SELECT closed_at FROM rating_poll WHERE closed_at IS NOT NULL")
    assert len(rows) == 1

    # a member whose client still shows the open poll, and /rate: both told it closed
    closed = PollClosedError(E02).message
    assert closed.startswith("This poll closed on <t:")
    stale = dataclasses.replace(poll.message, components=open_view)
    assert await answer(s.fake.select(stale, poll.rate_id, ["2"], s.bob)) == closed
    assert await answer(s.fake.click(stale, poll.clear_id, s.carol)) == closed
    late = await s.fake.slash(s.guild, s.bob, "rate", show="Metallic Rouge", episode=1, stars=1.0)
    assert late.ephemeral and late.content == closed
    assert await stored_votes(watchclub) == {s.bob.id: 8, s.carol.id: 5, s.mod.id: 10}
    assert "final rating" in poll.message.embeds[0]["title"]  # no live edit on top of the result

    # E02's own poll opened in E02's thread
    second = await s.fake.wait_for(
        lambda: next((t for t in s.forum.threads if t.name == "Metallic Rouge · E02"), None), timeout=15
    )
    e02 = await s.fake.wait_for_message(second, is_poll, timeout=15)
    assert e02.embeds[0]["title"] == "Rate Metallic Rouge E02"


# --- under load -----------------------------------------------------------------------------------


async def test_a_flood_of_200_votes_costs_a_handful_of_edits(watchclub: WatchClub) -> None:
    s = watchclub.server
    fans = add_fans(watchclub, 200)
    poll = await open_poll_at_drop(watchclub)
    values = {fan: 1 + index % 10 for index, fan in enumerate(fans)}

    loop = asyncio.get_running_loop()
    started = loop.time()
    pending = [s.fake.select(poll.message, poll.rate_id, [str(value)], fan) for fan, value in values.items()]
    answers = await asyncio.gather(*(answer(p) for p in pending))
    answered_in = loop.time() - started
    assert answers == [rated(value) for value in values.values()]
    assert max(p.record.latency or 0 for p in pending) < 3

    final = stats_of(values.values())
    assert average_line(final) == "★ 2.8 · 200 ratings"
    await wait_for_average(s.fake, poll, final)
    edits = poll_edits(s.fake, poll)
    print(f"200 votes answered in {answered_in:.2f}s; {edits} poll-message edits")
    assert 1 <= edits <= 10
    assert await stored_votes(watchclub) == {fan.id: value for fan, value in values.items()}


async def test_every_acknowledged_vote_survives_a_sigkill(watchclub: WatchClub) -> None:
    s = watchclub.server
    fans = add_fans(watchclub, 300)
    poll = await open_poll_at_drop(watchclub)
    values = {fan.id: 1 + index % 10 for index, fan in enumerate(fans)}
    in_flight = 20
    sent: list[PendingInteraction] = []
    stop = asyncio.Event()

    def acknowledged() -> list[PendingInteraction]:
        return [p for p in sent if (final_answer(p) or "").startswith("You rated")]

    async def stream() -> None:
        for fan in fans:
            await s.fake.wait_for(
                lambda: stop.is_set() or sum(final_answer(p) is None for p in sent) < in_flight, timeout=15
            )
            if stop.is_set():
                return
            sent.append(s.fake.select(poll.message, poll.rate_id, [str(values[fan.id])], fan))

    streaming = asyncio.create_task(stream())
    try:
        await s.fake.wait_for(lambda: len(acknowledged()) >= 100 or None, timeout=30)
        stop.set()
        await poll.bot.kill()
    finally:
        stop.set()
        await streaming

    acked = acknowledged()  # final: the process is dead
    stored = await stored_votes(watchclub)
    print(f"{len(sent)} votes sent, {len(acked)} acknowledged before the kill, {len(stored)} in the database")
    assert len(sent) < len(fans)  # killed in the middle of the stream
    assert len(acked) >= 100
    for pending in acked:
        user_id = pending.record.member.user.id
        assert stored.get(user_id) == values[user_id], f"acknowledged vote of {user_id} lost"
    assert set(stored) <= {p.record.member.user.id for p in sent}


# --- /rate ---------------------------------------------------------------------------------------


async def test_rate_command_checks_stars_and_airing(watchclub: WatchClub, monkeypatch: pytest.MonkeyPatch) -> None:
    s = watchclub.server
    # the show is added an hour after E01 aired: no drop ran for it, /rate opens its poll
    await watchclub.start(clock_start=DROP + timedelta(hours=1))
    await setup_club(watchclub)
    await add_show(watchclub)

    reply = await s.fake.slash(s.guild, s.bob, "rate", show="Metallic Rouge", episode=1, stars=2.5)
    assert reply.ephemeral
    assert reply.content == vote_reply(VoteReceipt(0, 1, 5, E02), show_title="Metallic Rouge")
    assert f"You rated Metallic Rouge E01 {stars(5)} — " in reply.content
    assert await stored_votes(watchclub) == {s.bob.id: 5}

    refusal = f"Ratings go from 0.5 to 5 stars in half steps: {ALLOWED_STARS}."
    assert "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5 or 5" in refusal
    reply = await s.fake.slash(s.guild, s.carol, "rate", show="Metallic Rouge", episode=1, stars=2.3)
    assert reply.ephemeral and reply.content == refusal
    for outside in (0.0, 6.0):
        # the option's bounds (0.5 to 5) keep Discord's client from sending these at all...
        with pytest.raises(InvocationError, match=r"outside \[0.5, 5"):
            s.fake.slash(s.guild, s.carol, "rate", show="Metallic Rouge", episode=1, stars=outside)
        # ...and a client that does not check them is refused by the bot
        with monkeypatch.context() as patched:
            patched.setattr(fake_driver, "_check_constraints", lambda *args: None)
            pending = s.fake.slash(s.guild, s.carol, "rate", show="Metallic Rouge", episode=1, stars=outside)
        reply = await pending
        assert reply.ephemeral and reply.content == refusal

    reply = await s.fake.slash(s.guild, s.carol, "rate", show="Metallic Rouge", episode=2, stars=4.0)
    assert reply.ephemeral
    assert (
        reply.content == f"E02 of **Metallic Rouge** hasn't aired yet (it drops {ts(E02, 'R')}); rate it once it has."
    )
    assert await stored_votes(watchclub) == {s.bob.id: 5}


# --- shutting down ----------------------------------------------------------------------------------


async def test_sigterm_during_a_drop_lets_it_post_the_poll_before_exiting(watchclub: WatchClub) -> None:
    s = watchclub.server
    early = await watchclub.start(clock_start=DROP - timedelta(days=1))
    await setup_club(watchclub)
    await add_show(watchclub)
    await early.kill()
    # the announcement meets a rate limit, so the drop is still running when the bot is told to stop
    s.fake.inject_rate_limit("POST", "/channels/{channel_id}/messages", retry_after=1.0, channel_id=s.announcements.id)
    bot = await watchclub.start(clock_start=DROP + timedelta(seconds=1))
    await s.fake.wait_for_request("POST", "/channels/{channel_id}/messages", status=429, timeout=30)

    assert await bot.terminate(timeout=15) == 0  # SIGTERM: a clean exit, after the drop finished
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: "is out" in m.content)
    thread = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None))
    poll = await s.fake.wait_for_message(thread, is_poll)
    assert f"⭐ Rate it: {poll.jump_url}" in announcement.content
    rows = await watchclub.query("SELECT kind, status FROM drop_action ORDER BY id")
    assert dict(rows) == {"announce": "done", "thread": "done", "poll": "done"}  # none left claimed
