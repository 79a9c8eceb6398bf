"""Channels and messages: fetch/edit/delete channels, send/edit/delete/list messages, pins, reactions."""

from __future__ import annotations

from typing import Any

from . import errors as err
from . import payloads
from .backend import Backend
from .errors import FormErrors
from .messages import create_message, edit_message
from .models import ForumTag, Message, Overwrite
from .permissions import P, has
from .rest import NO_CONTENT, ApiRequest, RestServer
from .snowflake import iso, utcnow
from .state import CategoryChannel, Channel, ForumChannel, Thread

MAX_PINS = 250


def register(server: RestServer, backend: Backend) -> None:
    routes = ChannelRoutes(backend)
    r = server.route
    r("GET", "/channels/{channel_id}", routes.get_channel)
    r("PATCH", "/channels/{channel_id}", routes.edit_channel)
    r("DELETE", "/channels/{channel_id}", routes.delete_channel)
    r("PUT", "/channels/{channel_id}/permissions/{target_id}", routes.put_overwrite)
    r("DELETE", "/channels/{channel_id}/permissions/{target_id}", routes.delete_overwrite)
    r("POST", "/channels/{channel_id}/typing", routes.typing)
    # pins before /messages/{message_id} so "pins" is not taken for an id
    r("GET", "/channels/{channel_id}/messages/pins", routes.list_pins)
    r("PUT", "/channels/{channel_id}/messages/pins/{message_id}", routes.pin)
    r("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", routes.unpin)
    r("GET", "/channels/{channel_id}/pins", routes.list_pins_legacy)
    r("PUT", "/channels/{channel_id}/pins/{message_id}", routes.pin)
    r("DELETE", "/channels/{channel_id}/pins/{message_id}", routes.unpin)
    r("GET", "/channels/{channel_id}/messages", routes.history)
    r("POST", "/channels/{channel_id}/messages", routes.send_message)
    r("GET", "/channels/{channel_id}/messages/{message_id}", routes.get_message)
    r("PATCH", "/channels/{channel_id}/messages/{message_id}", routes.edit_message)
    r("DELETE", "/channels/{channel_id}/messages/{message_id}", routes.delete_message)
    r("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", routes.add_reaction)
    r("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", routes.remove_reaction)


class ChannelRoutes:
    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.world = backend.world

    # -- channels --------------------------------------------------------------------------------
    async def get_channel(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.visible(channel)
        if isinstance(channel, Thread):
            return payloads.thread(channel, member_for=self.world.bot_user.id)
        return payloads.channel(channel)

    async def edit_channel(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if isinstance(channel, Thread):
            _edit_thread(self.b, channel, api.body, perms)
            channel.emit_update()
            return payloads.thread(channel, member_for=self.world.bot_user.id)
        self.b.require(perms, P.MANAGE_CHANNELS)
        if "permission_overwrites" in api.body:
            self.b.require(perms, P.MANAGE_ROLES)
        _edit_guild_channel(self.b, channel, api.body)
        channel.emit_update()
        return payloads.channel(channel)

    async def delete_channel(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        self.b.require(perms, P.MANAGE_THREADS if channel.is_thread() else P.MANAGE_CHANNELS)
        data = payloads.channel(channel)
        channel.delete()
        return data

    async def put_overwrite(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        self.b.require(perms, P.MANAGE_ROLES)
        body = api.body
        target = api.snowflake("target_id")
        channel.set_overwrite(target, allow=int(body.get("allow") or 0), deny=int(body.get("deny") or 0))
        channel.overwrites[target].type = int(body.get("type", channel.overwrites[target].type))
        return NO_CONTENT

    async def delete_overwrite(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.require(self.b.visible(channel), P.MANAGE_ROLES)
        channel.clear_overwrite(api.snowflake("target_id"))
        return NO_CONTENT

    async def typing(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.visible(channel)
        return NO_CONTENT

    # -- messages --------------------------------------------------------------------------------
    async def history(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if not has(perms, P.READ_MESSAGE_HISTORY):
            return []
        limit = max(1, min(int(api.query.get("limit", 50)), 100))
        messages = sorted(channel.history(), key=lambda m: m.id, reverse=True)
        if "before" in api.query:
            messages = [m for m in messages if m.id < int(api.query["before"])]
        if "after" in api.query:
            messages = sorted((m for m in messages if m.id > int(api.query["after"])), key=lambda m: m.id)
            messages = list(reversed(messages[:limit]))
        if "around" in api.query:
            around = int(api.query["around"])
            older = [m for m in messages if m.id <= around][: limit // 2 + limit % 2]
            newer = [m for m in messages if m.id > around][-(limit // 2) :] if limit // 2 else []
            messages = newer + older
        return [payloads.message(m, self.world) for m in messages[:limit]]

    async def send_message(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        _check_can_send(self.b, channel, perms)
        body = api.body
        if api.files:
            self.b.require(perms, P.ATTACH_FILES)
        if body.get("message_reference"):
            self.b.require(perms, P.READ_MESSAGE_HISTORY)
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            existing = self.b.find_nonce(self.world.bot_user.id, channel.id, body["nonce"])
            if existing is not None:
                return payloads.message(existing, self.world)
        message = create_message(self.world, channel, self.world.bot_user, body, api.files, author_perms=perms)
        publish_message(self.b, channel, message)
        return payloads.message(message, self.world)

    async def get_message(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if not has(perms, P.READ_MESSAGE_HISTORY):
            raise err.missing_access()
        return payloads.message(self.b.message(channel, api), self.world)

    async def edit_message(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        message = self.b.message(channel, api)
        if message.author.id != self.world.bot_user.id or message.webhook_id is not None:
            if set(api.body) - {"flags"}:
                raise err.cannot_edit_others()
            self.b.require(perms, P.MANAGE_MESSAGES)
        if isinstance(channel, Thread) and channel.archived:
            raise err.thread_archived()
        edit_message(self.world, message, api.body, api.files, author_perms=perms)
        self.b.emit_message("MESSAGE_UPDATE", message)
        return payloads.message(message, self.world)

    async def delete_message(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        message = self.b.message(channel, api)
        if message.author.id != self.world.bot_user.id:
            self.b.require(perms, P.MANAGE_MESSAGES)
        message.deleted = True
        data = {"id": str(message.id), "channel_id": str(channel.id), "guild_id": str(channel.guild.id)}
        self.world.emit("MESSAGE_DELETE", data, channel.guild.id)
        return NO_CONTENT

    # -- pins ----------------------------------------------------------------------------------------
    async def list_pins(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.visible(channel)
        pinned = [m for m in channel.history() if m.pinned]
        items = [{"pinned_at": iso(m.timestamp), "message": payloads.message(m, self.world)} for m in reversed(pinned)]
        return {"items": items, "has_more": False}

    async def list_pins_legacy(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.visible(channel)
        return [payloads.message(m, self.world) for m in reversed(channel.history()) if m.pinned]

    async def pin(self, api: ApiRequest) -> Any:
        return self._set_pinned(api, True)

    async def unpin(self, api: ApiRequest) -> Any:
        return self._set_pinned(api, False)

    def _set_pinned(self, api: ApiRequest, pinned: bool) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        if not (has(perms, P.PIN_MESSAGES) or has(perms, P.MANAGE_MESSAGES)):
            raise err.missing_permissions()
        message = self.b.message(channel, api)
        if pinned and not message.pinned and sum(m.pinned for m in channel.history()) >= MAX_PINS:
            raise err.DiscordAPIError(400, 30003, f"Maximum number of pins reached ({MAX_PINS})")
        if message.pinned != pinned:
            message.pinned = pinned
            channel.last_pin_timestamp = utcnow()
            self.b.emit_message("MESSAGE_UPDATE", message)
            data = {
                "guild_id": str(channel.guild.id),
                "channel_id": str(channel.id),
                "last_pin_timestamp": iso(channel.last_pin_timestamp),
            }
            self.world.emit("CHANNEL_PINS_UPDATE", data, channel.guild.id)
        return NO_CONTENT

    # -- reactions -----------------------------------------------------------------------------------
    async def add_reaction(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        perms = self.b.visible(channel)
        self.b.require(perms, P.READ_MESSAGE_HISTORY)
        message = self.b.message(channel, api)
        emoji = api.param("emoji")
        users = message.reactions.setdefault(emoji, set())
        if not users:
            self.b.require(perms, P.ADD_REACTIONS)
        if self.world.bot_user.id not in users:
            users.add(self.world.bot_user.id)
            self.world.emit("MESSAGE_REACTION_ADD", self._reaction_event(message, emoji), channel.guild.id)
        return NO_CONTENT

    async def remove_reaction(self, api: ApiRequest) -> Any:
        channel = self.b.channel(api)
        self.b.visible(channel)
        message = self.b.message(channel, api)
        emoji = api.param("emoji")
        users = message.reactions.get(emoji, set())
        if self.world.bot_user.id in users:
            users.discard(self.world.bot_user.id)
            self.world.emit("MESSAGE_REACTION_REMOVE", self._reaction_event(message, emoji), channel.guild.id)
        return NO_CONTENT

    def _reaction_event(self, message: Message, emoji: str) -> dict[str, Any]:
        return {
            "user_id": str(self.world.bot_user.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "guild_id": str(message.guild_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }


def _check_can_send(b: Backend, channel: Channel, perms: int) -> None:
    if isinstance(channel, (ForumChannel, CategoryChannel)) or not channel.is_text_based():
        raise err.non_text_channel()
    if isinstance(channel, Thread):
        b.require(perms, P.SEND_MESSAGES_IN_THREADS)
        if channel.locked and not has(perms, P.MANAGE_THREADS):
            raise err.thread_archived()
        if channel.archived:  # sending in an archived (unlocked) thread unarchives it
            channel.archived = False
            channel.archive_timestamp = utcnow()
            channel.emit_update()
    else:
        b.require(perms, P.SEND_MESSAGES)


def publish_message(b: Backend, channel: Channel, message: Message) -> None:
    """Store a new channel message, remember its nonce, bump thread counters, MESSAGE_CREATE."""
    b.world.store_message(message, channel)
    b.remember_nonce(message)
    if isinstance(channel, Thread):
        message.position = channel.total_message_sent
        channel.count_message()
    b.emit_message("MESSAGE_CREATE", message)


def _edit_guild_channel(b: Backend, channel: Channel, body: dict[str, Any]) -> None:
    errors = FormErrors()
    if "name" in body and not 1 <= len(body["name"] or "") <= 100:
        errors.bad_length(["name"], 1, 100)
    topic_limit = 4096 if isinstance(channel, ForumChannel) else 1024
    if body.get("topic") and len(body["topic"]) > topic_limit:
        errors.max_length(["topic"], topic_limit)
    tags = body.get("available_tags")
    if tags is not None:
        if not isinstance(channel, ForumChannel):
            errors.add(["available_tags"], "CHANNEL_TYPE_INVALID", "Only forum and media channels have tags")
        elif len(tags) > 20:
            errors.max_length(["available_tags"], 20)
        for index, tag in enumerate(tags):
            if not 1 <= len(tag.get("name") or "") <= 20:
                errors.bad_length(["available_tags", index, "name"], 1, 20)
    errors.raise_if_any()
    if tags is not None and isinstance(channel, ForumChannel):
        _replace_tags(b, channel, tags)
    for key in ("name", "topic", "nsfw", "rate_limit_per_user", "position", "flags", "default_auto_archive_duration"):
        if key in body:
            setattr(channel, key, body[key])
    for key in (
        "default_reaction_emoji",
        "default_sort_order",
        "default_forum_layout",
        "default_thread_rate_limit_per_user",
    ):
        if key in body and isinstance(channel, ForumChannel):
            setattr(channel, key, body[key])
    if "parent_id" in body:
        channel.parent_id = int(body["parent_id"]) if body["parent_id"] else None
    if "permission_overwrites" in body:
        channel.overwrites.clear()
        for ow in body["permission_overwrites"] or []:
            target = int(ow["id"])
            allow, deny = int(ow.get("allow") or 0), int(ow.get("deny") or 0)
            channel.overwrites[target] = Overwrite(target, int(ow.get("type", 0)), allow, deny)


def _replace_tags(b: Backend, forum: ForumChannel, tags: list[dict[str, Any]]) -> None:
    names = [t["name"] for t in tags]
    if len(set(names)) != len(names):
        raise err.DiscordAPIError(400, 40061, "Tag name must be unique")
    existing = {t.id: t for t in forum.available_tags}
    new_tags = []
    for tag in tags:
        given = int(tag["id"]) if tag.get("id") else None
        tag_id = given if given in existing else b.world.ids.next()  # unknown ids get a fresh one
        emoji_id = tag.get("emoji_id")
        new_tags.append(
            ForumTag(
                tag_id,
                tag["name"],
                moderated=bool(tag.get("moderated")),
                emoji_id=int(emoji_id) if emoji_id else None,
                emoji_name=tag.get("emoji_name"),
            )
        )
    forum.available_tags = new_tags
    kept = {t.id for t in new_tags}
    for thread in forum.threads:
        if any(t not in kept for t in thread.applied_tags):
            thread.applied_tags = [t for t in thread.applied_tags if t in kept]
            thread.emit_update()


def _edit_thread(b: Backend, thread: Thread, body: dict[str, Any], perms: int) -> None:
    is_owner = thread.owner_id == b.world.bot_user.id
    manage = has(perms, P.MANAGE_THREADS)
    if thread.archived and body.get("archived") is not False:
        raise err.thread_archived()
    if thread.locked and not manage:
        raise err.thread_archived()
    errors = FormErrors()
    if "name" in body and not 1 <= len(body["name"] or "") <= 100:
        errors.bad_length(["name"], 1, 100)
    if "applied_tags" in body:
        validate_applied_tags(errors, thread.parent, body["applied_tags"] or [], perms, ["applied_tags"])
    errors.raise_if_any()
    owner_fields = {"name", "archived", "auto_archive_duration", "applied_tags"}
    if not manage and (not is_owner or set(body) - owner_fields):
        raise err.missing_permissions()
    if "name" in body:
        thread.name = body["name"]
    if "archived" in body:
        thread.archived = bool(body["archived"])
        thread.archive_timestamp = utcnow()
    for key in ("locked", "auto_archive_duration", "rate_limit_per_user", "flags", "invitable"):
        if key in body:
            setattr(thread, key, body[key])
    if "applied_tags" in body:
        thread.applied_tags = [int(t) for t in body["applied_tags"] or []]


def validate_applied_tags(errors: FormErrors, parent: Channel, applied: list[Any], perms: int, path: list[Any]) -> None:
    """At most 5 tags, each existing in the forum; moderated tags need Manage Threads."""
    if len(applied) > 5:
        errors.max_length(path, 5)
        return
    available = {t.id: t for t in getattr(parent, "available_tags", [])}
    for index, raw in enumerate(applied):
        tag = available.get(int(raw)) if str(raw).isdigit() else None
        if tag is None:
            errors.add([*path, index], "UNKNOWN_TAG", f"Unknown tag: {raw}")
        elif tag.moderated and not has(perms, P.MANAGE_THREADS):
            raise err.missing_permissions()
