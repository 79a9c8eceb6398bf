"""Threads: from a message, in a text channel, forum posts, thread members, listings."""

from __future__ import annotations

from typing import Any

from . import errors as err
from . import payloads
from .backend import Backend
from .errors import FormErrors
from .gateway import GUILD_MEMBERS
from .messages import create_message, validate_body
from .models import Message, ThreadMember
from .permissions import P, has
from .rest import NO_CONTENT, ApiRequest, RestServer
from .routes_channels import publish_message, validate_applied_tags
from .state import NEWS, PRIVATE_THREAD, PUBLIC_THREAD, Channel, ForumChannel, TextChannel, Thread

ANNOUNCEMENT_THREAD = 10
_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def register(server: RestServer, backend: Backend) -> None:
    routes = ThreadRoutes(backend)
    r = server.route
    r("POST", "/channels/{channel_id}/messages/{message_id}/threads", routes.thread_from_message)
    r("POST", "/channels/{channel_id}/threads", routes.create_thread)
    r("GET", "/channels/{channel_id}/threads/archived/public", routes.archived_public)
    r("GET", "/channels/{channel_id}/thread-members", routes.list_members)
    r("PUT", "/channels/{channel_id}/thread-members/@me", routes.join)
    r("DELETE", "/channels/{channel_id}/thread-members/@me", routes.leave)
    r("GET", "/channels/{channel_id}/thread-members/{user_id}", routes.get_member)
    r("PUT", "/channels/{channel_id}/thread-members/{user_id}", routes.add_member)
    r("DELETE", "/channels/{channel_id}/thread-members/{user_id}", routes.remove_member)
    r("GET", "/guilds/{guild_id}/threads/active", routes.active_threads)


class ThreadRoutes:
    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.world = backend.world

    # -- creation ---------------------------------------------------------------------------------
    async def thread_from_message(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if not isinstance(channel, TextChannel):
            raise err.DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        self.b.require(perms, P.CREATE_PUBLIC_THREADS)
        message = self.b.message(channel, api)
        body = api.body
        errors = FormErrors()
        _validate_thread_fields(errors, body)
        errors.raise_if_any()
        if message.thread_id is not None:
            raise err.thread_already_created()
        kind = ANNOUNCEMENT_THREAD if channel.type == NEWS else PUBLIC_THREAD
        thread = self._new_thread(channel, body, kind, thread_id=message.id)
        message.thread_id = thread.id
        self._announce(thread)
        self.b.emit_message("MESSAGE_UPDATE", message)
        return payloads.thread(thread)

    async def create_thread(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if isinstance(channel, ForumChannel):
            return self._forum_post(channel, api, perms)
        if not isinstance(channel, TextChannel):
            raise err.DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        body = api.body
        # Discord's trap: without "type" a thread in a text channel is PRIVATE.
        kind = int(body.get("type") or PRIVATE_THREAD)
        self.b.require(perms, P.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else P.CREATE_PUBLIC_THREADS)
        errors = FormErrors()
        _validate_thread_fields(errors, body)
        if kind not in (PUBLIC_THREAD, PRIVATE_THREAD, ANNOUNCEMENT_THREAD):
            errors.add(["type"], "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
        errors.raise_if_any()
        thread = self._new_thread(channel, body, kind)
        if "invitable" in body:
            thread.invitable = bool(body["invitable"])
        self._announce(thread)
        if kind != PRIVATE_THREAD:
            self._thread_created_notice(channel, thread)
        return payloads.thread(thread, member_for=self.world.bot_user.id)

    def _forum_post(self, forum: ForumChannel, api: ApiRequest, perms: int) -> Any:
        self.b.require(perms, P.SEND_MESSAGES)
        body = api.body
        errors = FormErrors()
        _validate_thread_fields(errors, body)
        message_body = body.get("message")
        if not isinstance(message_body, dict):
            errors.required(["message"])
        else:
            validate_body(errors, message_body, api.files, ["message"])
        applied = body.get("applied_tags") or []
        validate_applied_tags(errors, forum, applied, perms, ["applied_tags"])
        errors.raise_if_any()
        assert isinstance(message_body, dict)
        if forum.require_tag and not applied:
            raise err.tag_required()
        if api.files:
            self.b.require(perms, P.ATTACH_FILES)
        thread = self._new_thread(forum, body, PUBLIC_THREAD)
        thread.applied_tags = [int(t) for t in applied]
        starter = create_message(
            self.world, thread, self.world.bot_user, message_body, api.files, author_perms=perms, message_id=thread.id
        )
        self.world.store_message(starter, thread)
        self.b.remember_nonce(starter)
        forum.last_message_id = thread.id
        self._announce(thread)
        self.b.emit_message("MESSAGE_CREATE", starter)
        member = thread.members[self.world.bot_user.id]
        return payloads.thread(thread) | {
            "message": payloads.message(starter, self.world),
            "member": payloads.thread_member(member),
        }

    def _new_thread(self, parent: Channel, body: dict[str, Any], kind: int, thread_id: int | None = None) -> Thread:
        guild = parent.guild
        default_archive = getattr(parent, "default_auto_archive_duration", 4320)
        thread = Thread(
            guild,
            body["name"],
            parent=parent,
            owner_id=self.world.bot_user.id,
            private=kind == PRIVATE_THREAD,
            thread_id=thread_id,
            auto_archive_duration=int(body.get("auto_archive_duration") or default_archive),
        )
        if kind == ANNOUNCEMENT_THREAD:
            thread.type = ANNOUNCEMENT_THREAD
        if body.get("rate_limit_per_user") is not None:
            thread.rate_limit_per_user = int(body["rate_limit_per_user"])
        thread.members[self.world.bot_user.id] = ThreadMember(thread.id, self.world.bot_user.id)
        guild._register(thread)
        return thread

    def _announce(self, thread: Thread) -> None:
        data = payloads.thread(thread, member_for=self.world.bot_user.id) | {"newly_created": True}
        self.world.emit("THREAD_CREATE", data, thread.guild.id)

    def _thread_created_notice(self, parent: Channel, thread: Thread) -> None:
        """The "X started a thread" system message (type 18) Discord posts in the parent."""
        notice = Message(
            id=self.world.ids.next(),
            channel_id=parent.id,
            guild_id=parent.guild.id,
            author=self.world.bot_user,
            content=thread.name,
            type=18,
            message_reference={"channel_id": str(thread.id), "guild_id": str(parent.guild.id)},
        )
        publish_message(self.b, parent, notice)

    # -- members -------------------------------------------------------------------------------------
    def _thread(self, api: ApiRequest) -> tuple[Thread, int]:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if not isinstance(channel, Thread):
            raise err.DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        return channel, perms

    async def join(self, api: ApiRequest) -> Any:
        thread, _ = self._thread(api)
        if thread.archived:
            raise err.thread_archived()
        self._add(thread, self.world.bot_user.id)
        return NO_CONTENT

    async def add_member(self, api: ApiRequest) -> Any:
        thread, perms = self._thread(api)
        if thread.archived:
            raise err.thread_archived()
        self.b.require(perms, P.SEND_MESSAGES_IN_THREADS)
        user_id = api.snowflake("user_id")
        if user_id not in self.world.users:
            raise err.unknown_user()
        if user_id not in thread.guild.members:
            raise err.unknown_member()
        self._add(thread, user_id)
        return NO_CONTENT

    def _add(self, thread: Thread, user_id: int) -> None:
        if user_id in thread.members:
            return
        member = ThreadMember(thread.id, user_id)
        thread.members[user_id] = member
        self.world.emit(
            "THREAD_MEMBERS_UPDATE", payloads.thread_members_update(thread, added=[member]), thread.guild.id
        )

    async def leave(self, api: ApiRequest) -> Any:
        thread, _ = self._thread(api)
        self._remove(thread, self.world.bot_user.id)
        return NO_CONTENT

    async def remove_member(self, api: ApiRequest) -> Any:
        thread, perms = self._thread(api)
        if thread.archived:
            raise err.thread_archived()
        if not (has(perms, P.MANAGE_THREADS) or (thread.private and thread.owner_id == self.world.bot_user.id)):
            raise err.missing_permissions()
        self._remove(thread, api.snowflake("user_id"))
        return NO_CONTENT

    def _remove(self, thread: Thread, user_id: int) -> None:
        if thread.members.pop(user_id, None) is not None:
            data = payloads.thread_members_update(thread, removed=[user_id])
            self.world.emit("THREAD_MEMBERS_UPDATE", data, thread.guild.id)

    async def list_members(self, api: ApiRequest) -> Any:
        thread, _ = self._thread(api)
        if not self.b.enabled_privileged_intents & GUILD_MEMBERS:
            raise err.missing_access()  # the endpoint needs the Server Members intent enabled
        with_member = api.query.get("with_member") in ("true", "True", "1")
        return [
            payloads.thread_member(tm, thread.guild.members.get(tm.user_id) if with_member else None)
            for tm in thread.members.values()
        ]

    async def get_member(self, api: ApiRequest) -> Any:
        thread, _ = self._thread(api)
        member = thread.members.get(api.snowflake("user_id"))
        if member is None:
            raise err.unknown_member()
        return payloads.thread_member(member)

    # -- listings ---------------------------------------------------------------------------------------
    async def active_threads(self, api: ApiRequest) -> Any:
        guild = self.b.guild(api)
        bot_id = self.world.bot_user.id
        threads = [t for t in guild.threads.values() if not t.archived]
        members = [payloads.thread_member(t.members[bot_id]) for t in threads if bot_id in t.members]
        return {"threads": [payloads.thread(t) for t in threads], "members": members}

    async def archived_public(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        self.b.require(perms, P.READ_MESSAGE_HISTORY)
        threads = [
            t for t in channel.guild.threads.values() if t.parent_id == channel.id and t.archived and not t.private
        ]
        return {"threads": [payloads.thread(t) for t in threads], "members": [], "has_more": False}


def _validate_thread_fields(errors: FormErrors, body: dict[str, Any]) -> None:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        errors.required(["name"])
    elif len(name) > 100:
        errors.bad_length(["name"], 1, 100)
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in _ARCHIVE_DURATIONS:
        errors.add(["auto_archive_duration"], "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080).")
