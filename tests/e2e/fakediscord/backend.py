"""Shared services and permission helpers for the route modules."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from . import errors as err
from . import payloads
from .models import Message
from .permissions import P, has

if TYPE_CHECKING:
    from .gateway import Gateway
    from .interactions import InteractionManager
    from .rest import ApiRequest
    from .state import Channel, Guild, Thread, World
    from .waiting import ChangeNotifier


@dataclasses.dataclass
class Backend:
    world: World
    gateway: Gateway
    interactions: InteractionManager
    notifier: ChangeNotifier
    gateway_url: str
    enabled_privileged_intents: int
    nonce_window: float = 300.0
    nonces: dict[tuple[int, int, str], tuple[Message, float]] = dataclasses.field(default_factory=dict)

    # -- lookups ----------------------------------------------------------------------------
    def channel(self, api: ApiRequest, name: str = "channel_id") -> Channel:
        """A live channel or thread, else 404 Unknown Channel (deleted ones too)."""
        channel = self.world.channels.get(api.snowflake(name))
        if channel is None or channel.deleted:
            raise err.unknown_channel()
        return channel

    def guild(self, api: ApiRequest) -> Guild:
        guild = self.world.guilds.get(api.snowflake("guild_id"))
        if guild is None:
            raise err.unknown_guild()
        return guild

    def message(self, channel: Channel, api: ApiRequest) -> Message:
        message = channel.messages.get(api.snowflake("message_id"))
        if message is None or message.deleted:
            raise err.unknown_message()
        return message

    # -- permissions of the bot ------------------------------------------------------------------
    def visible(self, channel: Channel) -> int:
        """The bot's permissions in ``channel``; 403 Missing Access if it cannot view it."""
        perms = channel.bot_permissions()
        if not has(perms, P.VIEW_CHANNEL):
            raise err.missing_access()
        if channel.is_thread() and channel.private:  # type: ignore[attr-defined]
            thread: Thread = channel  # type: ignore[assignment]
            if self.world.bot_user.id not in thread.members and not has(perms, P.MANAGE_THREADS):
                raise err.missing_access()
        return perms

    @staticmethod
    def require(perms: int, flag: int) -> None:
        if not has(perms, flag):
            raise err.missing_permissions()

    # -- events ----------------------------------------------------------------------------------
    def emit_message(self, name: str, message: Message) -> None:
        self.world.emit(name, payloads.message(message, self.world, with_member=True), message.guild_id)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def find_nonce(self, author_id: int, channel_id: int, nonce: Any) -> Message | None:
        entry = self.nonces.get((author_id, channel_id, str(nonce)))
        if entry is None:
            return None
        message, at = entry
        if self.now() - at > self.nonce_window or message.deleted:
            return None
        return message

    def remember_nonce(self, message: Message) -> None:
        if message.nonce is not None:
            self.nonces[(message.author.id, message.channel_id, message.nonce)] = (message, self.now())
