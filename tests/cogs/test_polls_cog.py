"""The polls cog with discord.py objects at the edge: the drop's poll message, its persistent
components, votes answered privately, coalesced refreshes, the close, and `/rate`."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import WatchClubBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.db.engine import SessionFactory
from bot.db.models import Episode, Vote
from bot.errors import UserError
from bot.render.text import ts
from bot.services import polls
from bot.services.drops import DropContext, MessageRef
from bot.services.votes import VoteReceipt
from cogs.polls import ClearButton, EditCoalescer, PollsCog, RateSelect, poll_view
from tests.support.db import make_club, make_show
from tests.support.seeds import ANNOUNCE_CHANNEL, BEFORE_SEASON, E01_AIR, FORUM_CHANNEL, GUILD_ID

SQLITE = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)

E02_AIR = E01_AIR + timedelta(days=7)
THREAD_ID = 7_000_001
ALICE = 101


@dataclass
class FakeMessage:
    channel_id: int
    id: int
    edits: list[dict[str, Any]] = field(default_factory=list)
    archived: list[bool] = field(default_factory=list)  # set for a message in an archived thread

    @property
    def channel(self) -> discord.Object:
        return discord.Object(self.channel_id)

    async def edit(self, **kwargs: Any) -> None:
        if self.archived and self.archived[0]:
            raise discord.HTTPException(
                BadRequest(), {"code": 50083, "message": "Operation cannot be performed on an archived thread."}
            )
        self.edits.append(kwargs)


class BadRequest:
    status = 400
    reason = "Bad Request"


class FakeThread(discord.Thread):
    """Passes `isinstance(..., discord.Thread)`; records archiving and unarchiving."""

    def __init__(self, archived: list[bool]) -> None:  # no super(): no gateway state here
        self.state = archived
        self.changes: list[bool] = []

    async def edit(self, **kwargs: Any) -> Any:  # type: ignore[override]
        self.changes.append(kwargs["archived"])
        self.state[0] = kwargs["archived"]


@dataclass
class FakeChannel:
    """A channel or thread that records what the bot posts and edits in it."""

    id: int
    sent: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(8_000_001))

    async def send(self, **kwargs: Any) -> FakeMessage:
        self.sent.append(kwargs)
        message = FakeMessage(self.id, next(self.ids))
        self.messages[message.id] = message
        return message

    def get_partial_message(self, message_id: int) -> FakeMessage:
        return self.messages.setdefault(message_id, FakeMessage(self.id, message_id))


class NotFoundResponse:
    status = 404
    reason = "Not Found"


UNKNOWN_INTERACTION = discord.NotFound(NotFoundResponse(), {"code": 10062, "message": "Unknown interaction"})


@dataclass
class FakeResponse:
    """The first response: a message, or a "thinking…" defer (refused with `refuse_defer`)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    deferred_at: list[datetime] = field(default_factory=list)  # real time, like a snowflake's
    defer_tried: asyncio.Event = field(default_factory=asyncio.Event)
    refuse_defer: bool = False

    def is_done(self) -> bool:
        return bool(self.sent or self.deferred)

    async def send_message(self, content: str, **kwargs: Any) -> None:
        assert not self.is_done(), "a second first response"
        self.sent.append((content, kwargs))

    async def defer(self, **kwargs: Any) -> None:
        assert not self.is_done(), "a second first response"
        self.deferred_at.append(discord.utils.utcnow())
        self.defer_tried.set()
        if self.refuse_defer:
            raise UNKNOWN_INTERACTION
        self.deferred.append(kwargs)


@dataclass
class FakeFollowup:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def send(self, content: str, **kwargs: Any) -> None:
        self.sent.append((content, kwargs))


@dataclass
class FakeInteraction:
    user: discord.Object
    guild: discord.Object | None = field(default_factory=lambda: discord.Object(GUILD_ID))
    response: FakeResponse = field(default_factory=FakeResponse)
    followup: FakeFollowup = field(default_factory=FakeFollowup)
    id: int = 1
    command: None = None
    data: None = None
    # When Discord created the interaction (its snowflake's time): the real clock, not the bot's.
    created_at: datetime = field(default_factory=discord.utils.utcnow)

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild else None

    @property
    def answers(self) -> list[str]:
        """What the member read: the response, or after a defer the follow-up (all private)."""
        sent = self.response.sent + self.followup.sent
        assert all(kwargs.get("ephemeral") for _, kwargs in sent), "a vote answer must be private"
        assert all(kwargs == {"ephemeral": True, "thinking": True} for kwargs in self.response.deferred)
        return [content for content, _ in sent]


def created(seconds_ago: float) -> datetime:
    return discord.utils.utcnow() - timedelta(seconds=seconds_ago)


@pytest.fixture
async def bot(
    session_factory: SessionFactory, session: AsyncSession, clock: ManualClock
) -> AsyncIterator[WatchClubBot]:
    clock.set(BEFORE_SEASON)
    await make_club(session, BEFORE_SEASON)
    await make_show(session, BEFORE_SEASON)
    bot = WatchClubBot(Settings(), session_factory, clock)
    await bot.load_extension("cogs.polls")
    clock.set(E01_AIR + timedelta(minutes=1))
    yield bot
    await bot.close()


@pytest.fixture
def channels(bot: WatchClubBot, monkeypatch: pytest.MonkeyPatch) -> dict[int, FakeChannel]:
    """The thread and the announcement channel, faked where the cog reaches Discord."""
    known = {THREAD_ID: FakeChannel(THREAD_ID), ANNOUNCE_CHANNEL: FakeChannel(ANNOUNCE_CHANNEL)}

    async def messageable(channel_id: int) -> FakeChannel:
        return known[channel_id]

    refreshed: list[DropContext] = []

    async def refresh_announcement(context: DropContext) -> None:
        refreshed.append(context)

    monkeypatch.setattr(bot.publisher, "messageable", messageable)
    monkeypatch.setattr(bot.publisher, "refresh_announcement", refresh_announcement)
    monkeypatch.setattr(bot, "get_partial_messageable", lambda channel_id, **_: known[channel_id])
    bot.refreshed = refreshed  # type: ignore[attr-defined]
    return known


def cog_of(bot: WatchClubBot) -> PollsCog:
    """The loaded cog (`load_extension` executes the module afresh, hence no isinstance)."""
    cog = bot.get_cog("Polls")
    assert type(cog).__name__ == "PollsCog"
    loaded = cast(PollsCog, cog)
    loaded.refresher = EditCoalescer(loaded.refresh_message, interval=0.02, delay=0.0)
    return loaded


async def drop_context(session: AsyncSession, number: int = 1, thread: bool = True) -> DropContext:
    episode_id = await session.scalar(select(Episode.id).where(Episode.number == number))
    assert episode_id is not None
    done = {"announce": MessageRef(ANNOUNCE_CHANNEL, 4_000_001)}
    if thread:
        done["thread"] = MessageRef(FORUM_CHANNEL, THREAD_ID)
    return DropContext(
        action_id=77,
        kind="poll",
        guild_id=GUILD_ID,
        show_id=1,
        show_title="Metallic Rouge",
        platform="Crunchyroll",
        season="Winter 2024",
        episode_id=episode_id,
        episode_number=number,
        episode_count=13,
        episode_title=None,
        air_at=E01_AIR,
        late=False,
        announcement_channel_id=ANNOUNCE_CHANNEL,
        discussion_channel_id=FORUM_CHANNEL,
        discussion_kind="forum",
        ping_role_id=None,
        poll_closes_at=E02_AIR,
        done=done,
    )


def custom_ids(view: discord.ui.View) -> list[str]:
    return [item.custom_id for item in view.children]  # type: ignore[attr-defined]


# --- components -----------------------------------------------------------------------------


def test_poll_components_carry_the_poll_id() -> None:
    view = poll_view(123)
    assert custom_ids(view) == ["wc:poll:123:rate", "wc:poll:123:clear"]
    select_ = view.children[0]
    assert isinstance(select_, RateSelect)
    assert [o.label for o in select_.item.options][:3] == ["½ ★", "★", "★½"]
    assert [o.value for o in select_.item.options] == [str(v) for v in range(1, 11)]
    assert RateSelect.__discord_ui_compiled_template__.fullmatch("wc:poll:123:rate")
    assert ClearButton.__discord_ui_compiled_template__.fullmatch("wc:poll:123:clear")
    assert all(len(i) <= 100 for i in custom_ids(poll_view(2**63)))
    assert all(item.item.disabled for item in poll_view(123, closed=True).children)  # type: ignore[attr-defined]


@SQLITE
async def test_rate_command_options(bot: WatchClubBot) -> None:
    rate = bot.tree.get_command("rate")
    assert rate is not None
    options = {o["name"]: o for o in rate.to_dict(bot.tree)["options"]}
    assert list(options) == ["show", "episode", "stars"]
    assert options["show"]["autocomplete"]
    assert (options["stars"]["type"], options["stars"]["min_value"], options["stars"]["max_value"]) == (10, 0.5, 5.0)


# --- the drop -------------------------------------------------------------------------------


@SQLITE
async def test_the_drop_posts_the_poll_in_the_thread_once(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession
) -> None:
    cog = cog_of(bot)
    context = await drop_context(session)
    posted = await cog.post_poll(context)
    thread = channels[THREAD_ID]
    assert len(thread.sent) == 1 and not channels[ANNOUNCE_CHANNEL].sent
    sent = thread.sent[0]
    assert sent["nonce"] == context.nonce
    assert sent["embed"].title == "Rate Metallic Rouge E01"
    assert "No ratings yet" in sent["embed"].description
    poll = await polls.poll_for_episode(session, context.episode_id)
    assert poll is not None
    assert custom_ids(sent["view"]) == [f"wc:poll:{poll.id}:rate", f"wc:poll:{poll.id}:clear"]
    assert (posted.channel_id, posted.message_id) == (THREAD_ID, poll.message_id) and poll.closes_at == E02_AIR
    assert bot.refreshed[-1].done["poll"] == MessageRef(THREAD_ID, poll.message_id)  # type: ignore[attr-defined]
    again = await cog.post_poll(context)  # a retried drop reuses the message
    assert again == posted and len(thread.sent) == 1


@SQLITE
async def test_without_a_thread_the_poll_goes_to_the_announcement_channel(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession
) -> None:
    posted = await cog_of(bot).post_poll(await drop_context(session, thread=False))
    assert posted.channel_id == ANNOUNCE_CHANNEL and len(channels[ANNOUNCE_CHANNEL].sent) == 1


# --- votes, refreshes, the close ------------------------------------------------------------


@SQLITE
async def test_votes_are_answered_privately_and_refresh_the_message_then_the_close_is_final(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession, clock: ManualClock
) -> None:
    cog = cog_of(bot)
    context = await drop_context(session)
    posted = await cog.post_poll(context)
    poll = await polls.poll_for_episode(session, context.episode_id)
    assert poll is not None and posted.message_id is not None
    message = channels[THREAD_ID].messages[posted.message_id]

    voters = [FakeInteraction(discord.Object(user)) for user in range(1, 31)]
    await asyncio.gather(*(cog.vote(v, poll.id, 8 if n % 2 else 7) for n, v in enumerate(voters)))
    assert voters[0].answers == [f"You rated E01 ★★★½ — change it any time until {ts(E02_AIR, 'R')}."]
    clearing = FakeInteraction(discord.Object(1))
    await cog.vote(clearing, poll.id, None)
    assert clearing.answers[0].startswith("Removed your rating of E01.")

    await asyncio.sleep(0.2)  # let the coalesced refresh catch up
    assert 1 <= len(message.edits) < 31  # a rush costs a few edits, not one per vote
    assert "★ 3.8 · 29 ratings" in message.edits[-1]["embed"].description  # the trailing edit is exact
    assert "view" not in message.edits[-1]  # live refreshes leave the controls alone

    clock.set(E02_AIR)
    await cog.close_poll(context)
    final = message.edits[-1]
    assert "final" in final["embed"].title and "★ 3.8 · 29 ratings" in final["embed"].description
    assert all(item.item.disabled for item in final["view"].children)

    late = FakeInteraction(discord.Object(99))
    await cog.vote(late, poll.id, 10)
    assert late.answers == [f"This poll closed on {ts(E02_AIR, 'f')}; its result is final."]
    cog.refresher.poke(poll.id)
    await asyncio.sleep(0.1)
    assert message.edits[-1] is final  # a refresh never reverts the closed poll


@SQLITE
async def test_rate_votes_without_the_message(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession
) -> None:
    cog = cog_of(bot)
    member = FakeInteraction(discord.Object(ALICE))
    await cog.rate.callback(cog, member, "metallic", 1, 3.5)  # type: ignore[arg-type]
    assert member.answers == [f"You rated Metallic Rouge E01 ★★★½ — change it any time until {ts(E02_AIR, 'R')}."]
    poll = await polls.poll_for_episode(session, (await session.scalar(select(Episode.id).where(Episode.number == 1))))
    assert poll is not None and poll.message_id is None  # opened lazily; the drop will post it
    with pytest.raises(UserError, match="half steps"):
        await cog.rate.callback(cog, FakeInteraction(discord.Object(ALICE)), "metallic", 1, 3.3)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="hasn't aired yet"):
        await cog.rate.callback(cog, FakeInteraction(discord.Object(ALICE)), "metallic", 2, 4.0)  # type: ignore[arg-type]


@SQLITE
async def test_components_of_a_message_posted_before_a_restart_still_vote(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession
) -> None:
    """What discord.py does with a click on an old message: match the registered template,
    rebuild the item from its custom id, run its callback."""
    cog = cog_of(bot)
    context = await drop_context(session)
    await cog.post_poll(context)
    poll = await polls.poll_for_episode(session, context.episode_id)
    assert poll is not None
    module = sys.modules[type(cog).__module__]  # the classes registered by the loaded extension
    for template, value, answer in [
        (module.RateSelect, "9", "You rated E01 ★★★★½"),
        (module.ClearButton, None, "Removed your rating of E01."),
    ]:
        custom_id = f"wc:poll:{poll.id}:{'rate' if value else 'clear'}"
        match = template.__discord_ui_compiled_template__.fullmatch(custom_id)
        member = FakeInteraction(discord.Object(ALICE))
        member.client = bot  # type: ignore[attr-defined]
        item = await template.from_custom_id(member, None, match)
        if value is not None:
            item.item._values = [value]
        await item.callback(member)
        assert member.answers[0].startswith(answer)


@SQLITE
async def test_a_poll_closing_in_a_quiet_archived_thread_still_shows_its_result(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = cog_of(bot)
    context = await drop_context(session)
    posted = await cog.post_poll(context)
    assert posted.message_id is not None
    message = channels[THREAD_ID].messages[posted.message_id]
    message.archived = [True]  # nobody wrote in the thread for a week: Discord archived it
    thread = FakeThread(message.archived)
    monkeypatch.setattr(bot, "get_channel", lambda channel_id: thread if channel_id == THREAD_ID else None)
    await cog.close_poll(context)
    assert "final" in message.edits[-1]["embed"].title
    assert thread.changes == [False, True]  # unarchived for the edit, then archived again


# --- answering in time ------------------------------------------------------------------------


async def open_e01_poll(cog: PollsCog, session: AsyncSession) -> polls.PollInfo:
    context = await drop_context(session)
    await cog.post_poll(context)
    poll = await polls.poll_for_episode(session, context.episode_id)
    assert poll is not None
    return poll


def hold_receipts(cog: PollsCog, monkeypatch: pytest.MonkeyPatch, release: asyncio.Event) -> None:
    """Votes are committed as usual, but the cog hears of it only once `release` is set (a slow
    commit, as in a rush)."""
    submit = cog.writer.submit
    handing_over: set[asyncio.Task[None]] = set()

    def held(poll_id: int, user_id: int, half_stars: int | None) -> asyncio.Future[VoteReceipt]:
        committed = submit(poll_id, user_id, half_stars)
        receipt: asyncio.Future[VoteReceipt] = asyncio.get_running_loop().create_future()

        async def hand_over() -> None:
            await release.wait()
            try:
                receipt.set_result(await committed)
            except Exception as exc:
                receipt.set_exception(exc)

        task = asyncio.create_task(hand_over())
        handing_over.add(task)
        task.add_done_callback(handing_over.discard)
        return receipt

    monkeypatch.setattr(cog.writer, "submit", held)


async def stored_rating(bot: WatchClubBot, poll_id: int, user_id: int) -> int | None:
    async with bot.session_factory() as session:
        return await session.scalar(select(Vote.half_stars).where(Vote.poll_id == poll_id, Vote.user_id == user_id))


def no_warnings(caplog: pytest.LogCaptureFixture) -> bool:
    return not [r for r in caplog.records if r.levelno >= logging.WARNING]


@SQLITE
async def test_a_slow_vote_is_deferred_on_time_counting_from_the_interactions_creation(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = cog_of(bot)
    poll = await open_e01_poll(cog, session)
    release = asyncio.Event()
    hold_receipts(cog, monkeypatch, release)
    member = FakeInteraction(discord.Object(ALICE), created_at=created(1.2))  # the handler started late
    voting = asyncio.create_task(cog.vote(member, poll.id, 8))
    await asyncio.wait_for(member.response.defer_tried.wait(), 5)
    deferred_at_age = (member.response.deferred_at[0] - member.created_at).total_seconds()
    # 1.5 s after Discord created it; a timer started with the handler would say 2.7 s
    assert 1.45 <= deferred_at_age < 2.2
    release.set()
    await voting
    assert member.response.deferred and not member.response.sent
    assert member.answers == [f"You rated E01 ★★★★ — change it any time until {ts(E02_AIR, 'R')}."]  # follow-up


@SQLITE
async def test_late_votes_are_stored_and_answered_only_while_discord_would_take_it(
    bot: WatchClubBot,
    channels: dict[int, FakeChannel],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cog = cog_of(bot)
    poll = await open_e01_poll(cog, session)
    caplog.set_level(logging.DEBUG)
    # The handler starts after Discord's 3 s: any answer would be refused, so none is sent.
    stale = FakeInteraction(discord.Object(ALICE), created_at=created(3.5))
    await cog.vote(stale, poll.id, 8)
    assert stale.answers == [] and not stale.response.deferred_at
    assert await stored_rating(bot, poll.id, ALICE) == 8

    release = asyncio.Event()
    hold_receipts(cog, monkeypatch, release)
    # Past DEFER_UNTIL a defer would likely reach Discord late: none; the answer still goes out
    # if the commit comes back in time.
    slow_start = FakeInteraction(discord.Object(ALICE + 1), created_at=created(2.1))
    voting = asyncio.create_task(cog.vote(slow_start, poll.id, 6))
    await asyncio.sleep(0.1)
    release.set()
    await voting
    assert not slow_start.response.deferred_at
    assert slow_start.response.sent and slow_start.answers[0].startswith("You rated E01 ★★★")
    assert await stored_rating(bot, poll.id, ALICE + 1) == 6

    # Committed too late to answer: stored, not answered.
    release.clear()
    late = FakeInteraction(discord.Object(ALICE + 2), created_at=created(2.7))
    voting = asyncio.create_task(cog.vote(late, poll.id, 4))
    await asyncio.sleep(0.2)
    release.set()
    await voting
    assert late.answers == [] and not late.response.deferred_at
    assert await stored_rating(bot, poll.id, ALICE + 2) == 4
    assert no_warnings(caplog)  # a rush must not log a warning per vote
    assert "too late" in caplog.text


@SQLITE
async def test_after_a_refused_defer_no_second_answer_is_sent(
    bot: WatchClubBot,
    channels: dict[int, FakeChannel],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cog = cog_of(bot)
    poll = await open_e01_poll(cog, session)
    caplog.set_level(logging.DEBUG)
    release = asyncio.Event()
    hold_receipts(cog, monkeypatch, release)
    member = FakeInteraction(discord.Object(ALICE), created_at=created(1.6))  # deferred at once
    member.response.refuse_defer = True  # it reached Discord too late: 404 Unknown interaction
    voting = asyncio.create_task(cog.vote(member, poll.id, 8))
    await asyncio.wait_for(member.response.defer_tried.wait(), 5)
    release.set()
    await voting
    assert len(member.response.deferred_at) == 1  # one attempt
    assert member.answers == []  # neither a response nor a follow-up after the refusal
    assert await stored_rating(bot, poll.id, ALICE) == 8  # the vote counts all the same
    assert no_warnings(caplog)


@SQLITE
async def test_a_click_wraps_the_component_discord_py_parsed_from_the_message(
    bot: WatchClubBot, channels: dict[int, FakeChannel], session: AsyncSession
) -> None:
    """discord.py builds the message's view before `from_custom_id`: its select is reused, so a
    vote does not build ten options again, and the vote goes through as before."""
    cog = cog_of(bot)
    poll = await open_e01_poll(cog, session)
    module = sys.modules[type(cog).__module__]
    parsed_view = poll_view(poll.id)  # what `View.from_message` makes of the poll message
    for template, parsed, value, answer in [
        (module.RateSelect, parsed_view.children[0].item, "9", "You rated E01 ★★★★½"),  # type: ignore[attr-defined]
        (module.ClearButton, parsed_view.children[1].item, None, "Removed your rating of E01."),  # type: ignore[attr-defined]
    ]:
        match = template.__discord_ui_compiled_template__.fullmatch(parsed.custom_id)
        member = FakeInteraction(discord.Object(ALICE))
        member.client = bot  # type: ignore[attr-defined]
        item = await template.from_custom_id(member, parsed, match)
        assert item.item is parsed and item.poll_id == poll.id
        if value is not None:
            item.item._values = [value]
        await item.callback(member)
        assert member.answers[0].startswith(answer)
