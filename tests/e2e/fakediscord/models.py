"""Plain value objects of the fake's state: users, roles, members, messages, files."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import struct
from collections.abc import Iterator
from typing import Any

from .snowflake import utcnow

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
IS_COMPONENTS_V2 = 1 << 15


@dataclasses.dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclasses.dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 1
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclasses.dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    role_ids: list[int]
    joined_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def username(self) -> str:
        return self.user.username


@dataclasses.dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0


@dataclasses.dataclass(eq=False)
class ForumTag:
    id: int
    name: str
    moderated: bool = False
    emoji_id: int | None = None
    emoji_name: str | None = None


@dataclasses.dataclass(eq=False)
class ThreadMember:
    thread_id: int
    user_id: int
    join_timestamp: dt.datetime = dataclasses.field(default_factory=utcnow)
    flags: int = 0


@dataclasses.dataclass(eq=False)
class UploadedFile:
    """A file part of a multipart request (``files[n]``) as the bot sent it."""

    field_name: str
    filename: str
    content_type: str | None
    data: bytes

    def text(self, encoding: str = "utf-8") -> str:
        return self.data.decode(encoding)


@dataclasses.dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False
    title: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def proxy_url(self) -> str:
        return self.url

    def text(self, encoding: str = "utf-8") -> str:
        return self.data.decode(encoding)

    def image_size(self) -> tuple[int, int] | None:
        """(width, height) for PNG files, as Discord reports for images."""
        if self.data[:8] == b"\x89PNG\r\n\x1a\n" and len(self.data) >= 24:
            width, height = struct.unpack(">II", self.data[16:24])
            return int(width), int(height)
        return None


@dataclasses.dataclass(eq=False)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    components: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    attachments: list[Attachment] = dataclasses.field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    nonce: str | None = None
    timestamp: dt.datetime = dataclasses.field(default_factory=utcnow)
    edited_timestamp: dt.datetime | None = None
    pinned: bool = False
    mentions: list[User] = dataclasses.field(default_factory=list)
    mention_roles: list[int] = dataclasses.field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    thread_id: int | None = None
    position: int | None = None
    deleted: bool = False
    reactions: dict[str, set[int]] = dataclasses.field(default_factory=dict)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def jump_url(self) -> str:
        return f"https://discord.com/channels/{self.guild_id or '@me'}/{self.channel_id}/{self.id}"

    def snapshot(self) -> dict[str, Any]:
        """A copy of the editable fields (kept in ``history`` before each edit)."""
        return copy.deepcopy(
            {
                "content": self.content,
                "embeds": self.embeds,
                "components": self.components,
                "flags": self.flags,
                "attachments": [a.filename for a in self.attachments],
            }
        )

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Every component in the tree (rows, sections, containers, leaves)."""
        yield from iter_components(self.components)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        for component in self.iter_components():
            if component.get("custom_id") == custom_id:
                return component
        return None

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.iter_components() if c.get("type") == 2]

    @property
    def embed_titles(self) -> list[str]:
        return [e.get("title", "") for e in self.embeds]


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        children = list(component.get("components", []))
        if "component" in component:
            children.append(component["component"])
        if "accessory" in component:
            children.append(component["accessory"])
        yield from iter_components(children)
