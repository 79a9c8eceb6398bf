"""What the bot needs in each configured channel, and which of it is missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import discord

# (permission attribute, how a moderator finds it in Discord's settings)
LABELS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "create_public_threads": "Create Public Threads",
    "manage_threads": "Manage Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
}

ANNOUNCEMENTS_NEED = ("view_channel", "send_messages", "embed_links", "read_message_history")
FORUM_NEEDS = (
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "manage_threads",
    "embed_links",
    "attach_files",
)
TEXT_DISCUSSIONS_NEED = (
    "view_channel",
    "send_messages",
    "create_public_threads",
    "send_messages_in_threads",
    "manage_threads",
    "embed_links",
    "attach_files",
    "read_message_history",
)


@dataclass(frozen=True)
class ChannelCheck:
    role: str  # "announcements" or "discussions"
    channel_id: int
    needs: tuple[str, ...]


def missing(permissions: discord.Permissions, needs: Iterable[str]) -> list[str]:
    return [LABELS[name] for name in needs if not getattr(permissions, name)]


def checks_for(announcement_channel_id: int, discussion_channel_id: int, discussion_kind: str) -> list[ChannelCheck]:
    discussion_needs = FORUM_NEEDS if discussion_kind == "forum" else TEXT_DISCUSSIONS_NEED
    if announcement_channel_id == discussion_channel_id:
        merged = tuple(dict.fromkeys(ANNOUNCEMENTS_NEED + discussion_needs))
        return [ChannelCheck("announcements and discussions", announcement_channel_id, merged)]
    return [
        ChannelCheck("announcements", announcement_channel_id, ANNOUNCEMENTS_NEED),
        ChannelCheck("discussions", discussion_channel_id, discussion_needs),
    ]


def channel_problems(guild: discord.Guild, checks: Iterable[ChannelCheck]) -> list[str]:
    """Human-readable problems the bot can see with its own permissions in the club's channels."""
    problems: list[str] = []
    for check in checks:
        channel = guild.get_channel(check.channel_id)
        if channel is None:
            problems.append(
                f"The {check.role} channel (id {check.channel_id}) no longer exists or I can't see it: "
                "run `/club setup` again with a channel I can use."
            )
            continue
        lacking = missing(channel.permissions_for(guild.me), check.needs)
        if lacking:
            problems.append(
                f"In {channel.mention} ({check.role}) I'm missing: {', '.join(lacking)}. "
                "Grant them to my role in the channel's permissions."
            )
    return problems


def ping_role_problem(guild: discord.Guild, role_id: int | None, announcement_channel_id: int) -> str | None:
    if role_id is None:
        return None
    role = guild.get_role(role_id)
    if role is None:
        return "The ping role no longer exists: run `/club setup` again to pick one (or none)."
    channel = guild.get_channel(announcement_channel_id)
    can_mention_all = channel is not None and channel.permissions_for(guild.me).mention_everyone
    if not role.mentionable and not can_mention_all:
        return (
            f"{role.mention} is not mentionable and I don't have Mention @everyone, @here, and All Roles, "
            "so drops won't ping it: make the role mentionable or grant me that permission."
        )
    return None


def forum_tag_problem(guild: discord.Guild, channel_id: int, spoiler_tag: str = "Spoilers") -> str | None:
    """A forum without a Spoilers tag that the bot can't create (editing tags needs Manage Channels)."""
    forum = guild.get_channel(channel_id)
    if not isinstance(forum, discord.ForumChannel):
        return None
    if any(tag.name.casefold() == spoiler_tag.casefold() for tag in forum.available_tags):
        return None
    if forum.permissions_for(guild.me).manage_channels:
        return None
    return (
        f'{forum.mention} has no "{spoiler_tag}" tag and I can\'t create tags there: create it yourself, or '
        "grant me Manage Channels on that forum (I then also add a tag per show)."
    )
