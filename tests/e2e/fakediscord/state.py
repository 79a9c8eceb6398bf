"""The fake's world: guilds, channels, threads, members, messages, and a builder API.

Builder methods called after the bot connected emit the gateway events real Discord
would send (CHANNEL_UPDATE, GUILD_ROLE_UPDATE, ...), so the bot's cache stays in sync.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from . import payloads
from .commands import CommandRegistry
from .models import Attachment, ForumTag, Member, Message, Overwrite, Role, ThreadMember, User
from .permissions import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE,
    MODERATOR_PERMISSIONS,
    P,
    channel_permissions,
)
from .snowflake import SnowflakeGenerator, utcnow

EventSink = Callable[[str, "dict[str, Any] | None", "int | None"], None]

TEXT = 0
CATEGORY = 4
NEWS = 5
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
FORUM = 15
FORUM_REQUIRE_TAG = 1 << 4
THREAD_PINNED = 1 << 1

Target = Role | Member | User | int


class Application:
    def __init__(self, app_id: int, name: str, owner: User) -> None:
        self.id = app_id
        self.name = name
        self.owner = owner
        self.flags = 0
        self.verify_key = secrets.token_hex(32)
        self.description = ""


class World:
    """Root of the state. One per FakeDiscord."""

    def __init__(self, *, token: str, bot_name: str, application_id: int | None = None) -> None:
        self.ids = SnowflakeGenerator()
        self.token = token
        app_id = application_id or self.ids.next()
        owner = User(id=self.ids.next(), username="app-owner")
        self.application = Application(app_id, bot_name, owner)
        # Modern applications share their id with their bot user.
        self.bot_user = User(id=app_id, username=bot_name, bot=True)
        self.users: dict[int, User] = {u.id: u for u in (owner, self.bot_user)}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.deleted_channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.attachments: dict[int, Attachment] = {}
        self.commands = CommandRegistry(self.ids, app_id)
        self.cdn_base = "http://127.0.0.1/attachments"
        self._sinks: list[EventSink] = []
        self._change_hooks: list[Callable[[], None]] = []

    # -- plumbing -------------------------------------------------------------------
    def add_sink(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def add_change_hook(self, hook: Callable[[], None]) -> None:
        self._change_hooks.append(hook)

    def emit(self, name: str, data: dict[str, Any] | None, guild_id: int | None = None) -> None:
        """Send a gateway event to every connected session that may receive it."""
        for sink in self._sinks:
            sink(name, data, guild_id)
        self.changed()

    def changed(self) -> None:
        for hook in self._change_hooks:
            hook()

    # -- builders and lookups ---------------------------------------------------------
    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> User:
        user = User(id=self.ids.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        locale: str = "en-US",
    ) -> Guild:
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = Guild(self, name, owner, int(everyone_permissions), int(bot_permissions), locale)
        self.guilds[guild.id] = guild
        self.emit("GUILD_CREATE", None, guild.id)
        return guild

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from the guild (GUILD_DELETE without ``unavailable``)."""
        del self.guilds[guild.id]
        for channel in list(guild.all_channels()):
            self.channels.pop(channel.id, None)
        self.emit("GUILD_DELETE", {"id": str(guild.id)}, guild.id)

    def channel(self, channel_id: int) -> Channel | None:
        return self.channels.get(int(channel_id))

    def guild(self, key: int | str) -> Guild:
        for guild in self.guilds.values():
            if guild.id == key or guild.name == key or str(guild.id) == str(key):
                return guild
        raise KeyError(f"no guild {key!r}; guilds: {[g.name for g in self.guilds.values()]}")

    def store_message(self, message: Message, channel: Channel) -> None:
        self.messages[message.id] = message
        if not message.ephemeral:
            channel.messages[message.id] = message
            channel.last_message_id = message.id

    def attachment_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        return f"{self.cdn_base}/{channel_id}/{attachment_id}/{filename}"


class Guild:
    def __init__(
        self,
        world: World,
        name: str,
        owner: User,
        everyone_permissions: int,
        bot_permissions: int,
        locale: str,
    ) -> None:
        self.world = world
        self.id = world.ids.next()
        self.name = name
        self.owner_id = owner.id
        self.preferred_locale = locale
        self.joined_at = utcnow()
        self.features: list[str] = ["COMMUNITY"]
        self.system_channel_id: int | None = None
        self.roles: dict[int, Role] = {}
        self.members: dict[int, Member] = {}
        self.channels: dict[int, Channel] = {}
        self.threads: dict[int, Thread] = {}
        self.roles[self.id] = Role(self.id, self.id, "@everyone", everyone_permissions, position=0)
        bot = world.bot_user
        bot_role = Role(world.ids.next(), self.id, bot.username, bot_permissions, managed=True, bot_id=bot.id)
        self.roles[bot_role.id] = bot_role
        self.bot_role = bot_role
        self._moderator_role: Role | None = None
        self.members[owner.id] = Member(owner, self.id, [])
        self.members[bot.id] = Member(bot, self.id, [bot_role.id])

    def __repr__(self) -> str:
        return f"<Guild {self.name!r} id={self.id}>"

    # -- lookups ---------------------------------------------------------------------
    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]

    @property
    def me(self) -> Member:
        """The bot's own member."""
        return self.members[self.world.bot_user.id]

    @property
    def owner(self) -> Member:
        return self.members[self.owner_id]

    def all_channels(self) -> Iterable[Channel]:
        yield from self.channels.values()
        yield from self.threads.values()

    def channel(self, key: int | str) -> Channel:
        for channel in self.all_channels():
            if channel.id == key or channel.name == key or str(channel.id) == str(key):
                return channel
        raise KeyError(f"no channel {key!r} in {self.name}")

    def member(self, key: int | str) -> Member:
        for member in self.members.values():
            if member.id == key or member.username == key or str(member.id) == str(key):
                return member
        raise KeyError(f"no member {key!r} in {self.name}")

    def role(self, key: int | str) -> Role:
        for role in self.roles.values():
            if role.id == key or role.name == key or str(role.id) == str(key):
                return role
        raise KeyError(f"no role {key!r} in {self.name}")

    def permissions_in(self, member: Member, channel: Channel) -> int:
        return channel_permissions(channel, member)

    # -- roles ------------------------------------------------------------------------
    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        mentionable: bool = False,
        color: int = 0,
        hoist: bool = False,
    ) -> Role:
        position = max(r.position for r in self.roles.values()) + 1
        role = Role(self.world.ids.next(), self.id, name, int(permissions), position, color, hoist, False, mentionable)
        self.roles[role.id] = role
        self.world.emit("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": payloads.role(role)}, self.id)
        return role

    def edit_role(self, role: Role, *, permissions: int | None = None, name: str | None = None) -> Role:
        if permissions is not None:
            role.permissions = int(permissions)
        if name is not None:
            role.name = name
        self.world.emit("GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": payloads.role(role)}, self.id)
        return role

    def set_everyone_permissions(self, permissions: int) -> None:
        self.edit_role(self.everyone_role, permissions=permissions)

    def set_bot_permissions(self, permissions: int) -> None:
        """Replace the permissions of the bot's managed role."""
        self.edit_role(self.bot_role, permissions=permissions)

    @property
    def moderator_role(self) -> Role:
        if self._moderator_role is None:
            self._moderator_role = self.add_role("Moderator", MODERATOR_PERMISSIONS)
        return self._moderator_role

    # -- members ----------------------------------------------------------------------
    def add_member(
        self,
        username: str,
        *,
        roles: Iterable[Role] = (),
        moderator: bool = False,
        admin: bool = False,
        nick: str | None = None,
        global_name: str | None = None,
        bot: bool = False,
        user: User | None = None,
    ) -> Member:
        """Add a member; ``moderator=True`` gives a role with Manage Server."""
        user = user or self.world.add_user(username, global_name=global_name, bot=bot)
        role_ids = [r.id for r in roles]
        if moderator:
            role_ids.append(self.moderator_role.id)
        if admin:
            role_ids.append(self._admin_role().id)
        member = Member(user, self.id, role_ids, nick=nick)
        self.members[user.id] = member
        data = payloads.member(member) | {"guild_id": str(self.id)}
        self.world.emit("GUILD_MEMBER_ADD", data, self.id)
        return member

    def _admin_role(self) -> Role:
        for role in self.roles.values():
            if role.name == "Admin":
                return role
        return self.add_role("Admin", P.ADMINISTRATOR)

    def set_member_roles(self, member: Member, roles: Iterable[Role]) -> None:
        member.role_ids = [r.id for r in roles]
        data = payloads.member(member) | {"guild_id": str(self.id)}
        self.world.emit("GUILD_MEMBER_UPDATE", data, self.id)

    def remove_member(self, member: Member) -> None:
        del self.members[member.id]
        data = {"guild_id": str(self.id), "user": payloads.user(member.user)}
        self.world.emit("GUILD_MEMBER_REMOVE", data, self.id)

    # -- channels ---------------------------------------------------------------------
    def _next_position(self, kind: type[Channel]) -> int:
        return sum(1 for c in self.channels.values() if isinstance(c, kind))

    def _register(self, channel: Channel) -> None:
        self.world.channels[channel.id] = channel
        if isinstance(channel, Thread):
            self.threads[channel.id] = channel
        else:
            self.channels[channel.id] = channel

    def add_category(self, name: str) -> CategoryChannel:
        channel = CategoryChannel(self, name, position=self._next_position(CategoryChannel))
        self._register(channel)
        self.world.emit("CHANNEL_CREATE", payloads.channel(channel), self.id)
        return channel

    def add_text_channel(
        self,
        name: str,
        *,
        category: CategoryChannel | None = None,
        topic: str | None = None,
        nsfw: bool = False,
        slowmode: int = 0,
        news: bool = False,
    ) -> TextChannel:
        channel = TextChannel(
            self,
            name,
            position=self._next_position(TextChannel),
            parent_id=category.id if category else None,
            topic=topic,
            nsfw=nsfw,
            rate_limit_per_user=slowmode,
            type=NEWS if news else TEXT,
        )
        if self.system_channel_id is None:
            self.system_channel_id = channel.id
        self._register(channel)
        self.world.emit("CHANNEL_CREATE", payloads.channel(channel), self.id)
        return channel

    def add_forum_channel(
        self,
        name: str,
        tags: Iterable[str | ForumTag] = (),
        *,
        category: CategoryChannel | None = None,
        require_tag: bool = False,
        topic: str | None = None,
    ) -> ForumChannel:
        channel = ForumChannel(
            self,
            name,
            position=self._next_position(TextChannel),
            parent_id=category.id if category else None,
            topic=topic,
            flags=FORUM_REQUIRE_TAG if require_tag else 0,
        )
        for tag in tags:
            channel.available_tags.append(tag if isinstance(tag, ForumTag) else ForumTag(self.world.ids.next(), tag))
        self._register(channel)
        self.world.emit("CHANNEL_CREATE", payloads.channel(channel), self.id)
        return channel

    def add_thread(
        self,
        parent: TextChannel | ForumChannel,
        name: str,
        *,
        owner: Member,
        private: bool = False,
        applied_tags: Iterable[ForumTag] = (),
        content: str = "",
    ) -> Thread:
        """A thread (or forum post with a starter message) created by a user."""
        thread = Thread(self, name, parent=parent, owner_id=owner.id, private=private)
        thread.applied_tags = [t.id for t in applied_tags]
        thread.members[owner.id] = ThreadMember(thread.id, owner.id)
        self._register(thread)
        if isinstance(parent, ForumChannel):
            # A forum post's starter message shares the thread's id and is not counted in message_count.
            starter = Message(thread.id, thread.id, self.id, owner.user, content=content)
            self.world.store_message(starter, thread)
        self.world.emit("THREAD_CREATE", payloads.thread(thread) | {"newly_created": True}, self.id)
        return thread

    def delete_channel(self, channel: Channel) -> None:
        channel.delete()


class Channel:
    type: int = TEXT

    def __init__(
        self,
        guild: Guild,
        name: str,
        *,
        position: int = 0,
        parent_id: int | None = None,
        topic: str | None = None,
        nsfw: bool = False,
        rate_limit_per_user: int = 0,
        flags: int = 0,
        type: int | None = None,
    ) -> None:
        self.guild = guild
        self.id = guild.world.ids.next()
        self.name = name
        if type is not None:
            self.type = type
        self.position = position
        self.parent_id = parent_id
        self.topic = topic
        self.nsfw = nsfw
        self.rate_limit_per_user = rate_limit_per_user
        self.flags = flags
        self.overwrites: dict[int, Overwrite] = {}
        self.messages: dict[int, Message] = {}
        self.last_message_id: int | None = None
        self.last_pin_timestamp: dt.datetime | None = None
        self.deleted = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} #{self.name} id={self.id}>"

    @property
    def world(self) -> World:
        return self.guild.world

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def is_thread(self) -> bool:
        return False

    def is_text_based(self) -> bool:
        return self.type in (0, 2, 5, 10, 11, 12, 13)

    def overwrite_source(self) -> Channel:
        return self

    # -- permissions -------------------------------------------------------------------
    def permissions_for(self, member: Member) -> int:
        return channel_permissions(self, member)

    def bot_permissions(self) -> int:
        return channel_permissions(self, self.guild.me)

    def set_overwrite(self, target: Target, *, allow: int = 0, deny: int = 0) -> Overwrite:
        """Set (replace) the overwrite for a role or member and emit CHANNEL_UPDATE."""
        target_id, kind = self._target(target)
        overwrite = Overwrite(target_id, kind, int(allow), int(deny))
        self.overwrites[target_id] = overwrite
        self.emit_update()
        return overwrite

    def clear_overwrite(self, target: Target) -> None:
        target_id, _ = self._target(target)
        self.overwrites.pop(target_id, None)
        self.emit_update()

    def deny_bot(self, permissions: int) -> Overwrite:
        """Deny permissions to the bot's member in this channel (merging with its overwrite)."""
        current = self.overwrites.get(self.guild.me.id, Overwrite(self.guild.me.id, 1))
        return self.set_overwrite(self.guild.me, allow=current.allow & ~permissions, deny=current.deny | permissions)

    def allow_bot(self, permissions: int) -> Overwrite:
        current = self.overwrites.get(self.guild.me.id, Overwrite(self.guild.me.id, 1))
        return self.set_overwrite(self.guild.me, allow=current.allow | permissions, deny=current.deny & ~permissions)

    def _target(self, target: Target) -> tuple[int, int]:
        if isinstance(target, Role):
            return target.id, 0
        if isinstance(target, (Member, User)):
            return target.id, 1
        return int(target), 0 if int(target) in self.guild.roles else 1

    # -- life cycle -----------------------------------------------------------------------
    def update(self, **fields: Any) -> None:
        """Change attributes (e.g. ``topic=...``) and emit the update event."""
        for key, value in fields.items():
            if not hasattr(self, key):
                raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")
            setattr(self, key, value)
        self.emit_update()

    def emit_update(self) -> None:
        if not self.deleted:
            self.world.emit("CHANNEL_UPDATE", payloads.channel(self), self.guild.id)

    def delete(self) -> None:
        """Delete the channel (and its threads): emits CHANNEL_DELETE; REST then says 10003."""
        for thread in [t for t in self.guild.threads.values() if t.parent_id == self.id]:
            thread.delete()
        self.deleted = True
        self.guild.channels.pop(self.id, None)
        self.world.channels.pop(self.id, None)
        self.world.deleted_channels[self.id] = self
        self.world.emit("CHANNEL_DELETE", payloads.channel(self), self.guild.id)

    # -- messages ---------------------------------------------------------------------------
    def history(self) -> list[Message]:
        """Live (not deleted, not ephemeral) messages, oldest first."""
        return [m for m in self.messages.values() if not m.deleted]

    @property
    def last_message(self) -> Message | None:
        live = self.history()
        return live[-1] if live else None

    def message(self, message_id: int) -> Message:
        return self.messages[int(message_id)]


class TextChannel(Channel):
    type = TEXT

    def __init__(self, guild: Guild, name: str, **kwargs: Any) -> None:
        super().__init__(guild, name, **kwargs)
        self.default_auto_archive_duration = 4320
        self.default_thread_rate_limit_per_user = 0

    @property
    def threads(self) -> list[Thread]:
        return [t for t in self.guild.threads.values() if t.parent_id == self.id]


class CategoryChannel(Channel):
    type = CATEGORY


class ForumChannel(Channel):
    type = FORUM

    def __init__(self, guild: Guild, name: str, **kwargs: Any) -> None:
        super().__init__(guild, name, **kwargs)
        self.available_tags: list[ForumTag] = []
        self.default_reaction_emoji: dict[str, Any] | None = None
        self.default_sort_order: int | None = None
        self.default_forum_layout = 0
        self.default_thread_rate_limit_per_user = 0
        self.default_auto_archive_duration = 4320

    def is_text_based(self) -> bool:
        # Posting in a forum (creating a post) is gated by Send Messages, like a text channel.
        return True

    @property
    def require_tag(self) -> bool:
        return bool(self.flags & FORUM_REQUIRE_TAG)

    @require_tag.setter
    def require_tag(self, value: bool) -> None:
        self.flags = self.flags | FORUM_REQUIRE_TAG if value else self.flags & ~FORUM_REQUIRE_TAG
        self.emit_update()

    def tag(self, name: str) -> ForumTag:
        for tag in self.available_tags:
            if tag.name == name:
                return tag
        raise KeyError(f"no tag {name!r} in forum {self.name}; tags: {[t.name for t in self.available_tags]}")

    def add_tag(self, name: str, *, moderated: bool = False, emoji_name: str | None = None) -> ForumTag:
        tag = ForumTag(self.world.ids.next(), name, moderated=moderated, emoji_name=emoji_name)
        self.available_tags.append(tag)
        self.emit_update()
        return tag

    @property
    def threads(self) -> list[Thread]:
        return [t for t in self.guild.threads.values() if t.parent_id == self.id]


class Thread(Channel):
    type = PUBLIC_THREAD

    def __init__(
        self,
        guild: Guild,
        name: str,
        *,
        parent: Channel,
        owner_id: int,
        private: bool = False,
        thread_id: int | None = None,
        auto_archive_duration: int = 4320,
    ) -> None:
        super().__init__(guild, name, parent_id=parent.id, type=PRIVATE_THREAD if private else PUBLIC_THREAD)
        if thread_id is not None:
            self.id = thread_id
        self.owner_id = owner_id
        self.applied_tags: list[int] = []
        self.members: dict[int, ThreadMember] = {}
        self.archived = False
        self.locked = False
        self.invitable = True
        self.auto_archive_duration = auto_archive_duration
        self.create_timestamp = utcnow()
        self.archive_timestamp = self.create_timestamp
        self.message_count = 0
        self.total_message_sent = 0
        self.rate_limit_per_user = getattr(parent, "default_thread_rate_limit_per_user", 0)

    def is_thread(self) -> bool:
        return True

    @property
    def parent(self) -> Channel:
        parent = self.guild.channels.get(self.parent_id or 0)
        if parent is None:
            raise KeyError(f"thread {self.id} has no parent")
        return parent

    def overwrite_source(self) -> Channel:
        return self.parent

    @property
    def private(self) -> bool:
        return self.type == PRIVATE_THREAD

    @property
    def starter_message(self) -> Message | None:
        return self.messages.get(self.id) or self.world.messages.get(self.id)

    def emit_update(self) -> None:
        if not self.deleted:
            self.world.emit("THREAD_UPDATE", payloads.thread(self), self.guild.id)

    def add_member(self, member: Member) -> ThreadMember:
        """A user joins the thread (emits THREAD_MEMBERS_UPDATE)."""
        thread_member = ThreadMember(self.id, member.id)
        self.members[member.id] = thread_member
        self.world.emit(
            "THREAD_MEMBERS_UPDATE", payloads.thread_members_update(self, added=[thread_member]), self.guild.id
        )
        return thread_member

    def delete(self) -> None:
        self.deleted = True
        self.guild.threads.pop(self.id, None)
        self.world.channels.pop(self.id, None)
        self.world.deleted_channels[self.id] = self
        data = {"id": str(self.id), "guild_id": str(self.guild.id), "parent_id": str(self.parent_id), "type": self.type}
        self.world.emit("THREAD_DELETE", data, self.guild.id)

    def count_message(self) -> None:
        self.message_count += 1
        self.total_message_sent += 1
