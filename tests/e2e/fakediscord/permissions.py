"""Discord permission bits and the permission computation algorithm.

The computation follows the documented algorithm (base permissions from roles,
then channel overwrites: @everyone, roles, member) plus Discord's implicit rules
(no View Channel means nothing; no Send Messages strips embeds, files, mentions).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Member
    from .state import Channel, Guild


class P(enum.IntFlag):
    """Permission bits (names as in Discord's documentation)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52


ALL_PERMISSIONS = P(0)
for _flag in P:
    ALL_PERMISSIONS |= _flag

#: What a fresh guild's @everyone role has (Discord's defaults for a new server).
DEFAULT_EVERYONE = (
    P.CREATE_INSTANT_INVITE
    | P.ADD_REACTIONS
    | P.STREAM
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.USE_EXTERNAL_EMOJIS
    | P.CONNECT
    | P.SPEAK
    | P.USE_VAD
    | P.CHANGE_NICKNAME
    | P.USE_APPLICATION_COMMANDS
    | P.REQUEST_TO_SPEAK
    | P.CREATE_PUBLIC_THREADS
    | P.CREATE_PRIVATE_THREADS
    | P.USE_EXTERNAL_STICKERS
    | P.SEND_MESSAGES_IN_THREADS
    | P.USE_EMBEDDED_ACTIVITIES
    | P.USE_SOUNDBOARD
    | P.USE_EXTERNAL_SOUNDS
    | P.SEND_VOICE_MESSAGES
    | P.SEND_POLLS
    | P.USE_EXTERNAL_APPS
)

#: The bot's managed role by default ("normal bot permissions").
DEFAULT_BOT_PERMISSIONS = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.SEND_MESSAGES_IN_THREADS
    | P.CREATE_PUBLIC_THREADS
    | P.MANAGE_THREADS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.USE_APPLICATION_COMMANDS
)

#: What ``add_member(..., moderator=True)`` grants through a "Moderator" role.
MODERATOR_PERMISSIONS = P.MANAGE_GUILD | P.MANAGE_MESSAGES | P.MANAGE_THREADS | P.KICK_MEMBERS | P.MODERATE_MEMBERS

#: Permissions a member loses when they may not send messages in a channel.
_SEND_DEPENDENT = P.SEND_TTS_MESSAGES | P.MENTION_EVERYONE | P.EMBED_LINKS | P.ATTACH_FILES

#: Channel-scoped bits, all lost without View Channel (same set as discord.py's ``all_channel``).
ALL_CHANNEL = 0b0000_0000_0001_1110_0110_0100_1111_1101_1011_0011_1111_0111_1111_1111_0101_0001


def base_permissions(guild: Guild, member: Member) -> int:
    """Guild-level permissions of ``member`` (roles only, no channel overwrites)."""
    if member.id == guild.owner_id:
        return int(ALL_PERMISSIONS)
    perms = guild.everyone_role.permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & P.ADMINISTRATOR:
        return int(ALL_PERMISSIONS)
    return int(perms)


def channel_permissions(channel: Channel, member: Member) -> int:
    """Permissions of ``member`` in ``channel`` (threads use their parent's overwrites)."""
    guild = channel.guild
    base = base_permissions(guild, member)
    if base & P.ADMINISTRATOR:
        return int(ALL_PERMISSIONS)
    perms = _apply_overwrites(base, member, channel.overwrite_source(), guild.id)
    if not perms & P.VIEW_CHANNEL:
        return int(perms & ~ALL_CHANNEL)
    gate = P.SEND_MESSAGES_IN_THREADS if channel.is_thread() else P.SEND_MESSAGES
    if not perms & gate:
        perms &= ~_SEND_DEPENDENT
    return int(perms)


def _apply_overwrites(base: int, member: Member, channel: Channel, everyone_id: int) -> int:
    perms = base
    everyone = channel.overwrites.get(everyone_id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.role_ids:
        overwrite = channel.overwrites.get(role_id)
        if overwrite is not None and overwrite.type == 0:
            allow |= overwrite.allow
            deny |= overwrite.deny
    perms = (perms & ~deny) | allow
    own = channel.overwrites.get(member.id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    return perms


def has(perms: int, flag: int) -> bool:
    return perms & flag == flag


def names(perms: int) -> list[str]:
    """Readable names of the bits set in ``perms`` (for error messages)."""
    return [flag.name or str(int(flag)) for flag in P if perms & flag]
