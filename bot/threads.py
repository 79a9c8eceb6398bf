"""Opening an episode's discussion thread on Discord: a tagged forum post, or a public thread.

Used by the drop (exactly once, through the drop runner's claim) and by `/show thread` when a
moderator reopens a thread that was deleted by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import discord

from bot.render.announcements import message_url
from bot.render.spoilers import tag_name, thread_name
from bot.render.text import clip, safe, ts
from bot.services.drops import MessageRef, PublishError

log = logging.getLogger(__name__)

SPOILER_TAG = "Spoilers"
FORUM_TAG_LIMIT = 20
# a week: the thread stays in the channel list until the next drop
ARCHIVE_AFTER_MINUTES: Final[Literal[10080]] = 10080
THREAD_EXISTS = 160004  # Discord: a thread has already been created for this message


@dataclass(frozen=True)
class ThreadRequest:
    guild_id: int
    show_title: str
    number: int
    episode_title: str | None
    air_at: datetime
    platform: str | None
    discussion_channel_id: int
    announcement: MessageRef | None
    nonce: str
    spoiler_tag_id: int | None = None
    show_tag_id: int | None = None


@dataclass(frozen=True)
class OpenedThread:
    thread_id: int
    parent_channel_id: int
    spoiler_tag_id: int | None = None
    show_tag_id: int | None = None
    note: str | None = None  # something a moderator should know (shown in /club show)


def first_message(request: ThreadRequest) -> str:
    title = f" · *{safe(clip(request.episode_title, 150))}*" if request.episode_title else ""
    platform = f" on {safe(request.platform)}" if request.platform else ""
    lines = [
        f"⚠️ **Spoilers for {safe(request.show_title)} up to episode {request.number} — catch up first!**",
        f"E{request.number:02d}{title} aired {ts(request.air_at, 'F')}{platform}.",
    ]
    if request.announcement is not None:
        ref = request.announcement
        lines.append(f"📣 Announcement: {message_url(request.guild_id, ref.channel_id, ref.message_id)}")
    lines.append("Rate the episode with the poll below, and use `/watched` to get added to the threads you've seen.")
    return "\n".join(lines)


def _http_error(exc: discord.HTTPException, channel: discord.abc.GuildChannel, doing: str) -> PublishError:
    if isinstance(exc, discord.Forbidden):
        return PublishError(
            f"Missing permission to {doing} in #{channel.name} (403 {exc.text}); it needs Create Public Threads, "
            "Send Messages and Send Messages in Threads"
        )
    if isinstance(exc, discord.NotFound):
        return PublishError(f"#{channel.name} was not found (404); was it deleted?")
    return PublishError(
        f"Discord refused to {doing} in #{channel.name} ({exc.status} {exc.text})", permanent=exc.status < 500
    )


class ThreadOpener:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def open(self, request: ThreadRequest) -> OpenedThread:
        channel = self._client.get_channel(request.discussion_channel_id)
        if channel is None:
            try:
                channel = await self._client.fetch_channel(request.discussion_channel_id)
            except discord.HTTPException as exc:
                raise PublishError(
                    f"the discussion channel {request.discussion_channel_id} is gone ({exc.status})"
                ) from exc
        if isinstance(channel, discord.ForumChannel):
            return await self._forum_post(channel, request)
        if isinstance(channel, discord.TextChannel):
            return await self._text_thread(channel, request)
        raise PublishError(f"#{getattr(channel, 'name', channel.id)} is not a forum or text channel", permanent=True)

    # --- forums ------------------------------------------------------------------------------

    async def _forum_post(self, forum: discord.ForumChannel, request: ThreadRequest) -> OpenedThread:
        name = thread_name(request.show_title, request.number, request.episode_title)
        forum, tags, note = await self._ensure_tags(forum, request)
        existing = self._existing_post(forum, name, request.air_at)
        if existing is not None:  # a retry after a crash between creating and recording it
            return OpenedThread(existing.id, forum.id, note=note, **_tag_ids(tags, request))
        try:
            created = await forum.create_thread(
                name=name,
                content=first_message(request),
                applied_tags=tags,
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            raise _http_error(exc, forum, "create a forum post") from exc
        return OpenedThread(created.thread.id, forum.id, note=note, **_tag_ids(tags, request))

    def _existing_post(self, forum: discord.ForumChannel, name: str, air_at: datetime) -> discord.Thread | None:
        me = forum.guild.me
        for thread in forum.threads:
            if thread.name == name and thread.owner_id == me.id and thread.created_at and thread.created_at >= air_at:
                return thread
        return None

    async def _ensure_tags(
        self, forum: discord.ForumChannel, request: ThreadRequest
    ) -> tuple[discord.ForumChannel, list[discord.ForumTag], str | None]:
        """The Spoilers tag and the show's tag, created when missing and allowed; a forum
        already holding 20 tags gets the post with the tags that exist, and a note why."""
        wanted = [(SPOILER_TAG, request.spoiler_tag_id), (tag_name(request.show_title), request.show_tag_id)]
        found = [_find_tag(forum, label, tag_id) for label, tag_id in wanted]
        missing = [label for (label, _), tag in zip(wanted, found, strict=True) if tag is None]
        note = None
        if missing:
            forum, note = await self._create_tags(forum, missing)
            found = [_find_tag(forum, label, tag_id) for label, tag_id in wanted]
        return forum, [tag for tag in found if tag is not None], note

    async def _create_tags(
        self, forum: discord.ForumChannel, labels: list[str]
    ) -> tuple[discord.ForumChannel, str | None]:
        room = FORUM_TAG_LIMIT - len(forum.available_tags)
        creatable, left_out = labels[: max(room, 0)], labels[max(room, 0) :]
        notes = []
        if left_out:
            notes.append(
                f"#{forum.name} already has {FORUM_TAG_LIMIT} tags (Discord's limit), so the tag(s) "
                f"{', '.join(left_out)} couldn't be added; posts go out with the tags that exist."
            )
        permissions = forum.permissions_for(forum.guild.me)
        if creatable and not (permissions.manage_channels or permissions.manage_threads):
            notes.append(missing_tags_note(forum, creatable))
        elif creatable:
            tags = [*forum.available_tags, *(discord.ForumTag(name=label) for label in creatable)]
            try:
                edited = await forum.edit(available_tags=tags)
            except discord.HTTPException:
                notes.append(missing_tags_note(forum, creatable))
            else:
                if isinstance(edited, discord.ForumChannel):
                    forum = edited
        return forum, " ".join(notes) or None

    # --- text channels -----------------------------------------------------------------------

    async def _text_thread(self, channel: discord.TextChannel, request: ThreadRequest) -> OpenedThread:
        name = thread_name(request.show_title, request.number, request.episode_title)
        starter = await self._starter(channel, request)
        try:
            thread = await starter.create_thread(name=name, auto_archive_duration=ARCHIVE_AFTER_MINUTES)
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise _http_error(exc, channel, "create a thread") from exc
            thread = await self._thread_of(channel, starter.id)  # created before a crash: reuse it
        try:
            await thread.send(
                first_message(request), allowed_mentions=discord.AllowedMentions.none(), nonce=request.nonce + "w"
            )
        except discord.HTTPException as exc:
            raise _http_error(exc, channel, "post in the thread") from exc
        return OpenedThread(thread.id, channel.id)

    async def _starter(
        self, channel: discord.TextChannel, request: ThreadRequest
    ) -> discord.PartialMessage | discord.Message:
        """The message the thread hangs off: the announcement itself when it is in this channel,
        else a short starter posted here (so threads live in the club's discussion channel)."""
        if request.announcement is not None and request.announcement.channel_id == channel.id:
            return channel.get_partial_message(request.announcement.message_id)
        text = f"📺 **{safe(request.show_title)} E{request.number:02d}** — discussion thread below (spoilers inside!)"
        try:
            return await channel.send(text, allowed_mentions=discord.AllowedMentions.none(), nonce=request.nonce + "s")
        except discord.HTTPException as exc:
            raise _http_error(exc, channel, "post the thread's starter message") from exc

    async def _thread_of(self, channel: discord.TextChannel, thread_id: int) -> discord.Thread:
        thread = channel.guild.get_thread(thread_id)
        if thread is not None:
            return thread
        fetched = await self._client.fetch_channel(thread_id)
        if not isinstance(fetched, discord.Thread):
            raise PublishError(f"channel {thread_id} is not a thread", permanent=True)
        return fetched

    # --- members -----------------------------------------------------------------------------

    async def add_member(self, guild: discord.Guild, thread_id: int, user_id: int) -> bool:
        """Add a member to a thread (unarchiving it first); False if the thread is gone."""
        thread = guild.get_thread(thread_id)
        try:
            if thread is None:
                fetched = await self._client.fetch_channel(thread_id)
                if not isinstance(fetched, discord.Thread):
                    return False
                thread = fetched
            if thread.archived:
                thread = await thread.edit(archived=False)
            await thread.add_user(discord.Object(user_id))
        except discord.NotFound:
            return False
        except discord.HTTPException as exc:
            log.warning("could not add a member to thread %s: %s %s", thread_id, exc.status, exc.text)
            return False
        return True

    async def exists(self, thread_id: int) -> bool:
        if self._client.get_channel(thread_id) is not None:
            return True
        try:
            await self._client.fetch_channel(thread_id)
        except discord.NotFound:
            return False
        except discord.Forbidden:
            return True  # it exists; we just can't see it
        return True


def missing_tags_note(forum: discord.ForumChannel, labels: list[str]) -> str:
    return (
        f"I couldn't create the forum tag(s) {', '.join(labels)} in #{forum.name}: grant me Manage Channels on "
        "that forum, or create them yourself. Posts go out without them meanwhile."
    )


def _find_tag(forum: discord.ForumChannel, label: str, tag_id: int | None) -> discord.ForumTag | None:
    if tag_id is not None:
        by_id = forum.get_tag(tag_id)
        if by_id is not None:
            return by_id
    folded = label.casefold()
    return next((tag for tag in forum.available_tags if tag.name.casefold() == folded), None)


def _tag_ids(tags: list[discord.ForumTag], request: ThreadRequest) -> dict[str, int | None]:
    by_name = {tag.name.casefold(): tag.id for tag in tags}
    return {
        "spoiler_tag_id": by_name.get(SPOILER_TAG.casefold(), request.spoiler_tag_id),
        "show_tag_id": by_name.get(tag_name(request.show_title).casefold(), request.show_tag_id),
    }
