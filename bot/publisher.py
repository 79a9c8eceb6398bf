"""The Discord edge of the drop runner: each action kind's handler, registered by its cog.

Handlers raise `PublishError` for what Discord refused; this module turns discord.py's
exceptions into that, with a reason a moderator can act on (shown in `/club show`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.render.announcements import announcement
from bot.services.drops import DropContext, Posted, PublishError

log = logging.getLogger(__name__)

Handler = Callable[[DropContext], Awaitable[Posted]]


def describe_http_error(exc: discord.HTTPException, where: str) -> PublishError:
    if isinstance(exc, discord.Forbidden):
        return PublishError(f"Discord refused (403 {exc.text or 'Missing Permissions'}) in {where}")
    if isinstance(exc, discord.NotFound):
        return PublishError(f"{where} was not found (404 {exc.text or 'Unknown Channel'}); was it deleted?")
    if exc.status >= 500:
        return PublishError(f"Discord had a server error ({exc.status}) posting in {where}")
    return PublishError(f"Discord rejected the post in {where} ({exc.status} {exc.text})", permanent=True)


class DiscordPublisher:
    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def perform(self, context: DropContext) -> Posted:
        handler = self._handlers.get(context.kind)
        if handler is None:
            raise PublishError(f"no handler for {context.kind}", permanent=True)
        try:
            return await handler(context)
        except discord.HTTPException as exc:
            raise describe_http_error(exc, self.channel_name(context.announcement_channel_id)) from exc

    def channel_name(self, channel_id: int) -> str:
        channel = self._client.get_channel(channel_id)
        name = getattr(channel, "name", None)
        return f"#{name}" if name else f"channel {channel_id}"

    async def messageable(self, channel_id: int) -> Any:
        """The channel (from the cache, else fetched); PublishError if it is gone."""
        channel = self._client.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self._client.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            raise describe_http_error(exc, f"channel {channel_id}") from exc

    async def refresh_announcement(self, context: DropContext) -> None:
        """Re-render the drop announcement with the links in `context.done` (thread, poll).

        Best effort: the announcement may be missing (missed, failed) or deleted by hand; the
        thread or poll that asked for the link still stands.
        """
        ref = context.announcement
        if ref is None:
            return
        channel = self._client.get_channel(ref.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        try:
            await channel.get_partial_message(ref.message_id).edit(
                content=announcement(context),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            log.warning("could not add links to the announcement %s: %s", ref.message_id, exc)
