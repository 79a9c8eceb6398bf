"""Builders of Discord's JSON payloads (the shapes the real API and gateway send)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .models import Attachment, ForumTag, Member, Message, Overwrite, Role, ThreadMember, User
from .snowflake import iso

if TYPE_CHECKING:
    from .state import Application, Channel, ForumChannel, Guild, TextChannel, Thread, World


def user(u: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id),
        "username": u.username,
        "global_name": u.global_name,
        "discriminator": "0",
        "avatar": u.avatar,
        "avatar_decoration_data": None,
        "collectibles": None,
        "display_name_styles": None,
        "banner": None,
        "banner_color": None,
        "accent_color": None,
        "clan": None,
        "primary_guild": None,
        "public_flags": 0,
        "flags": 0,
    }
    if u.bot:
        data["bot"] = True
    return data


def member(m: Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r) for r in m.role_ids],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": iso(m.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if with_user:
        data["user"] = user(m.user)
    return data


def role(r: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "description": None,
        "permissions": str(r.permissions),
        "position": r.position,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "managed": r.managed,
        "mentionable": r.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


def overwrite(o: Overwrite) -> dict[str, Any]:
    return {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}


def forum_tag(t: ForumTag) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "name": t.name,
        "moderated": t.moderated,
        "emoji_id": str(t.emoji_id) if t.emoji_id else None,
        "emoji_name": t.emoji_name,
    }


def channel(ch: Channel, *, with_guild_id: bool = True) -> dict[str, Any]:
    """A guild channel (text, category, forum) or a thread."""
    from .state import ForumChannel, TextChannel, Thread

    if isinstance(ch, Thread):
        return thread(ch, with_guild_id=with_guild_id)
    data: dict[str, Any] = {
        "id": str(ch.id),
        "type": ch.type,
        "name": ch.name,
        "position": ch.position,
        "parent_id": str(ch.parent_id) if ch.parent_id else None,
        "permission_overwrites": [overwrite(o) for o in _ordered_overwrites(ch)],
        "flags": ch.flags,
    }
    if with_guild_id:
        data["guild_id"] = str(ch.guild.id)
    if isinstance(ch, TextChannel):
        data |= _text_fields(ch)
    elif isinstance(ch, ForumChannel):
        data |= _forum_fields(ch)
    return data


def _ordered_overwrites(ch: Channel) -> list[Overwrite]:
    # @everyone first, as Discord orders them.
    return sorted(ch.overwrites.values(), key=lambda o: (o.id != ch.guild.id, o.type, o.id))


def _text_fields(ch: TextChannel) -> dict[str, Any]:
    return {
        "topic": ch.topic,
        "nsfw": ch.nsfw,
        "last_message_id": str(ch.last_message_id) if ch.last_message_id else None,
        "last_pin_timestamp": iso(ch.last_pin_timestamp),
        "rate_limit_per_user": ch.rate_limit_per_user,
        "default_auto_archive_duration": ch.default_auto_archive_duration,
        "default_thread_rate_limit_per_user": ch.default_thread_rate_limit_per_user,
        "icon_emoji": None,
        "theme_color": None,
    }


def _forum_fields(ch: ForumChannel) -> dict[str, Any]:
    return {
        "topic": ch.topic,
        "nsfw": ch.nsfw,
        "last_message_id": str(ch.last_message_id) if ch.last_message_id else None,
        "rate_limit_per_user": ch.rate_limit_per_user,
        "available_tags": [forum_tag(t) for t in ch.available_tags],
        "default_reaction_emoji": ch.default_reaction_emoji,
        "default_sort_order": ch.default_sort_order,
        "default_forum_layout": ch.default_forum_layout,
        "default_thread_rate_limit_per_user": ch.default_thread_rate_limit_per_user,
        "default_auto_archive_duration": ch.default_auto_archive_duration,
        "template": "",
        "icon_emoji": None,
        "theme_color": None,
    }


def thread(th: Thread, *, with_guild_id: bool = True, member_for: int | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "archived": th.archived,
        "archive_timestamp": iso(th.archive_timestamp),
        "auto_archive_duration": th.auto_archive_duration,
        "locked": th.locked,
        "create_timestamp": iso(th.create_timestamp),
    }
    if th.private:
        metadata["invitable"] = th.invitable
    data: dict[str, Any] = {
        "id": str(th.id),
        "type": th.type,
        "name": th.name,
        "parent_id": str(th.parent_id),
        "owner_id": str(th.owner_id),
        "last_message_id": str(th.last_message_id) if th.last_message_id else None,
        "rate_limit_per_user": th.rate_limit_per_user,
        "flags": th.flags,
        "message_count": th.message_count,
        "member_count": min(len(th.members), 50),
        "total_message_sent": th.total_message_sent,
        "member_ids_preview": [str(uid) for uid in list(th.members)[:8]],
        "thread_metadata": metadata,
        "applied_tags": [str(t) for t in th.applied_tags],
    }
    if with_guild_id:
        data["guild_id"] = str(th.guild.id)
    if member_for is not None and member_for in th.members:
        data["member"] = thread_member(th.members[member_for])
    return data


def thread_member(tm: ThreadMember, m: Member | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(tm.thread_id),
        "user_id": str(tm.user_id),
        "join_timestamp": iso(tm.join_timestamp),
        "flags": tm.flags,
    }
    if m is not None:
        data["member"] = member(m)
    return data


def thread_members_update(
    th: Thread, *, added: Iterable[ThreadMember] = (), removed: Iterable[int] = ()
) -> dict[str, Any]:
    added_payload = []
    for tm in added:
        guild_member = th.guild.members.get(tm.user_id)
        added_payload.append(thread_member(tm, guild_member) | {"presence": None})
    data: dict[str, Any] = {
        "id": str(th.id),
        "guild_id": str(th.guild.id),
        "member_count": min(len(th.members), 50),
    }
    if added_payload:
        data["added_members"] = added_payload
    removed_ids = [str(r) for r in removed]
    if removed_ids:
        data["removed_member_ids"] = removed_ids
    return data


def attachment(a: Attachment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(a.id),
        "filename": a.filename,
        "size": a.size,
        "url": a.url,
        "proxy_url": a.proxy_url,
        "content_type": a.content_type,
        "flags": 0,
    }
    if a.description is not None:
        data["description"] = a.description
    if a.title is not None:
        data["title"] = a.title
    if a.ephemeral:
        data["ephemeral"] = True
    dims = a.image_size()
    if dims is not None:
        data["width"], data["height"] = dims
        data["placeholder"] = "AAAAAAAAAAAAAAAAAAAAAA=="
        data["placeholder_version"] = 1
    return data


def message(msg: Message, world: World, *, with_member: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "type": msg.type,
        "content": msg.content,
        "author": user(msg.author),
        "attachments": [attachment(a) for a in msg.attachments],
        "embeds": msg.embeds,
        "components": msg.components,
        "mentions": [user(u) for u in msg.mentions],
        "mention_roles": [str(r) for r in msg.mention_roles],
        "mention_everyone": msg.mention_everyone,
        "pinned": msg.pinned,
        "tts": msg.tts,
        "timestamp": iso(msg.timestamp),
        "edited_timestamp": iso(msg.edited_timestamp),
        "flags": msg.flags,
    }
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
    if msg.application_id is not None:
        data["application_id"] = str(msg.application_id)
    if msg.interaction_metadata is not None:
        data["interaction_metadata"] = msg.interaction_metadata
    if msg.position is not None:
        data["position"] = msg.position
    if msg.reactions:
        data["reactions"] = _reactions(msg, world)
    _add_reference(data, msg, world)
    _add_thread(data, msg, world)
    if with_member and msg.guild_id is not None and msg.webhook_id is None:
        guild = world.guilds.get(msg.guild_id)
        author_member = guild.members.get(msg.author.id) if guild else None
        if author_member is not None:
            data["member"] = member(author_member, with_user=False)
        data["guild_id"] = str(msg.guild_id)
    return data


def _reactions(msg: Message, world: World) -> list[dict[str, Any]]:
    return [
        {
            "emoji": {"id": None, "name": emoji},
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": world.bot_user.id in users,
            "me_burst": False,
            "burst_colors": [],
        }
        for emoji, users in msg.reactions.items()
        if users
    ]


def _add_reference(data: dict[str, Any], msg: Message, world: World) -> None:
    if msg.message_reference is None:
        return
    data["message_reference"] = msg.message_reference
    ref_id = msg.message_reference.get("message_id")
    referenced = world.messages.get(int(ref_id)) if ref_id else None
    if msg.type == 19:
        data["referenced_message"] = (
            message(referenced, world) if referenced is not None and not referenced.deleted else None
        )


def _add_thread(data: dict[str, Any], msg: Message, world: World) -> None:
    if msg.thread_id is None:
        return
    th = world.channels.get(msg.thread_id)
    if th is not None:
        data["thread"] = channel(th)


def guild_create(
    g: Guild, world: World, *, include_members: bool, with_guild_id_in_channels: bool = False
) -> dict[str, Any]:
    """GUILD_CREATE: the full guild object with channels, threads, roles and members."""
    members = list(g.members.values()) if include_members else [g.me]
    return guild(g) | {
        "joined_at": iso(g.joined_at),
        "large": False,
        "unavailable": False,
        "member_count": len(g.members),
        "voice_states": [],
        "members": [member(m) for m in members],
        "channels": [channel(c, with_guild_id=with_guild_id_in_channels) for c in g.channels.values()],
        "threads": [thread(t, member_for=world.bot_user.id) for t in g.threads.values() if not t.archived],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "activity_instances": [],
        "application_command_counts": {},
        "lazy": True,
        "version": 0,
    }


def guild(g: Guild) -> dict[str, Any]:
    """The guild object as GET /guilds/{id} returns it."""
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [role(r) for r in sorted(g.roles.values(), key=lambda r: r.position)],
        "emojis": [],
        "stickers": [],
        "features": list(g.features),
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(g.system_channel_id) if g.system_channel_id else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": g.preferred_locale,
        "nsfw_level": 0,
        "nsfw": False,
        "hub_type": None,
        "incidents_data": None,
        "inventory_settings": None,
        "home_header": None,
        "latest_onboarding_question_id": None,
        "region": "deprecated",
    }


def application(app: Application, bot: User) -> dict[str, Any]:
    """GET /oauth2/applications/@me."""
    return {
        "id": str(app.id),
        "name": app.name,
        "icon": None,
        "description": app.description,
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": app.verify_key,
        "flags": app.flags,
        "owner": user(app.owner),
        "team": None,
        "bot": user(bot),
        "rpc_origins": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "event_webhooks_url": None,
        "event_webhooks_status": 1,
        "tags": [],
        "approximate_guild_count": 0,
        "approximate_user_install_count": 0,
        "integration_types_config": {"0": {}, "1": {}},
        "is_monetized": False,
        "is_verified": False,
        "is_discoverable": False,
    }


def current_user(bot: User) -> dict[str, Any]:
    """GET /users/@me for a bot token."""
    return user(bot) | {"bot": True, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}
