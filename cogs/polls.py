"""Rating polls: posted at each drop, closed at the next, voted on with persistent components,
and `/rate` for rating without the message.

The vote path is kept short because everyone votes in the same minutes after an episode: the
component's custom id carries the poll id (no lookup to find the poll), the vote goes through
the group-commit `VoteWriter` (which also decides, from the database, whether the poll is still
open), and the private answer is sent once the vote is committed. The poll message's average is
refreshed by an `EditCoalescer`: one edit per poll every few seconds at most, however many votes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import show_autocomplete
from bot.errors import UserError
from bot.publisher import describe_http_error
from bot.render.polls import closed_poll_embed, option_description, poll_embed, stars, vote_reply
from bot.replies import APOLOGY, guild_of, send_ephemeral
from bot.services import polls as poll_service
from bot.services.drops import DropContext, MessageRef, Posted, with_done
from bot.services.polls import HALF_STARS, PollInfo
from bot.services.shows import EPISODES_MAX
from bot.services.votes import STOPPED, VoteReceipt, VoteWriter

if TYPE_CHECKING:
    from bot.client import WatchClubBot

log = logging.getLogger(__name__)
Interaction: TypeAlias = "discord.Interaction[WatchClubBot]"

EPISODE = app_commands.Range[int, 1, EPISODES_MAX]
STARS = app_commands.Range[float, 0.5, 5.0]
# Discord allows a few edits per message every few seconds; a rush of votes gets one per 3 s.
EDIT_INTERVAL = 3.0
# The first edit waits a moment so the first votes of a rush share it.
FIRST_EDIT_DELAY = 1.0
# Discord's 3 s for a first answer (or a defer) count from the interaction's creation, not from
# when the handler starts (in a rush of votes, seconds later). So ages are measured from the
# interaction's snowflake time on the real clock (`discord.utils.utcnow`), never the bot's clock.
# Answer "thinking…" once a vote this old is still not committed...
DEFER_AFTER = 1.5
# ...but not once it is this old: in a rush a request can take a second to leave the bot, and a
# defer that arrives late is refused, after costing as much as an answer. Measured with a burst of
# 5,000 votes (bench/vote_latency.py): deferring up to 2.8 s sometimes sent most defers late.
DEFER_UNTIL = 2.0
# Older than this, an answer would reach Discord after its 3 s: none is sent (the vote is stored
# all the same).
TOO_LATE = 2.8
# Discord's "Unknown interaction": an answer that came too late.
UNKNOWN_INTERACTION = 10062
POLL_ID = r"(?P<poll_id>[0-9]{1,20})"
# Discord's "Operation cannot be performed on an archived thread": threads archive after a quiet
# week, which is exactly when a poll closes.
ARCHIVED_THREAD = 50083


def rate_custom_id(poll_id: int) -> str:
    return f"wc:poll:{poll_id}:rate"


def clear_custom_id(poll_id: int) -> str:
    return f"wc:poll:{poll_id}:clear"


# --- the persistent components ----------------------------------------------------------------


class RateSelect(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=rf"wc:poll:{POLL_ID}:rate"):
    """½ to 5 stars; works on poll messages posted before a restart (the id is in the custom id)."""

    def __init__(
        self, poll_id: int, *, disabled: bool = False, item: discord.ui.Select[discord.ui.View] | None = None
    ) -> None:
        """`item`: the select discord.py parsed from the message, to wrap instead of building one."""
        if item is None:
            item = discord.ui.Select(
                custom_id=rate_custom_id(poll_id),
                placeholder="Rate this episode: ½ to 5 stars",
                options=[
                    discord.SelectOption(label=stars(value), value=str(value), description=option_description(value))
                    for value in HALF_STARS
                ],
                disabled=disabled,
                row=0,
            )
        super().__init__(item)
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RateSelect:
        # Called for every vote, inside the 3 s: reuse the select discord.py has just built from the
        # message (the callback reads only the values picked) rather than build ten options anew.
        if isinstance(item, discord.ui.Select):
            return cls(int(match["poll_id"]), item=item)
        return cls(int(match["poll_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _vote(interaction, self.poll_id, int(self.item.values[0]))


class ClearButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=rf"wc:poll:{POLL_ID}:clear"):
    def __init__(
        self, poll_id: int, *, disabled: bool = False, item: discord.ui.Button[discord.ui.View] | None = None
    ) -> None:
        """`item`: the button discord.py parsed from the message, to wrap instead of building one."""
        if item is None:
            item = discord.ui.Button(
                label="Remove my rating",
                style=discord.ButtonStyle.secondary,
                custom_id=clear_custom_id(poll_id),
                disabled=disabled,
                row=1,
            )
        super().__init__(item)
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClearButton:
        if isinstance(item, discord.ui.Button):
            return cls(int(match["poll_id"]), item=item)
        return cls(int(match["poll_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _vote(interaction, self.poll_id, None)


def poll_view(poll_id: int, *, closed: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RateSelect(poll_id, disabled=closed))
    view.add_item(ClearButton(poll_id, disabled=closed))
    return view


async def _vote(interaction: discord.Interaction[Any], poll_id: int, half_stars: int | None) -> None:
    cog = interaction.client.get_cog(PollsCog.__cog_name__)
    if not isinstance(cog, PollsCog):  # unloaded: the bot is shutting down
        await send_ephemeral(interaction, STOPPED)
        return
    await cog.vote(interaction, poll_id, half_stars)


# --- answering a vote ------------------------------------------------------------------------


def interaction_age(interaction: discord.Interaction[Any]) -> float:
    """Seconds since Discord created the interaction: its snowflake's time, on the real clock."""
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


class VoteAnswer:
    """The private answer to one vote: a "thinking…" defer if the commit is slow, then the answer.

    Timed from the interaction's creation, which is what Discord's 3 s count from: the defer goes
    out once the interaction is `DEFER_AFTER` old (at once if the handler started later), unless it
    is already `DEFER_UNTIL` old; no first response is sent once it is `TOO_LATE` (the vote is
    stored all the same). After a defer Discord refused, nothing more is sent: it would be refused
    too.
    """

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self.lost = False  # Discord refused the defer: the interaction takes no answer any more

    async def after(self, future: asyncio.Future[VoteReceipt]) -> VoteReceipt:
        """Wait for the vote's commit; if that is slow, defer privately so Discord's 3 s pass."""
        interaction = self.interaction
        deferring: list[asyncio.Task[Any]] = []

        def defer() -> None:
            if future.done() or interaction.response.is_done() or interaction_age(interaction) > DEFER_UNTIL:
                return
            deferring.append(asyncio.create_task(interaction.response.defer(ephemeral=True, thinking=True)))

        delay = max(0.0, DEFER_AFTER - interaction_age(interaction))
        timer = asyncio.get_running_loop().call_later(delay, defer)
        try:
            return await future
        finally:
            timer.cancel()
            for task in deferring:  # the answer must not race the defer
                try:
                    await task
                except discord.HTTPException as exc:
                    self.lost = True
                    self._log_refused("defer", exc)

    async def send(self, content: str) -> None:
        """The answer (a follow-up after a defer); nothing if Discord would refuse it."""
        interaction = self.interaction
        if self.lost:
            return
        if not interaction.response.is_done():
            age = interaction_age(interaction)
            if age > TOO_LATE:
                log.debug("not answering vote interaction %s: %.1f s old, too late for Discord", interaction.id, age)
                return
        try:
            await send_ephemeral(interaction, content)
        except discord.HTTPException as exc:
            self._log_refused("answer", exc)

    def _log_refused(self, what: str, exc: discord.HTTPException) -> None:
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_INTERACTION:  # late: Discord forgot it
            log.debug("vote interaction %s: %s refused as late", self.interaction.id, what)
        else:
            log.warning("could not %s a vote (interaction %s): %s %s", what, self.interaction.id, exc.status, exc.text)


# --- coalesced message edits ----------------------------------------------------------------


class EditCoalescer:
    """Runs `edit(key)` shortly after `poke(key)`, at most once per `interval` per key, and once
    more after the last poke: a rush of votes costs one edit every few seconds per poll, and the
    last edit shows the final number. Pacing uses the event loop's clock (real seconds), which
    is what Discord's rate limits count in."""

    def __init__(
        self,
        edit: Callable[[int], Awaitable[None]],
        *,
        interval: float = EDIT_INTERVAL,
        delay: float = FIRST_EDIT_DELAY,
    ) -> None:
        self._edit = edit
        self._interval = interval
        self._delay = delay
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    def poke(self, key: int) -> None:
        if self._closed:
            return
        self._dirty.add(key)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"poll-refresh-{key}")

    async def _run(self, key: int) -> None:
        try:
            await asyncio.sleep(self._delay)
            while key in self._dirty:
                self._dirty.discard(key)
                await self._edit_logged(key)
                await asyncio.sleep(self._interval)  # the pause that coalesces the next pokes
        finally:
            self._tasks.pop(key, None)

    async def _edit_logged(self, key: int) -> None:
        try:
            await self._edit(key)
        except Exception:
            log.exception("could not refresh poll %s", key)

    async def aclose(self, *, flush_timeout: float = 5.0) -> None:
        """Stop; edits still owed are made now (within `flush_timeout`) rather than lost."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        owed, self._dirty = sorted(self._dirty), set()
        if owed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(flush_timeout):
                    for key in owed:
                        await self._edit_logged(key)


# --- the cog ---------------------------------------------------------------------------------


class PollsCog(commands.Cog, name="Polls"):
    def __init__(self, bot: WatchClubBot) -> None:
        self.bot = bot
        self._writer: VoteWriter | None = None
        self.refresher = EditCoalescer(self.refresh_message)
        self._locks: dict[int, asyncio.Lock] = {}

    async def cog_load(self) -> None:
        self._writer = VoteWriter(self.bot.session_factory, self.bot.clock)
        self._writer.start()
        self.bot.publisher.register("poll", self.post_poll)
        self.bot.publisher.register("poll_close", self.close_poll)
        self.bot.add_dynamic_items(RateSelect, ClearButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(RateSelect, ClearButton)
        if self._writer is not None:
            await self._writer.stop()  # every queued vote is written and answered
            self._writer = None
        await self.refresher.aclose()

    @property
    def writer(self) -> VoteWriter:
        if self._writer is None:
            raise UserError(STOPPED)
        return self._writer

    def _lock(self, poll_id: int) -> asyncio.Lock:
        """Serialises edits of one poll message, so a late live edit never follows the final one."""
        return self._locks.setdefault(poll_id, asyncio.Lock())

    # --- the drop ------------------------------------------------------------------------------

    async def post_poll(self, context: DropContext) -> Posted:
        """Open the episode's poll and post it in its thread (else the announcement channel)."""
        async with self.bot.session_factory() as session:
            poll = await poll_service.open_poll(
                session, context.episode_id, context.poll_closes_at, self.bot.clock.now()
            )
            stats = await poll_service.poll_stats(session, poll.id)  # /rate may have come first
        if poll.channel_id is not None and poll.message_id is not None:
            ref = MessageRef(poll.channel_id, poll.message_id)  # posted before a crash: keep it
        else:
            ref = await self._send_poll(context, poll, stats)
        await self.bot.publisher.refresh_announcement(with_done(context, "poll", ref))
        return Posted(ref.channel_id, ref.message_id)

    async def _send_poll(self, context: DropContext, poll: PollInfo, stats: poll_service.PollStats) -> MessageRef:
        target = context.thread.message_id if context.thread is not None else context.announcement_channel_id
        channel = await self.bot.publisher.messageable(target)
        try:
            message = await channel.send(embed=poll_embed(poll, stats), view=poll_view(poll.id), nonce=context.nonce)
        except discord.HTTPException as exc:
            raise describe_http_error(exc, self.bot.publisher.channel_name(target)) from exc
        async with self.bot.session_factory() as session:
            await poll_service.attach_message(session, poll.id, message.channel.id, message.id)
        return MessageRef(message.channel.id, message.id)

    async def close_poll(self, context: DropContext) -> Posted:
        """Close the episode's poll and turn its message into the final result."""
        async with self.bot.session_factory() as session:
            poll = await poll_service.poll_for_episode(session, context.episode_id)
        if poll is None:
            return Posted()
        async with self._lock(poll.id):
            async with self.bot.session_factory() as session:
                stats = await poll_service.close_poll(session, poll.id, self.bot.clock.now())
                poll = await poll_service.get_poll(session, poll.id) or poll
            if self._writer is not None:
                self._writer.mark_closed(poll.id, poll.closed_on)
            if poll.channel_id is None or poll.message_id is None:
                return Posted()
            try:
                await self._show_final(poll, stats)
            except discord.NotFound:
                note = "the poll message was deleted, so the final rating was not shown"
                return Posted(poll.channel_id, poll.message_id, note=note)
            except discord.HTTPException as exc:
                raise describe_http_error(exc, self.bot.publisher.channel_name(poll.channel_id)) from exc
        self._locks.pop(poll.id, None)
        return Posted(poll.channel_id, poll.message_id)

    # --- the poll message ----------------------------------------------------------------------

    async def _edit(self, channel_id: int, message_id: int, **fields: Any) -> None:
        """Edit the poll message without fetching it (threads may not be cached); in a thread
        archived for quiet, unarchive it for the edit and archive it again."""
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(**fields)
            return
        except discord.HTTPException as exc:
            thread = await self._thread(channel_id) if exc.code == ARCHIVED_THREAD else None
            if thread is None:
                raise
        await thread.edit(archived=False)
        try:
            await message.edit(**fields)
        finally:
            try:
                await thread.edit(archived=True)
            except discord.HTTPException as exc:
                log.warning("could not archive thread %s again: %s %s", channel_id, exc.status, exc.text)

    async def _thread(self, channel_id: int) -> discord.Thread | None:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            with contextlib.suppress(discord.HTTPException):
                channel = await self.bot.fetch_channel(channel_id)
        return channel if isinstance(channel, discord.Thread) else None

    async def _show_final(self, poll: PollInfo, stats: poll_service.PollStats) -> None:
        if poll.channel_id is None or poll.message_id is None:
            return
        view = poll_view(poll.id, closed=True)
        await self._edit(poll.channel_id, poll.message_id, embed=closed_poll_embed(poll, stats), view=view)

    async def refresh_message(self, poll_id: int) -> None:
        """Show the current average on the poll message (called by the coalescer)."""
        async with self._lock(poll_id):
            async with self.bot.session_factory() as session:
                poll = await poll_service.get_poll(session, poll_id)
                if poll is None or poll.channel_id is None or poll.message_id is None or poll.closed_at is not None:
                    return  # nothing to show, or closed: the final result stays as it is
                stats = await poll_service.poll_stats(session, poll_id)
            try:
                await self._edit(poll.channel_id, poll.message_id, embed=poll_embed(poll, stats))
            except discord.HTTPException as exc:
                log.warning("could not refresh poll %s: %s %s", poll_id, exc.status, exc.text)
                return
            await self._unless_closed_meanwhile(poll_id)

    async def _unless_closed_meanwhile(self, poll_id: int) -> None:
        """Another process may have closed the poll while this edit was in flight; if it did,
        show the final result again so the live edit does not stay on top of it."""
        async with self.bot.session_factory() as session:
            poll = await poll_service.get_poll(session, poll_id)
            if poll is None or poll.closed_at is None:
                return
            stats = await poll_service.poll_stats(session, poll_id)
        with contextlib.suppress(discord.HTTPException):
            await self._show_final(poll, stats)

    # --- voting --------------------------------------------------------------------------------

    async def vote(self, interaction: discord.Interaction[Any], poll_id: int, half_stars: int | None) -> None:
        """A vote from the poll message: stored, then answered privately, then shown (coalesced)."""
        answer = VoteAnswer(interaction)
        try:
            receipt = await answer.after(self.writer.submit(poll_id, interaction.user.id, half_stars))
        except Exception as exc:
            await self._refuse(answer, exc)
            return
        self.refresher.poke(poll_id)
        await answer.send(vote_reply(receipt))

    async def _refuse(self, answer: VoteAnswer, error: Exception) -> None:
        """A vote that was not stored: the reason, privately. Unexpected errors are logged with
        an error id but without the interaction's data, which holds the member's choice."""
        if isinstance(error, UserError):
            message = error.message
        else:
            error_id = secrets.token_hex(4)
            log.error("a vote failed [error id %s]", error_id, exc_info=error)
            message = APOLOGY.format(error_id=error_id)
        await answer.send(message)

    @app_commands.command(name="rate", description="Rate an episode from ½ to 5 stars, without the poll message")
    @app_commands.describe(
        show="The show",
        episode="The episode number",
        stars="0.5 to 5, in half steps (e.g. 3.5)",
    )
    @app_commands.autocomplete(show=show_autocomplete)
    @app_commands.guild_only()
    async def rate(self, interaction: Interaction, show: str, episode: EPISODE, stars: STARS) -> None:
        half_stars = poll_service.parse_stars(stars)
        guild = guild_of(interaction)
        async with self.bot.session_factory() as session:
            target = await poll_service.resolve_rating_target(session, guild.id, show, episode, self.bot.clock.now())
        if target.created:
            self.bot.show_changed(target.poll.show_id)  # its closing is now on the drop plan
        answer = VoteAnswer(interaction)
        try:
            receipt = await answer.after(self.writer.submit(target.poll.id, interaction.user.id, half_stars))
        except Exception as exc:
            await self._refuse(answer, exc)
            return
        self.refresher.poke(target.poll.id)
        await answer.send(vote_reply(receipt, show_title=target.poll.show_title))


async def setup(bot: WatchClubBot) -> None:
    await bot.add_cog(PollsCog(bot))
